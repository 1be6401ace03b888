"""The findings that a chart's alt text states, from hand-made plotted values (NaN: a year or unit not shown)."""

from __future__ import annotations

import math

from kompas_helpers import findings

NAN = math.nan


def test_trend_states_the_change_from_the_first_to_the_last_shown_year_and_the_country():
    text = findings.trend("E1", "Aarhus", [2019, 2020, 2025], [131.2, 125.0, 117.6], [130.0, 128.0, 124.4])
    assert text == "Energiforbrug i Aarhus faldt fra 131 til 118 kWh/m² fra 2019 til 2025; landet: 124 kWh/m² i 2025."
    assert findings.trend("G4", "Odense", [2021, 2022], [71.0, 82.0]) == (
        "Politikker og praksis i Odense steg fra 71 til 82 % fra 2021 til 2022."
    )


def test_trend_skips_years_not_shown_and_never_describes_a_suppressed_figure():
    # 2024 is suppressed (NaN): the change runs to 2023, and the country is given for 2023, not for 2024.
    text = findings.trend("E2", "Læsø", [2023, 2024, 2025], [12.34, 12.31, NAN], [10.0, 11.0, 9.0])
    assert text == "Klimaaftryk i Læsø lå uændret på 12,3 kg CO₂e/m² fra 2023 til 2024; landet: 11,0 kg CO₂e/m² i 2024."
    assert findings.trend("S1", "Fanø", [2024, 2025], [NAN, 73.0], [NAN, NAN]) == (
        "Medarbejdertrivsel i Fanø var 73 (indeks) i 2025."
    )
    assert findings.trend("S3", "København", [2024, 2025], [NAN, NAN], [1.0, 2.0]) == (
        "Livschancer i København: ingen tal at vise."
    )


def test_trend_across_a_series_break_says_so():
    # E2's emission factors change from 2023: a change from 2021 to 2025 is partly a change of method.
    text = findings.trend("E2", "Læsø", [2021, 2025], [14.0, 11.0])
    assert text == (
        "Klimaaftryk i Læsø faldt fra 14,0 til 11,0 kg CO₂e/m² fra 2021 til 2025 "
        "(databrud i 2023: tallene før og efter er ikke direkte sammenlignelige)."
    )
    # From the break year on, the figures are comparable: nothing is added.
    assert "databrud" not in findings.trend("E2", "Læsø", [2023, 2025], [14.0, 11.0])
    assert "databrud" not in findings.trend("E2", "Læsø", [2021, 2022], [14.0, 11.0])


def test_spread_states_the_range_and_the_median_only_when_drawn():
    values = [80.0, 190.4, NAN, 120.0, 100.0, 150.0]
    assert findings.spread("E1", "Jammerbugt", 2025, values) == (
        "De 5 afdelinger med tal i Jammerbugt i 2025 ligger mellem 80 og 190 kWh/m²; medianen er 120 kWh/m²."
    )
    assert findings.spread("E1", "Jammerbugt", 2025, [80.0, 100.0], median=False) == (
        "De 2 afdelinger med tal i Jammerbugt i 2025 ligger mellem 80 og 100 kWh/m²."
    )
    assert findings.spread("E1", "Fanø", 2025, [95.0]) == "Én afdeling i Fanø har tal i 2025: 95 kWh/m²."
    assert findings.spread("E1", "Fanø", 2025, [NAN]) == "Ingen afdelinger i Fanø har tal i 2025."


def test_ranking_funnel_and_extremes():
    assert findings.ranking("E1", 2025, "Aarhus", 12.0, 95, 118.0) == (
        "I 2025 er Aarhus nr. 12 af 95 kommuner på Energiforbrug (118 kWh/m²; nr. 1 er bedst)."
    )
    assert findings.ranking("E1", 2025, "Aarhus", NAN, 95, 118.0) == (
        "Energiforbrug i Aarhus er 118 kWh/m² i 2025; for få data til at rangere kommunen."
    )
    assert findings.ranking("E1", 2025, "Læsø", None, 95, None) == "Læsø har intet tal for Energiforbrug i 2025."
    assert findings.funnel("E1", 2025, 7, 5, 98, 124.0, ("Aarhus", "inden for")) == (
        "Landet: 124 kWh/m² i 2025. 7 af 98 kommuner ligger over og 5 under tragtens 95 %-grænser; Aarhus ligger "
        "inden for."
    )
    assert findings.extremes("E1", 2025, ["Aarhus", "Læsø", "Fanø"], [98.0, NAN, 170.0]) == (
        "Lavest: Aarhus (98 kWh/m²); højest: Fanø (170 kWh/m²); 2 kommuner med tal i 2025."
    )
