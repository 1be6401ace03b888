"""Intervals, peer groups and verdicts, each against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompas_helpers import comparison, paths, peers, registry, uncertainty
from kompas_helpers.registry import LEVELS, STATUSES, VERDICTS

# --- intervals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # p = 0.62, n = 100: centre (0.62 + 1.92/100) / 1.0384 = 0.6156, half 1.96·√(0.002356 + 0.000096)/1.0384
        (62, 100, 0.52210, 0.70902),
        (0, 10, 0.0, 0.27753),  # no successes: the lower bound is 0, the upper 3.84/13.84
        (10, 10, 0.72247, 1.0),
        (80, 104, 0.67954, 0.83974),  # E3 in the hand-made København: 80 of 104 dwellings
    ],
)
def test_wilson_interval(successes, n, low, high):
    got = uncertainty.wilson(successes, n)
    assert got[0] == pytest.approx(low, abs=1e-5)
    assert got[1] == pytest.approx(high, abs=1e-5)


def test_wilson_needs_a_positive_n():
    assert np.isnan(uncertainty.wilson(0, 0)).all()


def test_ratio_over_units_by_hand():
    # Units y = (1, 2, 1), x = (1, 1, 1): R = 4/3; residuals −1/3, 2/3, −1/3; Σ² = 2/3; Var = 3/2 · (2/3) / 9 = 1/9;
    # t(2) = 4.303 → half 4.303/3 = 1.4343.
    low, high = uncertainty.ratio_over_units(4, 3, 1 + 4 + 1, 3, 1 + 2 + 1, 3)
    assert low == 0.0  # 4/3 − 1.4343 < 0: a quantity is never negative
    assert high == pytest.approx(4 / 3 + 4.303 / 3, abs=1e-9)
    # Identical ratios in every unit: no spread, no width.
    assert uncertainty.ratio_over_units(60, 6, 1400, 14, 140, 3) == (pytest.approx(10.0), pytest.approx(10.0))
    # One unit: no interval can be said.
    assert np.isnan(uncertainty.ratio_over_units(30, 10, 900, 100, 300, 1)).all()


def test_index_interval_assumes_the_documented_spread():
    low, high = uncertainty.index_mean(7500, 100)
    half = 1.959963984540054 * registry.INDEX_SD / 10
    assert (low, high) == (pytest.approx(75 - half), pytest.approx(75 + half))


def test_t_quantiles():
    assert uncertainty.t_quantile([0, 1, 2, 30, 31]).tolist()[1:] == [12.706, 4.303, 2.042, uncertainty.Z95]
    assert np.isnan(uncertainty.t_quantile([0])[0])


def test_every_indicator_documents_its_interval():
    for i in registry.INDICATORS.values():
        assert i.interval in ("wilson", "units", "index", "none")
        assert uncertainty.method_da(i)
        if i.interval == "wilson":  # a share: numerator counted within the denominator
            assert i.scale == 100.0 and registry.MEASURES[i.denominator].integer


# --- peer groups --------------------------------------------------------------------------------------------------


def test_nearest_on_standardised_facts():
    # Two clusters on two facts with very different scales; standardising lets both count.
    facts = pd.DataFrame(
        {"size": [1000, 1100, 1050, 9000, 9100], "share": [0.10, 0.12, 0.11, 0.50, 0.52]},
        index=["a", "b", "c", "d", "e"],
    )
    groups = peers.nearest(facts, size=2)
    assert groups["a"] == ("c", "b")
    assert groups["d"] == ("e", "b")  # b lies a little nearer the big ones than c on both facts
    assert all(unit not in members for unit, members in groups.items())


def test_ties_are_broken_by_code_and_the_groups_do_not_depend_on_row_order():
    facts = pd.DataFrame({"x": [0.0, 1.0, 1.0, -1.0]}, index=["k", "b", "a", "c"])
    assert peers.nearest(facts, size=3)["k"] == ("a", "b", "c")
    assert peers.nearest(facts.iloc[::-1], size=3) == peers.nearest(facts, size=3)


def test_kommune_facts_are_structural(tmp_path):
    from tests.fixtures import handmade

    facts = peers.kommune_facts(handmade.dataset())
    assert list(facts.columns) == list(peers.KOMMUNE_FACTS_DA)
    # København: O1-001 (100 dwellings, 1970) and O2-002 (4 dwellings, 1950) → 1969.2; all dwellings 520.
    assert facts.loc["101", "year_built"] == pytest.approx((100 * 1970 + 4 * 1950) / 104)
    assert facts.loc["101", "almene_share"] == pytest.approx(104 / 520)


# --- verdicts -----------------------------------------------------------------------------------------------------


def _columns(value, low, high, national, *, status="reported", n_units=10, coverage=0.9):
    """One kommune row and one national row, as compute hands them to comparison."""
    level = np.array([LEVELS.index("kommune"), LEVELS.index("national")], dtype="int8")
    return {
        "level": level,
        "year": np.array([2025, 2025]),
        "value": np.array([value, national], dtype=float),
        "status": np.array([STATUSES.index(status), STATUSES.index("reported")], dtype="int8"),
        "interval_low": np.array([low, np.nan]),
        "interval_high": np.array([high, np.nan]),
        "n_units": np.array([n_units, 100]),
        "coverage": np.array([coverage, 1.0]),
    }


@pytest.mark.parametrize(
    ("code", "kwargs", "expected"),
    [
        ("E3", {"value": 70, "low": 65, "high": 75, "national": 80}, "worse"),  # higher is better, country above
        ("E3", {"value": 90, "low": 85, "high": 95, "national": 80}, "better"),
        ("E3", {"value": 78, "low": 72, "high": 84, "national": 80}, "as_expected"),
        ("E3", {"value": 75, "low": 72, "high": 80, "national": 80}, "as_expected"),  # on the edge: inside
        ("E1", {"value": 130, "low": 120, "high": 140, "national": 110}, "worse"),  # lower is better
        ("E1", {"value": 100, "low": 95, "high": 105, "national": 110}, "better"),
        ("E1", {"value": 100, "low": 95, "high": 105, "national": 110, "n_units": 2}, "too_few"),
        ("E1", {"value": 100, "low": 95, "high": 105, "national": 110, "coverage": 0.49}, "too_few"),
        ("E1", {"value": 100, "low": np.nan, "high": np.nan, "national": 110}, "too_few"),
        ("E4", {"value": 20, "low": 15, "high": 25, "national": 5}, "context"),
        ("S2", {"value": 20, "low": np.nan, "high": np.nan, "national": 5}, "context"),
        ("E1", {"value": np.nan, "low": np.nan, "high": np.nan, "national": 110, "status": "suppressed"}, "not_judged"),
        # An organisation-level indicator is measured on the organisation itself: one unit is enough.
        ("G4", {"value": 50, "low": 30, "high": 70, "national": 80, "n_units": 1}, "worse"),
    ],
)
def test_verdict_rule(code, kwargs, expected):
    columns = _columns(**kwargs)
    verdicts = comparison._verdicts(columns, registry.get(code))
    assert VERDICTS[verdicts[0]] == expected
    assert verdicts[1] == -1  # the national row gets no verdict


def test_data_readme_describes_every_indicators_interval_and_the_current_thresholds():
    readme = (paths.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert uncertainty.interval_catalogue_markdown() in readme, "paste uncertainty.interval_catalogue_markdown()"
    assert f"the {peers.PEER_SIZE} other kommuner nearest" in readme
    assert f"coverage is below {registry.MIN_COVERAGE_FOR_VERDICT:.0%}" in readme.replace(" %", "%")
    assert f"fewer than {registry.MIN_UNITS_FOR_VERDICT} afdelinger" in readme


# --- a user's own peer groups -------------------------------------------------------------------------------------


def _save_with_peer_file(tmp_path, text: str):
    from kompas_helpers.io import datasets
    from tests.fixtures import handmade

    folder = tmp_path / "data"
    datasets.save_dataset(handmade.dataset(handmade.all_2024()), folder)
    (folder / "peer_groups.csv").write_text(text, encoding="utf-8")
    return folder


def test_a_peer_file_replaces_the_computed_groups_and_the_table_uses_it(tmp_path, monkeypatch):
    from kompas_helpers import bundle
    from kompas_helpers.io import datasets

    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    folder = _save_with_peer_file(tmp_path, "level;unit_id;peer_id\nkommune;0101;751\norganisation;O1;O2\n")
    dataset = datasets.load_dataset(folder)
    assert dataset.peer_groups == {"kommune": {"101": ("751",)}, "organisation": {"O1": ("O2",)}}
    groups = peers.peer_groups(dataset)
    assert groups.of("kommune", "101") == ("751",)  # from the file
    assert groups.of("kommune", "147") == ("101", "751")  # computed, as the file says nothing about it
    table = bundle.load(folder).table
    e3 = table[(table["indicator"] == "E3") & (table["year"] == 2024) & (table["level"] == "kommune")]
    # København's peer value is now Aarhus alone: 200 of 200 dwellings with label A–C.
    assert e3.set_index(e3["kommune_code"].astype(str)).loc["101", "peer_value"] == pytest.approx(100.0)
    before = bundle.dataset_hash(folder)
    (folder / "peer_groups.csv").write_text("level,unit_id,peer_id\nkommune,101,147\n", encoding="utf-8")
    assert bundle.dataset_hash(folder) != before  # a changed peer file gives a new table


def test_a_bad_peer_file_names_every_problem_with_file_row_and_column(tmp_path):
    from kompas_helpers.io import datasets
    from kompas_helpers.io.problems import DataError

    text = (
        "level,unit_id,peer_id\nregion,101,147\nkommune,101,999\nkommune,101,101\norganisation,O1,OX\nkommune,101,999\n"
    )
    folder = _save_with_peer_file(tmp_path, text)
    with pytest.raises(DataError) as caught:
        datasets.load_dataset(folder)
    messages = [p.message() for p in caught.value.problems]
    assert (
        messages[0]
        == 'peer_groups.csv, række 2, kolonne "level": værdien "region" skal være kommune eller organisation'
    )
    assert 'peer_groups.csv, række 3, kolonne "peer_id": værdien "999" er ikke en kendt kommunekode' in messages
    assert 'peer_groups.csv, række 4, kolonne "peer_id": værdien "101" er enheden selv' in messages
    assert (
        'peer_groups.csv, række 5, kolonne "peer_id": værdien "OX" er ikke en kendt boligorganisation i datasættet'
        in messages
    )
    assert 'peer_groups.csv, række 6, kolonne "peer_id": værdien "999" står to gange i samme gruppe' in messages


def test_a_peer_file_without_its_columns_is_refused(tmp_path):
    from kompas_helpers.io import datasets
    from kompas_helpers.io.problems import DataError

    folder = _save_with_peer_file(tmp_path, "kommune,peer\n101,147\n")
    with pytest.raises(DataError, match="peer_groups.csv: filen mangler kolonnen level, unit_id, peer_id"):
        datasets.load_dataset(folder)


def test_rank_range_from_the_interval():
    others = [10.0, 20.0, 30.0, 40.0]
    # Higher is better: with 25–35 a figure lies behind 40 at best (rank 2) and behind 30 and 40 at worst (rank 3).
    assert comparison.rank_range(25.0, 35.0, others, "higher_better") == (2, 3)
    # Lower is better: 15–45 could lie ahead of all but 10 (rank 2) or behind all of them (rank 5).
    assert comparison.rank_range(15.0, 45.0, others, "lower_better") == (2, 5)
    assert comparison.rank_range(np.nan, np.nan, others, "lower_better") is None


def test_rank_range_of_a_figure_at_the_top_is_not_pushed_behind_its_ties_by_rounding():
    # A kommune at 100 % whose Wilson upper bound comes out as 99.99999999999999 %, among 51 others at 100 %:
    # it shares rank 1 with them, so its best possible rank is 1, not 52; at its lower end 97 % only those 51 lie ahead.
    others = [100.0] * 51 + [95.0] * 14 + [80.0] * 10
    high = 99.99999999999999
    assert comparison.rank_range(97.0, high, others, "higher_better") == (1, 52)
    assert comparison.rank_range(97.0, high, others, "higher_better", rank=1.0) == (1, 52)
    # The same on the lower-is-better side: a bound a rounding error above 0 %.
    assert comparison.rank_range(1e-15, 2.0, [0.0] * 3 + [5.0], "lower_better") == (1, 4)


def test_rank_range_always_holds_the_figures_own_rank():
    # An interval that does not hold its estimate (possible for a computed bound) still shows the rank itself.
    assert comparison.rank_range(30.0, 35.0, [10.0, 20.0, 40.0], "higher_better", rank=4.0) == (2, 4)


def test_the_ranking_table_shows_ranks_with_their_range_and_no_rank_without_enough_data():
    from kompas_helpers import bundle
    from kompas_helpers.report import ranking

    b = bundle.load()
    table = ranking.kommune_ranking_table(b, "E1", 2025)
    laesoe = table[table["Kommune"] == "Læsø"].iloc[0]
    assert laesoe["Nr."] == "" and laesoe["Vurdering"] == "for få data"
    ranked = table[table["Nr."] != ""]
    assert ranked["Nr."].str.match(r"^\d+( \(\d+–\d+\))?$").all()
    assert {"95 %-interval", "Vurdering"} <= set(table.columns)
