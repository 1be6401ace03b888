"""The 20 AlmenKompas indicators: the one place where a definition lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Dimension = Literal["E", "S", "G"]
Direction = Literal["higher_better", "lower_better", "context"]
Level = Literal["afdeling", "organisation", "kommune"]
Disclosure = Literal["none", "persons", "register"]

DIMENSION_NAMES_DA = {"E": "Miljø", "S": "Social", "G": "Governance"}
DIMENSION_NAMES_EN = {"E": "Environmental", "S": "Social", "G": "Governance"}
DIRECTION_DA = {
    "higher_better": "Højere er bedre",
    "lower_better": "Lavere er bedre",
    "context": "Kontekst (ingen bedre/dårligere)",
}


@dataclass(frozen=True)
class Measure:
    """A raw quantity that an indicator is computed from."""

    name: str
    unit: str
    label_da: str
    # Where the measure lives: a yearly value in the measures table, or a static attribute of the afdeling,
    # or the kommune context table.
    source: Literal["measures", "afdeling", "kommune_context"] = "measures"
    min_value: float = 0.0
    max_value: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class Supporting:
    """A supporting figure reported beside the headline; stored as a measure, not aggregated into the table."""

    measure: str
    label_da: str
    unit: str


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: Dimension
    name_da: str
    name_en: str
    description_da: str
    description_en: str
    why_da: str
    unit: str
    direction: Direction
    level: Level
    numerator: str
    denominator: str
    scale: float
    aggregation: str
    source: str
    decimals: int
    questions_da: tuple[str, ...]
    disclosure: Disclosure = "none"
    # The measure that counts the persons a figure is about (for the <5 rule).
    persons_measure: str | None = None
    first_year: int | None = None
    target_band: tuple[float, float] | None = None
    supporting: tuple[Supporting, ...] = field(default_factory=tuple)

    @property
    def dimension_name_da(self) -> str:
        return DIMENSION_NAMES_DA[self.dimension]

    @property
    def direction_da(self) -> str:
        return DIRECTION_DA[self.direction]


# Minimum persons behind any published figure, and residents behind a register-based afdeling figure.
MIN_PERSONS = 5
MIN_REGISTER_RESIDENTS = 100
MIN_REGISTER_DENOMINATOR = 20

MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("dwellings", "boliger", "Antal boliger", source="afdeling", integer=True),
        Measure("floor_area_m2", "m²", "Opvarmet etageareal", source="afdeling"),
        Measure("outdoor_area_m2", "m²", "Udendørs areal", source="afdeling"),
        Measure("residents", "personer", "Antal beboere", source="afdeling", integer=True),
        Measure("dwellings_total", "boliger", "Alle boliger i kommunen", source="kommune_context", integer=True),
        Measure("heat_kwh", "kWh", "Varmeforbrug, graddagekorrigeret"),
        Measure("co2e_kg", "kg CO₂e", "Udledning fra varme og fællesel"),
        Measure("dwellings_label_ac", "boliger", "Boliger med energimærke A–C", integer=True),
        Measure("dwellings_label_valid", "boliger", "Boliger med gyldigt energimærke", integer=True),
        Measure("dwellings_climate_exposed", "boliger", "Boliger udsat for skybrud eller stormflod", integer=True),
        Measure("outdoor_area_biodiversity_m2", "m²", "Udendørs areal plejet for biodiversitet"),
        Measure("residual_waste_kg", "kg", "Restaffald"),
        Measure("sorting_rate_pct", "%", "Sorteringsgrad", max_value=100.0),
        Measure("wellbeing_score_sum", "point", "Sum af trivselsscorer (0–100 pr. besvarelse)"),
        Measure("wellbeing_respondents", "personer", "Besvarelser i trivselsmåling", integer=True),
        Measure("sickness_absence_pct", "%", "Sygefravær", max_value=100.0),
        Measure("residents_18_64", "personer", "Beboere 18–64 år", integer=True),
        Measure(
            "residents_18_64_in_work_or_education", "personer", "Beboere 18–64 år i job eller uddannelse", integer=True
        ),
        Measure("survey_respondents", "personer", "Besvarelser i beboerundersøgelse", integer=True),
        Measure("satisfied_respondents", "personer", "Tilfredse beboere i beboerundersøgelse", integer=True),
        Measure("employees", "personer", "Medarbejdere", integer=True),
        Measure("women_employees", "personer", "Kvindelige medarbejdere", integer=True),
        Measure("trainees_per_100_fte", "pr. 100 årsværk", "Elever og lærlinge pr. 100 årsværk"),
        Measure(
            "dwellings_near_functions", "boliger", "Boliger tæt på dagligvarer, skole, stoppested og læge", integer=True
        ),
        Measure("social_events", "arrangementer", "Sociale arrangementer", integer=True),
        Measure("rent_kr", "kr.", "Årlig husleje ekskl. forbrug"),
        Measure("housing_cost_burden_pct", "%", "Boligbyrde", max_value=100.0),
        Measure("households_represented", "husstande", "Husstande repræsenteret på afdelingsmødet", integer=True),
        Measure("volunteers", "personer", "Aktive frivillige", integer=True),
        Measure("vacancy_loss_kr", "kr.", "Tab ved lejeledighed"),
        Measure("efficiency_index", "indeks", "LBF-effektivitetstal", max_value=100.0),
        Measure("policies_adopted", "politikker", "Vedtagne og offentliggjorte politikker", integer=True),
        Measure("policies_checklist_items", "politikker", "Politikker på tjeklisten", integer=True),
        Measure("qualifying_contracts", "kontrakter", "Kontrakter omfattet af klausulkrav", integer=True),
        Measure("contracts_with_clause", "kontrakter", "Kontrakter med uddannelsesklausul", integer=True),
        Measure("compliance_items", "punkter", "Punkter på tjeklisten for regeloverholdelse", integer=True),
        Measure("compliance_items_met", "punkter", "Opfyldte punkter for regeloverholdelse", integer=True),
    ]
}

_AFDELING_AGG = "Forholdet mellem summer (Σ tæller / Σ nævner) fra afdeling til organisation, kommune, region og land"
_ORG_AGG = "Forholdet mellem summer over organisationer; kommune = organisationer med hjemsted i kommunen"

INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in [
        Indicator(
            "E1",
            "E",
            "Energiforbrug",
            "Energy consumption",
            "Graddagekorrigeret varmeforbrug pr. m² opvarmet etageareal.",
            "Heat consumption corrected for degree days, per m² heated floor area.",
            "Lavere varmeforbrug sænker beboernes udgifter og styrker kommunens klimaregnskab.",
            "kWh/m²",
            "lower_better",
            "afdeling",
            "heat_kwh",
            "floor_area_m2",
            1.0,
            _AFDELING_AGG,
            "BBR energiforbrugsdata og forsyningsselskabernes måleraflæsninger",
            0,
            (
                "Hvilke afdelinger har det højeste varmeforbrug, og hvilke renoveringer er planlagt?",
                "Hvordan følger boligorganisationen op på forbruget efter energirenoveringer?",
                "Kan kommunens klimaplan og boligorganisationens energiindsats koordineres?",
            ),
        ),
        Indicator(
            "E2",
            "E",
            "Klimaaftryk",
            "Climate footprint",
            "Driftsudledning fra varme og fællesel i kg CO₂e pr. m² (lokationsbaseret, BR18-faktorer).",
            "Operational emissions from heat and common electricity, kg CO₂e per m² (location-based, BR18 factors).",
            "Udledningen fra boligerne indgår i kommunens vej mod klimaneutralitet.",
            "kg CO₂e/m²",
            "lower_better",
            "afdeling",
            "co2e_kg",
            "floor_area_m2",
            1.0,
            _AFDELING_AGG,
            "E1 × emissionsfaktorer fra BR18 bilag 2, tabel 8",
            1,
            (
                "Hvilken plan har boligorganisationen for at nå klimaneutralitet?",
                "Hvor stor en del af udledningen afhænger af fjernvarmens brændselsmiks?",
            ),
        ),
        Indicator(
            "E3",
            "E",
            "Energimærkning",
            "Energy labels",
            "Andel af boliger i bygninger med energimærke A–C.",
            "Share of dwellings in buildings with energy label A–C.",
            "Energimærket viser bygningernes beregnede behov og peger på renoveringspotentialet.",
            "%",
            "higher_better",
            "afdeling",
            "dwellings_label_ac",
            "dwellings",
            100.0,
            "Boligvægtet andel: Σ boliger med A–C / Σ boliger",
            "Energistyrelsens energimærkedata via BBR og DCAB",
            0,
            (
                "Hvor mange boliger mangler et gyldigt energimærke?",
                "Hvilke afdelinger med mærke D–G står først for renovering?",
            ),
            supporting=(Supporting("dwellings_label_valid", "Boliger med gyldigt energimærke", "boliger"),),
        ),
        Indicator(
            "E4",
            "E",
            "Sårbarhed for klimaændringer",
            "Climate vulnerability",
            "Andel af boliger i bygninger udsat for skybrud eller stormflod i referencescenariet.",
            "Share of dwellings in buildings exposed to cloudburst or storm surge in the reference scenario.",
            "Klimatilpasning forebygger skader og udgifter for både beboere og kommune.",
            "%",
            "lower_better",
            "afdeling",
            "dwellings_climate_exposed",
            "dwellings",
            100.0,
            "Boligvægtet andel: Σ udsatte boliger / Σ boliger",
            "DMI Klimaatlas, Kystdirektoratet og kommunale klimatilpasningsplaner",
            0,
            (
                "Er de udsatte afdelinger med i kommunens klimatilpasningsplan?",
                "Hvilke sikringer mod skybrud og stormflod er planlagt?",
            ),
            first_year=2023,
        ),
        Indicator(
            "E5",
            "E",
            "Biodiversitet",
            "Biodiversity",
            "Andel af afdelingernes udendørs areal, der plejes for biodiversitet.",
            "Share of the afdelinger's outdoor area managed for biodiversity.",
            "Vilde arealer skaber natur og rekreative byrum tæt på beboerne.",
            "%",
            "higher_better",
            "afdeling",
            "outdoor_area_biodiversity_m2",
            "outdoor_area_m2",
            100.0,
            "Arealvægtet andel: Σ biodiversitetsareal / Σ udendørs areal",
            "Boligorganisationernes driftsplaner og biologscreeninger",
            0,
            (
                "Har boligorganisationen en strategi for biodiversitet?",
                "Kan kommunens grønne arealer og afdelingernes udearealer plejes i sammenhæng?",
            ),
            first_year=2023,
        ),
        Indicator(
            "E6",
            "E",
            "Affald",
            "Waste",
            "Restaffald i kg pr. bolig pr. år.",
            "Residual waste in kg per dwelling per year.",
            "Mindre restaffald og bedre sortering understøtter kommunens affalds- og ressourceplan.",
            "kg/bolig",
            "lower_better",
            "afdeling",
            "residual_waste_kg",
            "dwellings",
            1.0,
            "Σ restaffald / Σ boliger",
            "Kommunens eller affaldsselskabets containerdata",
            0,
            (
                "Hvordan går indfasningen af affaldssortering i afdelingerne?",
                "Hvor mangler der data om affaldsmængder, og kan kommunen levere dem?",
            ),
            first_year=2022,
            supporting=(Supporting("sorting_rate_pct", "Sorteringsgrad", "%"),),
        ),
        Indicator(
            "S1",
            "S",
            "Medarbejdertrivsel",
            "Employee wellbeing",
            "Gennemsnitligt trivselsindeks (0–100) i den årlige medarbejdermåling.",
            "Mean wellbeing index (0–100) in the annual staff survey.",
            "Trivsel blandt medarbejderne er en forudsætning for god drift og service over for beboerne.",
            "indeks",
            "higher_better",
            "organisation",
            "wellbeing_score_sum",
            "wellbeing_respondents",
            1.0,
            _ORG_AGG + " (vægtet med antal besvarelser)",
            "Boligorganisationens egen trivselsmåling",
            0,
            ("Hvordan følger boligorganisationen op på trivselsmålingen?", "Hvordan har sygefraværet udviklet sig?"),
            disclosure="persons",
            persons_measure="wellbeing_respondents",
            supporting=(Supporting("sickness_absence_pct", "Sygefravær", "%"),),
        ),
        Indicator(
            "S2",
            "S",
            "Andel af almene boliger i området",
            "Share of social housing in the area",
            "Almene boliger i procent af alle boliger i kommunen.",
            "Social housing dwellings as a share of all dwellings in the kommune.",
            "Andelen fortæller om det betalbare udbud og om risikoen for ensidige boligområder.",
            "%",
            "context",
            "kommune",
            "dwellings",
            "dwellings_total",
            100.0,
            "Σ almene boliger / Σ alle boliger (kommune, region, land)",
            "Landsbyggefondens stamdata og Danmarks Statistik BOL101",
            0,
            (
                "Hvordan passer andelen af almene boliger med kommunens boligpolitik?",
                "Hvor i kommunen er der behov for flere eller færre almene boliger?",
            ),
        ),
        Indicator(
            "S3",
            "S",
            "Livschancer",
            "Life chances",
            "Andel af beboere 18–64 år i beskæftigelse eller uddannelse.",
            "Share of residents aged 18–64 in employment or education.",
            "Beskæftigelse og uddannelse er afgørende for at forebygge marginalisering.",
            "%",
            "higher_better",
            "afdeling",
            "residents_18_64_in_work_or_education",
            "residents_18_64",
            100.0,
            _AFDELING_AGG,
            "Landsbyggefondens Beboerdata (Danmarks Statistiks registre)",
            0,
            (
                "Hvilke afdelinger ligger under 60 % i job eller uddannelse?",
                "Hvordan spiller boligsociale indsatser og kommunens beskæftigelsesindsats sammen?",
            ),
            disclosure="register",
            persons_measure="residents_18_64",
        ),
        Indicator(
            "S4",
            "S",
            "Livskvalitet og sundhed",
            "Quality of life and health",
            "Andel af beboerne, der er tilfredse eller meget tilfredse med at bo i afdelingen.",
            "Share of residents satisfied or very satisfied with living in the afdeling.",
            "Trivsel og tryghed i boligområdet hænger sammen med folkesundheden.",
            "%",
            "higher_better",
            "afdeling",
            "satisfied_respondents",
            "survey_respondents",
            100.0,
            _AFDELING_AGG + " (vægtet med antal besvarelser)",
            "Beboerundersøgelser",
            0,
            (
                "Hvor er tilfredsheden lavest, og hvad er årsagerne?",
                "Hvordan kan kommunens sundhedsindsats nå beboerne i de afdelinger, der scorer lavt?",
            ),
            disclosure="persons",
            persons_measure="survey_respondents",
        ),
        Indicator(
            "S5",
            "S",
            "Medarbejdersammensætning",
            "Workforce composition",
            "Andel kvinder blandt boligorganisationens medarbejdere.",
            "Share of women among the organisation's employees.",
            "En alsidig medarbejdersammensætning styrker rekruttering og service.",
            "%",
            "context",
            "organisation",
            "women_employees",
            "employees",
            100.0,
            _ORG_AGG,
            "Boligorganisationens HR-system",
            0,
            (
                "Hvordan arbejder boligorganisationen med ligestilling og rummelige job?",
                "Hvor mange elever og lærlinge har boligorganisationen?",
            ),
            disclosure="persons",
            persons_measure="employees",
            target_band=(40.0, 60.0),
            supporting=(Supporting("trainees_per_100_fte", "Elever og lærlinge pr. 100 årsværk", "pr. 100 årsværk"),),
        ),
        Indicator(
            "S6",
            "S",
            "Funktioner i området",
            "Local amenities",
            "Andel af boliger med dagligvarer, skole, stoppested og læge inden for gangafstand.",
            "Share of dwellings within walking distance of groceries, school, public transport and a GP.",
            "Nærhed til funktioner gør hverdagen lettere og boligområdet mere attraktivt.",
            "%",
            "higher_better",
            "afdeling",
            "dwellings_near_functions",
            "dwellings",
            100.0,
            "Boligvægtet andel: Σ boliger tæt på funktioner / Σ boliger",
            "BBR, DAGI og OpenStreetMap",
            0,
            (
                "Hvilke afdelinger ligger langt fra daglige funktioner?",
                "Kan kommunens planlægning styrke funktionerne omkring de almene boligområder?",
            ),
        ),
        Indicator(
            "S7",
            "S",
            "Lokalt fællesskab",
            "Local community",
            "Sociale arrangementer pr. 100 boliger pr. år.",
            "Social events per 100 dwellings per year.",
            "Lokale fællesskaber styrker tryghed og sammenhængskraft.",
            "pr. 100 boliger",
            "higher_better",
            "afdeling",
            "social_events",
            "dwellings",
            100.0,
            "Σ arrangementer / Σ boliger × 100",
            "Boligorganisationernes aktivitetsregistrering",
            1,
            (
                "Hvor er der få fællesaktiviteter, og hvorfor?",
                "Hvordan kan kommunen og boligorganisationen sammen understøtte fællesskaber?",
            ),
        ),
        Indicator(
            "S8",
            "S",
            "Almenboligers betalbarhed",
            "Affordability",
            "Årlig husleje ekskl. forbrug i kr. pr. m².",
            "Annual rent excluding consumption, kr per m².",
            "Betalbare boliger er almenboliglovens formål og kernen i kommunens boligpolitik.",
            "kr./m²",
            "lower_better",
            "afdeling",
            "rent_kr",
            "floor_area_m2",
            1.0,
            _AFDELING_AGG,
            "Landsbyggefondens huslejestatistik",
            0,
            (
                "Hvilke afdelinger har de højeste huslejer, og hvorfor?",
                "Hvordan udvikler huslejen sig i forhold til beboernes indkomst?",
            ),
            supporting=(Supporting("housing_cost_burden_pct", "Boligbyrde", "%"),),
        ),
        Indicator(
            "G1",
            "G",
            "Beboerdemokrati",
            "Tenant democracy",
            "Andel af husstandene repræsenteret på det ordinære afdelingsmøde.",
            "Share of households represented at the ordinary afdelingsmøde.",
            "Et levende beboerdemokrati giver lokal forankring og legitimitet.",
            "%",
            "higher_better",
            "afdeling",
            "households_represented",
            "dwellings",
            100.0,
            "Husstandsvægtet andel: Σ repræsenterede husstande / Σ boliger",
            "Referater fra afdelingsmøder",
            0,
            (
                "Hvordan arbejder boligorganisationen med at øge deltagelsen, fx med digital afstemning?",
                "Hvilke afdelinger mangler en afdelingsbestyrelse?",
            ),
            disclosure="persons",
            persons_measure="dwellings",
        ),
        Indicator(
            "G2",
            "G",
            "Frivillighed",
            "Volunteering",
            "Aktive frivillige pr. 100 boliger.",
            "Active volunteers per 100 dwellings.",
            "Frivillige bærer fællesskaber og aktiviteter i boligområderne.",
            "pr. 100 boliger",
            "higher_better",
            "afdeling",
            "volunteers",
            "dwellings",
            100.0,
            "Σ frivillige / Σ boliger × 100",
            "Boligorganisationernes frivilligregistrering",
            1,
            (
                "Hvordan kan kommunens frivilligindsats spille sammen med afdelingernes?",
                "Hvor er der få frivillige, og hvad skal der til?",
            ),
            disclosure="persons",
            persons_measure="dwellings",
        ),
        Indicator(
            "G3",
            "G",
            "Økonomistyring",
            "Financial management",
            "Tab ved lejeledighed i kr. pr. m² pr. år.",
            "Loss from vacant dwellings, kr per m² per year.",
            "Sund økonomistyring opdager udfordringer i tide og holder huslejen nede.",
            "kr./m²",
            "lower_better",
            "afdeling",
            "vacancy_loss_kr",
            "floor_area_m2",
            1.0,
            _AFDELING_AGG,
            "Landsbyggefondens regnskabsdatabase",
            1,
            (
                "Hvilke afdelinger har tomgang, og hvad gøres for at udleje dem?",
                "Hvordan ligger afdelingerne på LBF's effektivitetstal?",
            ),
            supporting=(Supporting("efficiency_index", "LBF-effektivitetstal", "indeks"),),
        ),
        Indicator(
            "G4",
            "G",
            "Politikker og praksis",
            "Policies and practice",
            "Andel af tjeklistens politikker, som boligorganisationen har vedtaget og offentliggjort.",
            "Share of the checklist's policies that the organisation has adopted and published.",
            "Vedtagne politikker viser, at boligorganisationen tager ansvar for ordentlighed og ligestilling.",
            "%",
            "higher_better",
            "organisation",
            "policies_adopted",
            "policies_checklist_items",
            100.0,
            _ORG_AGG,
            "Boligorganisationens dokumenter og hjemmeside",
            0,
            (
                "Hvilke politikker mangler, og hvornår forventes de vedtaget?",
                "Hvordan omsættes politikkerne til praksis?",
            ),
        ),
        Indicator(
            "G5",
            "G",
            "Sociale klausuler",
            "Social clauses",
            "Andel af bygge- og servicekontrakter med uddannelsesklausul.",
            "Share of building and service contracts with a training clause.",
            "Sociale klausuler skaber lærepladser og lokale arbejdspladser.",
            "%",
            "higher_better",
            "organisation",
            "contracts_with_clause",
            "qualifying_contracts",
            100.0,
            _ORG_AGG,
            "Boligorganisationens udbudsmateriale",
            0,
            (
                "Hvordan følges der op på, at klausulerne overholdes?",
                "Kan kommunen og boligorganisationen samarbejde om lærepladser?",
            ),
            first_year=2022,
        ),
        Indicator(
            "G6",
            "G",
            "Overholdelse af regulering",
            "Regulatory compliance",
            "Andel af tjeklistens punkter for regeloverholdelse, der er opfyldt.",
            "Share of the regulatory compliance checklist that is met.",
            "Overholdelse af regler giver tryghed for, at lovgivningen følges.",
            "%",
            "higher_better",
            "organisation",
            "compliance_items_met",
            "compliance_items",
            100.0,
            _ORG_AGG,
            "Revisionsprotokol, Almenstyringsdialog og kommunalt tilsyn",
            0,
            (
                "Er der åbne bemærkninger fra revisionen eller tilsynet?",
                "Er styringsrapport og regnskab indsendt rettidigt?",
            ),
        ),
    ]
}

CODES: tuple[str, ...] = tuple(INDICATORS)

# Measures that count some of an afdeling's dwellings without being the numerator of a share (those are checked
# against their denominator): they cannot exceed the afdeling's `dwellings` in the afdelinger table.
PART_OF_DWELLINGS = ("dwellings_label_valid",)


def get(code: str) -> Indicator:
    """Return the indicator with this code, with a clear error for an unknown one."""
    try:
        return INDICATORS[code]
    except KeyError:
        raise KeyError(f"Ukendt indikator {code!r}; gyldige koder: {', '.join(CODES)}") from None


def by_dimension(dimension: str) -> list[Indicator]:
    return [i for i in INDICATORS.values() if i.dimension == dimension]


def input_measures() -> dict[str, Measure]:
    """Measures that a dataset supplies in its long measures table."""
    return {n: m for n, m in MEASURES.items() if m.source == "measures"}


def measure_level(name: str) -> str:
    """The unit level (afdeling or organisation) a measures-table measure is reported at."""
    levels = {
        i.level
        for i in INDICATORS.values()
        for m in (i.numerator, i.denominator, *(s.measure for s in i.supporting))
        if m == name
    }
    if len(levels) != 1:
        raise ValueError(f"measure {name!r} belongs to levels {levels}")
    return levels.pop()
