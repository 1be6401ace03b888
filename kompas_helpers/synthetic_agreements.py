"""The synthetic dataset's agreements (aftaler): 2–4 per organisation, half tied to an indicator, half free text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kompas_helpers import fmt, model, registry

YEARS_MADE = (2021, 2024)  # first and last year an agreement is made
DEADLINES = (2024, 2027)  # first and last deadline year
PER_ORGANISATION = (2, 4)
TIED_SHARE = 0.5
FREE_TEXT_DEADLINE_SHARE = 0.4
ROOM_AT_TOP = 95.0  # a share (%) at or above this leaves too little to agree on improving

# The indicators agreements are made about, their weight in the draw, and the sentence that states the agreement
# ({b} baseline, {t} target, {d} deadline). Never a context indicator, and never one under a discretion rule (S1,
# S4, G1, G2): the agreement's text states its baseline, which the tables may hold back (secondary suppression
# cannot be foreseen without computing the table).
# fmt: off
TIED_TEXTS = {
    "E1": (3, "Varmeforbruget i afdelingerne sænkes fra {b} til {t} senest i {d}."),
    "E2": (1, "Klimaaftrykket fra varme og fællesel i afdelingerne sænkes fra {b} til {t} senest i {d}."),
    "E3": (3, "Andelen af boliger med energimærke A–C hæves fra {b} til {t} senest i {d}."),
    "E5": (1, "Andelen af udearealerne, der plejes for biodiversitet, hæves fra {b} til {t} senest i {d}."),
    "E6": (1, "Mængden af restaffald pr. bolig sænkes fra {b} til {t} senest i {d}."),
    "S7": (1, "Antallet af sociale arrangementer i afdelingerne hæves fra {b} til {t} senest i {d}."),
    "G3": (1, "Tabet ved lejeledighed sænkes fra {b} til {t} senest i {d}."),
    "G4": (2, "Flere af politikkerne på tjeklisten vedtages og offentliggøres: fra {b} til {t} senest i {d}."),
    "G5": (2, "Andelen af bygge- og servicekontrakter med uddannelsesklausul hæves fra {b} til {t} senest i {d}."),
    "G6": (1, "Andelen af opfyldte punkter for regeloverholdelse hæves fra {b} til {t} senest i {d}."),
}
FREE_TEXTS = (
    "Boligorganisationen udarbejder en plan for energirenovering af afdelinger med energimærke E–G.",
    "Der afholdes et fælles møde om boligsocial indsats.",
    "Boligorganisationen redegør for status på helhedsplanen ved næste styringsdialogmøde.",
    "Kommunen og boligorganisationen aftaler en fælles praksis for anvisning af ledige boliger.",
    "Boligorganisationen undersøger mulighederne for digital afstemning på afdelingsmøderne.",
    "Der udarbejdes en plan for afdelingernes udearealer med fokus på biodiversitet.",
    "Boligorganisationen gennemgår afdelingernes langtidsbudgetter og henlæggelser.",
    "Boligorganisationen og kommunen mødes om klimatilpasning og sikring mod skybrud.",
    "Boligorganisationen orienterer om udlejningssituationen og tomgang i afdelingerne.",
    "Der nedsættes en fælles arbejdsgruppe om tryghed i boligområderne.",
    "Boligorganisationen fremlægger en strategi for bedre affaldssortering i afdelingerne.",
    "Boligorganisationen deltager i kommunens netværk om uddannelsesklausuler.",
    "Kommunen og boligorganisationen evaluerer samarbejdet om de boligsociale anvisninger.",
    "Boligorganisationen offentliggør sin whistleblowerordning og sine etiske retningslinjer.",
)
# fmt: on
# Improvement aimed at per year of the agreement: percentage points for shares, a relative change otherwise.
POINTS_PER_YEAR = (0.5, 3.0)
RELATIVE_PER_YEAR = (0.005, 0.03)


def agreements(
    organisations: pd.DataFrame, afdelinger: pd.DataFrame, measures: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """The aftaler table for canonical organisations, afdelinger and measures, drawn from its own generator."""
    baselines = _baselines(organisations, afdelinger, measures)
    codes = list(TIED_TEXTS)
    weights = np.array([TIED_TEXTS[c][0] for c in codes], dtype=float)
    rows = []
    for organisation, kommune in zip(
        organisations["organisation_id"], organisations["hjemsted_kommune_code"], strict=True
    ):
        count = int(rng.integers(PER_ORGANISATION[0], PER_ORGANISATION[1] + 1))
        made = np.sort(rng.integers(YEARS_MADE[0], YEARS_MADE[1] + 1, size=count))
        tied = rng.random(count) < TIED_SHARE
        order = rng.choice(len(codes), size=len(codes), replace=False, p=weights / weights.sum())
        free = rng.permutation(len(FREE_TEXTS))
        used: set[str] = set()
        for i, year in enumerate(made):
            year = int(year)
            deadline = int(np.clip(year + rng.integers(2, 5), *DEADLINES))
            agreement_id = f"{year}-{int((made[:i] == year).sum()) + 1}"
            code = _pick(baselines, [codes[j] for j in order], used, organisation, year) if tied[i] else None
            if code is None:
                with_deadline = rng.random() < FREE_TEXT_DEADLINE_SHARE
                text = FREE_TEXTS[free[i]]
                rows.append((kommune, organisation, agreement_id, year, text, None, np.nan, np.nan,
                             deadline if with_deadline else None))  # fmt: skip
                continue
            used.add(code)
            baseline = baselines[code][(organisation, year)]
            target = _target(registry.INDICATORS[code], baseline, deadline - year, rng)
            text = _tied_text(code, baseline, target, deadline)
            rows.append((kommune, organisation, agreement_id, year, text, code, baseline, target, deadline))
    frame = pd.DataFrame(rows, columns=model.AFTALER.column_names)
    return model.canonicalise(model.AFTALER, frame)


def _pick(baselines: dict, codes: list[str], used: set[str], organisation: str, year: int) -> str | None:
    """The first indicator (in the organisation's drawn order) not yet agreed on that has a baseline that year."""
    for code in codes:
        if code not in used and (organisation, year) in baselines[code]:
            return code
    return None


def _baselines(organisations: pd.DataFrame, afdelinger: pd.DataFrame, measures: pd.DataFrame) -> dict:
    """Per indicator: (organisation, year) -> value as the reports show it, for the level the agreement is judged
    on (agreements.py): the organisation's afdelinger in its tilsynskommune, or the organisation itself.

    Ratio of sums over the units with both numerator and denominator reported, as compute.py does, times the scale.
    """
    wide = measures.pivot(index=["unit_id", "year"], columns="measure", values="value")
    home = afdelinger.merge(
        organisations[["organisation_id", "hjemsted_kommune_code"]], on="organisation_id", validate="many_to_one"
    )
    home = home[home["kommune_code"] == home["hjemsted_kommune_code"]].set_index("afdeling_id")
    out = {}
    for code in TIED_TEXTS:
        indicator = registry.INDICATORS[code]
        if indicator.level == "afdeling":
            units = wide[wide.index.get_level_values("unit_id").isin(home.index)].reset_index()
            units["organisation_id"] = units["unit_id"].map(home["organisation_id"])
        else:
            units = wide.reset_index()
            units = units[units["unit_id"].isin(organisations["organisation_id"])].assign(
                organisation_id=lambda f: f["unit_id"]
            )
        values = {}
        for name in (indicator.numerator, indicator.denominator):
            if registry.MEASURES[name].source == "afdeling":
                values[name] = units["unit_id"].map(home[name]).to_numpy(dtype=float)
            else:
                values[name] = units[name].to_numpy(dtype=float) if name in units else np.full(len(units), np.nan)
        num, den = values[indicator.numerator], values[indicator.denominator]
        reported = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
        frame = pd.DataFrame(
            {
                "organisation_id": units["organisation_id"].to_numpy(),
                "year": units["year"].to_numpy(),
                "num": np.where(reported, num, 0.0),
                "den": np.where(reported, den, 0.0),
            }
        )
        sums = frame.groupby(["organisation_id", "year"]).sum()
        keep = sums["den"] > 0
        value = (sums.loc[keep, "num"] / sums.loc[keep, "den"] * indicator.scale).round(indicator.decimals)
        if indicator.unit == "%":  # no agreement to improve a share that is nearly as good as it gets
            value = value[value < ROOM_AT_TOP] if indicator.direction == "higher_better" else value[value > 1]
        out[code] = {(str(o), int(y)): float(v) for (o, y), v in value.items()}
    return out


def _target(indicator: registry.Indicator, baseline: float, years: int, rng: np.random.Generator) -> float:
    """A plausible improvement on the baseline in the indicator's direction over the agreement's years."""
    sign = 1 if indicator.direction == "higher_better" else -1
    if indicator.unit == "%":
        step = rng.uniform(*POINTS_PER_YEAR) * years
        target = min(100.0, max(0.0, baseline + sign * step))
    else:
        target = baseline * (1 + sign * rng.uniform(*RELATIVE_PER_YEAR) * years)
    return float(round(target, indicator.decimals))


def _tied_text(code: str, baseline: float, target: float, deadline: int) -> str:
    indicator = registry.INDICATORS[code]

    def shown(value: float) -> str:
        return fmt.with_unit(value, indicator.unit, indicator.decimals)

    return TIED_TEXTS[code][1].format(b=shown(baseline), t=shown(target), d=deadline)
