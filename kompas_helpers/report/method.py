"""Method notes per indicator and the discretion rules, generated from the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kompas_helpers import danish, fmt, kommuner, peers, registry, uncertainty
from kompas_helpers.report.markup import bullets, esc, note, table_html, wrap
from kompas_helpers.report.overview import mark_rule_da

if TYPE_CHECKING:
    from kompas_helpers.bundle import Bundle


def _measure_da(name: str) -> str:
    m = registry.MEASURES[name]
    return f"{m.label_da} ({m.unit})"


def method_notes(dimension: str | None = None) -> pd.DataFrame:
    """Method notes per indicator from the registry, as a display table.

    Columns: Kode, Målepunkt, Definition, Tæller, Nævner, Beregning, Kilde, Retning, Niveau, Første år, Usikkerhed.
    """
    rows = []
    for code in registry.codes(dimension):
        i = registry.get(code)
        formula = f"Σ tæller / Σ nævner × {fmt.number(i.scale)}" if i.scale != 1 else "Σ tæller / Σ nævner"
        rows.append(
            [
                code,
                i.name_da,
                f"{i.description_da} Enhed: {i.unit}.",
                _measure_da(i.numerator),
                _measure_da(i.denominator),
                f"{formula}. {i.aggregation}.",
                i.source,
                i.direction_da,
                danish.LEVEL_DA[i.level],
                str(i.first_year) if i.first_year else "alle år",
                uncertainty.method_da(i),
            ]
        )
    columns = ["Kode", "Målepunkt", "Definition", "Tæller", "Nævner", "Beregning", "Kilde", "Retning", "Niveau",
               "Første år", "Usikkerhed"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def discretion_rules_da() -> list[str]:
    """The discretion (statistical disclosure) rules in plain Danish, generated from the registry's thresholds."""
    persons = [
        f"{i.code}: {registry.MEASURES[i.persons_measure].label_da.lower()}"
        for i in registry.INDICATORS.values()
        if i.disclosure == "persons"
    ]
    register = [i.code for i in registry.INDICATORS.values() if i.disclosure == "register"]
    return [
        f"Et tal vises ikke, hvis det handler om færre end {registry.MIN_PERSONS} personer eller husstande. Det "
        f"gælder på alle niveauer og tælles sådan: {'; '.join(persons)}.",
        f"Tal fra registre ({', '.join(register)}) vises kun for afdelinger med mindst "
        f"{fmt.number(registry.MIN_REGISTER_RESIDENTS)} beboere og kun, når mindst "
        f"{registry.MIN_REGISTER_DENOMINATOR} personer indgår i beregningen.",
        "Hvis et udeladt tal ville kunne regnes ud fra en sum og de andre tal (fx kommunens tal minus de øvrige "
        "afdelingers), udelades også det mindste af de andre tal (sekundær diskretion).",
        "Udeladte tal står som «diskretion» i tabellerne og er udeladt af figurerne; de tæller aldrig som nul.",
        "Manglende indberetninger står som «mangler» og er heller ikke nul. Dækningen viser, hvor stor en del af "
        "boligerne et tal bygger på.",
        "Alle tal over afdelingsniveau er forholdet mellem summer (Σ tæller / Σ nævner), ikke et gennemsnit af "
        "afdelingernes tal, så store afdelinger vejer mere end små.",
    ]


def peer_method_da() -> str:
    """How the sammenligningskommuner are chosen, in plain Danish, from the same constants peers.py uses."""
    facts = ", ".join(peers.KOMMUNE_FACTS_DA.values())
    twins = ", ".join(peers.ORGANISATION_FACTS_DA.values())
    return (
        f"Sammenligningskommuner: for hver kommune de {peers.PEER_SIZE} andre kommuner, der ligner den mest på "
        f"{facts}. Hvert forhold standardiseres over alle kommuner (gennemsnit 0, spredning 1), og gruppen er de "
        f"{peers.PEER_SIZE} nærmeste målt som afstand over alle forholdene; ved lige afstand afgør kommunekoden. "
        "Grupperne vælges kun ud fra bygninger og boliger, aldrig ud fra målepunkterne, og er de samme i alle år. "
        "Gruppens tal er forholdet mellem summer over de kommuner i gruppen, der har et offentliggjort tal. "
        f"Boligorganisationer sammenlignes på samme måde med deres {peers.PEER_SIZE} «tvillinger» ud fra {twins}."
    )


def peers_html(b: Bundle, kommune_code: str) -> str:
    """The peer method and the kommune's own sammenligningskommuner by name."""
    name, _region = kommuner.kommune_info(kommune_code)
    members = peers.peer_groups_of(b).of("kommune", kommune_code)
    listed = ", ".join(f"{kommuner.lookup()[c][0]} ({c})" for c in members) or "ingen (kommunen har ingen afdelinger)"
    return wrap(
        "<h3>Sammenligningskommuner</h3>",
        f"<p>{esc(danish.genitive(name))} sammenligningskommuner: {esc(listed)}.</p>",
        note(peer_method_da()),
    )


def method_html(dimension: str | None = None, b: Bundle | None = None, kommune_code: str | None = None) -> str:
    """Method notes per indicator, the peer groups (with the kommune's own when given) and the discretion rules."""
    table = method_notes(dimension)
    return wrap(
        table_html(table, caption="Metode pr. målepunkt"),
        peers_html(b, kommune_code) if b is not None and kommune_code else note(peer_method_da()),
        "<h3>Diskretion og manglende tal</h3>",
        bullets(discretion_rules_da()),
        note(fmt.STATUS_NOTE_DA),
        note(mark_rule_da()),
    )
