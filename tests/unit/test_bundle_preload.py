"""A dataset preloaded by the batch's fork server (bundle.preload): its kernels get exactly what reading gives."""

from __future__ import annotations

import threading

import pandas as pd
import pyarrow as pa
import pytest

from kompas_helpers import bundle, model, peers, registry, synthesize
from kompas_helpers.io import datasets


@pytest.fixture
def data(sliced_data):
    return sliced_data


def _inputs(b: bundle.Bundle) -> dict[str, pd.DataFrame]:
    return {name: getattr(b.dataset, name) for name in model.INPUT_TABLES}


def test_a_preloaded_dataset_gives_the_bundle_that_reading_gives(data):
    read = bundle.load(data, kommune_code="101")
    read_inputs = _inputs(read)
    threads = threading.active_count()
    assert bundle.preload(data) is True
    assert threading.active_count() == threads  # no thread started: the fork server must stay fork-safe
    preloaded = bundle._PRELOADED[(str(data.resolve()), read.data_hash)]
    first = bundle.load(data, kommune_code="101")
    pd.testing.assert_frame_equal(first.table, read.table)
    for name, frame in _inputs(first).items():
        pd.testing.assert_frame_equal(frame, read_inputs[name])
        assert frame is not read_inputs[name]
    # Each input table handed out once; the whole measures table is not held (the reports read the measures written
    # with the slices, test below), so the bundle read its own.
    assert set(preloaded.inputs) == {bundle.MEASURES_SLICE}
    # A second bundle in the same process reads its own input tables, as it would without the preload: a notebook
    # that changes one bundle's frame does not change another's.
    first.dataset.measures.iloc[0, 0] = None
    second = bundle.load(data, kommune_code="751")
    pd.testing.assert_frame_equal(second.dataset.measures, read_inputs["measures"])
    pd.testing.assert_frame_equal(second.table, bundle.load(data, kommune_code="751").table)


def test_a_preload_from_slices_written_since_is_not_used(data):
    read = bundle.load(data, kommune_code="101")
    assert bundle.preload(data) is True
    preloaded = bundle._PRELOADED[(str(data.resolve()), read.data_hash)]
    # What the server holds is no longer what the slices' metadata says (they were written again since).
    preloaded.meta = {**preloaded.meta, "table_stamp": [0, 0]}
    preloaded.shared = preloaded.shared.slice(0, 0)
    preloaded.inputs["afdelinger"] = preloaded.inputs["afdelinger"].iloc[:0]
    preloaded.inputs[bundle.MEASURES_SLICE] = preloaded.inputs[bundle.MEASURES_SLICE].iloc[:0]
    again = bundle.load(data, kommune_code="101")
    pd.testing.assert_frame_equal(again.table, read.table)
    pd.testing.assert_frame_equal(again.dataset.afdelinger, read.dataset.afdelinger)
    wanted = registry.READ_BESIDE_TABLE
    pd.testing.assert_frame_equal(again.dataset.measures_of(wanted), read.dataset.measures_of(wanted))


def test_nothing_is_preloaded_without_written_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(bundle, "_PRELOADED", {})
    folder = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), folder)
    assert bundle.preload(folder) is False
    assert bundle.preload(tmp_path / "missing") is False
    assert bundle._PRELOADED == {}


def test_the_preloaded_shared_slice_is_held_as_an_immutable_arrow_table(data):
    assert bundle.preload(data) is True
    (preloaded,) = bundle._PRELOADED.values()
    assert isinstance(preloaded.shared, pa.Table)  # immutable: every bundle of the process may share it


def test_the_run_s_kommuner_get_the_table_reading_gives_each_handed_out_once(data):
    read = {code: bundle.load(data, kommune_code=code).table for code in ("101", "751")}
    assert bundle.preload(data, ["101", "Aarhus", "nowhere"]) is True  # codes or names; an unknown one is skipped
    (preloaded,) = bundle._PRELOADED.values()
    assert set(preloaded.tables) == {"101.parquet", "751.parquet"}
    held = preloaded.tables["101.parquet"]
    first = bundle.load(data, kommune_code="101")
    assert first.table is held
    pd.testing.assert_frame_equal(first.table, read["101"])
    pd.testing.assert_frame_equal(bundle.load(data, kommune_code="Aarhus").table, read["751"])
    # Handed out once: a second bundle of the kommune in the same process is joined anew, not the first one's frame.
    first.table.iloc[0, 0] = None
    again = bundle.load(data, kommune_code="101")
    assert again.table is not first.table
    pd.testing.assert_frame_equal(again.table, read["101"])
    assert preloaded.tables == {}


def test_at_most_the_limit_of_kommuner_is_joined_in_advance(data, monkeypatch):
    monkeypatch.setattr(bundle, "PRELOAD_KOMMUNER_UP_TO", 1)
    assert bundle.preload(data, ["751", "101"]) is True
    (preloaded,) = bundle._PRELOADED.values()
    assert set(preloaded.tables) == {"751.parquet"}


def test_the_peer_groups_made_in_advance_are_those_a_bundle_would_make(data):
    made_here = peers.peer_groups(_full(data))
    assert bundle.preload(data) is True
    b = bundle.load(data, kommune_code="101")
    (preloaded,) = bundle._PRELOADED.values()
    assert b.dataset.made_in_advance[peers.MADE_IN_ADVANCE] is preloaded.made[peers.MADE_IN_ADVANCE]
    groups = peers.peer_groups_of(b)
    assert groups is preloaded.made[peers.MADE_IN_ADVANCE]  # taken, not made again
    assert groups == made_here
    # Making them took none of the kernels' input tables (all but the whole measures table, which is not held).
    assert set(preloaded.inputs) == {*model.INPUT_TABLES, bundle.MEASURES_SLICE} - {"measures"}


