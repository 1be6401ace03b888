"""Peer groups (sammenligningsgrupper): for every kommune and organisation a fixed group of similar ones.

Similar means close on structural facts only, never on the indicators: for a kommune the size of its almene stock,
the almene share of all dwellings, the size of the kommune (all dwellings, a proxy for how urban it is), the
dwellings' building year and their share heated by district heating; for an organisation (its «tvillinger») its
size, building year, share of family dwellings and share heated by district heating. Each fact is standardised
(mean 0, standard deviation 1 over all kommuner or organisations) and the group is the PEER_SIZE nearest others by
Euclidean distance, ties broken by code. The facts do not change from year to year (dwellings_total is averaged
over the years), so the groups stay the same in every year of a dataset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kompas_helpers import cuts
from kompas_helpers.model import Dataset

PEER_SIZE = 7
_CHUNK = 512
KOMMUNE_FACTS_DA = {
    "log_almene": "antal almene boliger (logaritme)",
    "almene_share": "almene boligers andel af alle boliger",
    "log_all": "antal boliger i alt (logaritme)",
    "year_built": "boligernes gennemsnitlige byggeår",
    "district_heating": "andel boliger med fjernvarme",
}
ORGANISATION_FACTS_DA = {
    "log_dwellings": "antal boliger (logaritme)",
    "year_built": "boligernes gennemsnitlige byggeår",
    "family": "andel familieboliger",
    "district_heating": "andel boliger med fjernvarme",
}


@dataclass(frozen=True)
class PeerGroups:
    """The members of each unit's group (the unit itself not included), per level."""

    kommune: dict[str, tuple[str, ...]] = field(default_factory=dict)
    organisation: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, level: str, unit_id: str) -> tuple[str, ...]:
        return getattr(self, level).get(str(unit_id), ())


def group_id(level: str, unit_id: str) -> str:
    """The id of a unit's peer group in the indicator table, e.g. 'kommune:751'."""
    return f"{level}:{unit_id}"


def _weighted(afd: pd.DataFrame, by: str) -> pd.DataFrame:
    """Dwelling-weighted building year and shares of district heating and family dwellings per `by`."""
    w = afd["dwellings"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            by: afd[by].astype(str).to_numpy(),
            "dwellings": w,
            "year_w": w * afd["year_built"].to_numpy(dtype=float),
            "heat_w": w * (afd["heating"].astype(str) == "fjernvarme").to_numpy(dtype=float),
            "family_w": w * (afd["housing_type"].astype(str) == "familie").to_numpy(dtype=float),
        }
    )
    g = frame.groupby(by).sum()
    return pd.DataFrame(
        {
            "dwellings": g["dwellings"],
            "year_built": g["year_w"] / g["dwellings"],
            "district_heating": g["heat_w"] / g["dwellings"],
            "family": g["family_w"] / g["dwellings"],
        }
    )


def kommune_facts(dataset: Dataset) -> pd.DataFrame:
    """The structural facts of every kommune with almene afdelinger, indexed by kommune code."""
    w = _weighted(dataset.afdelinger, "kommune_code")
    ctx = dataset.kommune_context
    all_dwellings = ctx.groupby(ctx["kommune_code"].astype(str))["dwellings_total"].mean().reindex(w.index)
    return pd.DataFrame(
        {
            "log_almene": np.log(w["dwellings"]),
            "almene_share": w["dwellings"] / all_dwellings,
            "log_all": np.log(all_dwellings),
            "year_built": w["year_built"],
            "district_heating": w["district_heating"],
        }
    ).dropna()


def organisation_facts(dataset: Dataset) -> pd.DataFrame:
    """The structural facts of every organisation with afdelinger, indexed by organisation id."""
    w = _weighted(dataset.afdelinger, "organisation_id")
    return pd.DataFrame(
        {
            "log_dwellings": np.log(w["dwellings"]),
            "year_built": w["year_built"],
            "family": w["family"],
            "district_heating": w["district_heating"],
        }
    ).dropna()


def nearest(facts: pd.DataFrame, size: int = PEER_SIZE) -> dict[str, tuple[str, ...]]:
    """For each row, the `size` nearest other rows on standardised facts (ties broken by the index, ascending)."""
    facts = facts.sort_index()
    if len(facts) < 2:
        return {}
    values = facts.to_numpy(dtype=float)
    spread = values.std(axis=0)
    z = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    ids = facts.index.astype(str).to_numpy()
    take = min(size, len(ids) - 1)
    groups = {}
    for start in range(0, len(ids), _CHUNK):  # in slices, so memory stays small for tens of thousands of units
        stop = min(start + _CHUNK, len(ids))
        distance = np.sqrt(((z[start:stop, None, :] - z[None, :, :]) ** 2).sum(axis=2))
        distance[np.arange(stop - start), np.arange(start, stop)] = np.inf
        # A stable sort on distance keeps the index order among equal distances.
        order = np.argsort(distance, axis=1, kind="stable")[:, :take]
        groups.update({ids[start + i]: tuple(ids[order[i]]) for i in range(stop - start)})
    return groups


def peer_groups(dataset: Dataset) -> PeerGroups:
    """The peer groups of a dataset's kommuner and organisations: computed, then replaced unit by unit by the groups
    a user wrote in the dataset folder's peer_groups.csv (documented in data/README.md)."""
    own = getattr(dataset, "peer_groups", None) or {}
    kommune = {**nearest(kommune_facts(dataset)), **own.get("kommune", {})}
    organisation = {**nearest(organisation_facts(dataset)), **own.get("organisation", {})}
    return PeerGroups(kommune, organisation)


def as_json(groups: PeerGroups) -> str:
    """The groups as JSON ({"kommune": {code: [members]}, "organisation": {...}}), for `from_json`."""
    return json.dumps({"kommune": groups.kommune, "organisation": groups.organisation}, ensure_ascii=False)


def from_json(text: str) -> PeerGroups:
    """The groups `as_json` wrote: equal to those it was given."""
    found = json.loads(text)
    return PeerGroups(
        {str(k): tuple(map(str, v)) for k, v in found["kommune"].items()},
        {str(k): tuple(map(str, v)) for k, v in found["organisation"].items()},
    )


# The key of the peer groups among what is made from a dataset alone, once: written with the table's slices
# (bundle.write_slices) and read from there, or made by a batch's fork server before it forks the kernels
# (bundle.preload). Each report then finds them made instead of making them again (about 40 ms each).
MADE_IN_ADVANCE = "peer_groups"


def peer_groups_of(b) -> PeerGroups:
    """The peer groups of a bundle's dataset, made once per dataset object (or taken as made in advance for it)."""

    def make() -> PeerGroups:
        made = getattr(b.dataset, "made_in_advance", {}).get(MADE_IN_ADVANCE)
        return made if made is not None else peer_groups(b.dataset)

    return cuts.cached("peer_groups", b.dataset, make)