def _full(folder) -> model.Dataset:
    return datasets.load_dataset(folder)


@pytest.mark.parametrize(
    "names", [registry.READ_BESIDE_TABLE, registry.READ_BESIDE_TABLE[:1], ("dwellings", "efficiency_index")]
)
def test_the_measures_a_report_reads_are_those_of_the_whole_measures_table(data, names):
    expected = _full(data).measures_of(names)
    assert len(expected) > 0
    b = bundle.load(data, kommune_code="101")
    pd.testing.assert_frame_equal(b.dataset.measures_of(names), expected)
    # Those written with the slices come without reading the whole measures table; any other reads it.
    assert ("measures" in vars(b.dataset)) == (not set(names) <= set(registry.READ_BESIDE_TABLE))


def test_a_preloaded_server_holds_the_measures_reports_read_not_the_whole_table(data):
    expected = _full(data).measures_of(registry.READ_BESIDE_TABLE)
    assert bundle.preload(data, ["101"]) is True
    (preloaded,) = bundle._PRELOADED.values()
    assert "measures" not in preloaded.inputs
    held = preloaded.inputs[bundle.MEASURES_SLICE]
    first = bundle.load(data, kommune_code="101")
    assert first.dataset.measures_of(registry.READ_BESIDE_TABLE) is held
    pd.testing.assert_frame_equal(held, expected)
    # Handed out once, as the input tables are: a second bundle reads its own from the slices.
    second = bundle.load(data, kommune_code="751").dataset.measures_of(registry.READ_BESIDE_TABLE)
    assert second is not held
    pd.testing.assert_frame_equal(second, expected)


def test_slices_without_the_measures_file_give_the_measures_from_the_whole_table(data):
    target = bundle.slices_dir(bundle.dataset_hash(data))
    (target / bundle.MEASURES_SLICE).unlink()
    b = bundle.load(data, kommune_code="101")
    pd.testing.assert_frame_equal(
        b.dataset.measures_of(registry.READ_BESIDE_TABLE), _full(data).measures_of(registry.READ_BESIDE_TABLE)
    )
    assert "measures" in vars(b.dataset)
    assert bundle.preload(data) is True  # and a server preloads what there is
    (preloaded,) = bundle._PRELOADED.values()
    assert bundle.MEASURES_SLICE not in preloaded.inputs
    again = bundle.load(data, kommune_code="751").dataset.measures_of(registry.READ_BESIDE_TABLE)
    pd.testing.assert_frame_equal(again, _full(data).measures_of(registry.READ_BESIDE_TABLE))


def test_the_peer_groups_written_with_the_slices_are_those_the_dataset_makes(data):
    written = (bundle.slices_dir(bundle.dataset_hash(data)) / bundle.PEERS_SLICE).read_text(encoding="utf-8")
    assert peers.from_json(written) == peers.peer_groups(_full(data))
    assert len(peers.from_json(written).kommune) == 98 and peers.from_json(written).organisation


def test_the_user_s_own_peer_groups_are_in_those_written_with_the_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_DIR", tmp_path / "cache")
    folder = tmp_path / "data"
    datasets.save_dataset(synthesize.synthesize(seed=7, scale=0.02), folder)
    (folder / "peer_groups.csv").write_text("level;unit_id;peer_id\nkommune;0101;751\n", encoding="utf-8")
    bundle.write_slices(folder)
    b = bundle.load(folder, kommune_code="147")
    assert peers.peer_groups_of(b).of("kommune", "101") == ("751",)
    assert peers.peer_groups_of(b) == peers.peer_groups(_full(folder))


def test_a_sliced_bundle_and_a_preload_take_the_peer_groups_written_with_the_slices(data, monkeypatch):
    expected = peers.peer_groups(_full(data))

    def not_again(dataset):
        raise AssertionError("the peer groups were made again")

    monkeypatch.setattr(peers, "peer_groups", not_again)
    assert peers.peer_groups_of(bundle.load(data, kommune_code="101")) == expected
    assert peers.peer_groups_of(bundle.load(data, organisation_id=_an_organisation(data))) == expected
    assert bundle.preload(data, ["751"]) is True
    (preloaded,) = bundle._PRELOADED.values()
    assert preloaded.made[peers.MADE_IN_ADVANCE] == expected
    assert peers.peer_groups_of(bundle.load(data, kommune_code="751")) is preloaded.made[peers.MADE_IN_ADVANCE]


@pytest.mark.parametrize("damage", ["missing", "not JSON", "not groups"])
def test_slices_without_a_readable_peer_groups_file_make_them_from_the_dataset(data, damage):
    expected = peers.peer_groups(_full(data))
    path = bundle.slices_dir(bundle.dataset_hash(data)) / bundle.PEERS_SLICE
    if damage == "missing":
        path.unlink()
    else:
        path.write_text('{"kommune": ' if damage == "not JSON" else '{"kommuner": {}}', encoding="utf-8")
    b = bundle.load(data, kommune_code="101")
    assert peers.MADE_IN_ADVANCE not in b.dataset.made_in_advance
    assert peers.peer_groups_of(b) == expected
    assert bundle.preload(data) is True  # and a server makes them itself
    (preloaded,) = bundle._PRELOADED.values()
    assert preloaded.made[peers.MADE_IN_ADVANCE] == expected


def _an_organisation(folder) -> str:
    return str(_full(folder).organisations["organisation_id"].iloc[0])
