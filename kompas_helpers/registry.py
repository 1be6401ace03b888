"""The 20 AlmenKompas indicators: the one place where a definition lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Dimension = Literal["E", "S", "G"]
Direction = Literal["higher_better", "lower_better", "context"]
Level = Literal["afdeling", "organisation", "kommune"]
Disclosure = Literal["none", "persons", "register"]
# How a figure's 95 % interval is computed (uncertainty.py): a binomial share with the persons, dwellings or items
# as n (Wilson); a ratio over the units behind it (afdelinger or organisations); a survey index from its respondents.
IntervalKind = Literal["wilson", "units", "index", "none"]

DIMENSION_NAMES_DA = {"E": "Miljø", "S": "Social", "G": "Governance"}
DIMENSION_NAMES_EN = {"E": "Environmental", "S": "Social", "G": "Governance"}
DIMENSIONS: tuple[str, ...] = tuple(DIMENSION_NAMES_DA)
# The indicator table's levels and statuses, in their category order (compute builds the table from these, schemas
# checks it against them), and the verdict on a kommune's or organisation's figure (comparison.py says when each
# applies). Here rather than in schemas.py, so that the reports can use them without importing pandera (0.4 s).
LEVELS = ("afdeling", "organisation", "organisation_kommune", "kommune", "region", "national")
STATUSES = ("reported", "missing", "suppressed", "not_applicable")
VERDICTS = ("better", "worse", "as_expected", "too_few", "context", "not_judged")
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
    # The measure that counts the persons (or households) a figure is about, for the <5 rule: the numerator or the
    # denominator, never the dwellings the figure is divided by.
    persons_measure: str | None = None
    first_year: int | None = None
    target_band: tuple[float, float] | None = None
    supporting: tuple[Supporting, ...] = field(default_factory=tuple)
    interval: IntervalKind = "none"
    # Standing questions the data answers (report/answers.py): (question's position, kind of answer, the question
    # still open after the answer, or "").
    answers: tuple[tuple[int, str, str], ...] = ()
    # Known breaks in the series: (first year on the new basis, what changed), marked on every trend chart.
    series_breaks: tuple[tuple[int, str], ...] = ()
    # A context indicator describes the setting the organisations work in (location, residents, the kommune's stock):
    # it gets no better/worse verdict and its questions ask how it plays in, not how to close the gap.
    context: bool = False

    @property
    def is_context(self) -> bool:
        return self.context or self.direction == "context"

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
# Coverage (share of dwellings reported) below which a figure is flagged and raises a question.
LOW_COVERAGE = 0.8
# A verdict (better/worse than the country) needs at least this many units (afdelinger, or organisations for an
# afdeling-level figure of an organisation) and this coverage; below either the figure reads «for få data».
MIN_UNITS_FOR_VERDICT = 3
MIN_COVERAGE_FOR_VERDICT = 0.5
# S1 is a mean of 0–100 scores; the data holds no spread per respondent, so its interval assumes this standard
# deviation (typical of 0–100 wellbeing scales) until the surveys report their own.
INDEX_SD = 20.0
# The indicator on the kommune overview's map and ranking.
HEADLINE_INDICATOR = "E1"

# The measures the reports read from the dataset beside the indicator table (report.answers). The batch writes their
# rows with the table's slices (bundle.write_slices): a report then reads 73,000 rows, not all 670,000 measures.
READ_BESIDE_TABLE = ("dwellings_label_valid", "efficiency_index")

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
            code="E1",
            dimension="E",
            name_da="Energiforbrug",
            name_en="Energy consumption",
            description_da="Graddagekorrigeret varmeforbrug pr. m² opvarmet etageareal.",
            description_en="Heat consumption corrected for degree days, per m² heated floor area.",
            why_da="Lavere varmeforbrug sænker beboernes udgifter og styrker kommunens klimaregnskab.",
            unit="kWh/m²",
            direction="lower_better",
            level="afdeling",
            numerator="heat_kwh",
            denominator="floor_area_m2",
            scale=1.0,
            aggregation=_AFDELING_AGG,
            source="BBR energiforbrugsdata og forsyningsselskabernes måleraflæsninger",
            decimals=0,
            questions_da=(
                "Hvilke afdelinger har det højeste varmeforbrug, og hvilke renoveringer er planlagt?",
                "Hvordan følger boligorganisationen op på forbruget efter energirenoveringer?",
                "Kan kommunens klimaplan og boligorganisationens energiindsats koordineres?",
            ),
            interval="units",
            answers=((0, "highest", "Hvilke renoveringer er planlagt i de afdelinger, der bruger mest varme?"),),
        ),
        Indicator(
            code="E2",
            dimension="E",
            name_da="Klimaaftryk",
            name_en="Climate footprint",
            description_da="Driftsudledning fra varme og fællesel i kg CO₂e pr. m² (lokationsbaseret, BR18-faktorer).",
            description_en=(
                "Operational emissions from heat and common electricity, kg CO₂e per m² (location-based, BR18 factors)."
            ),
            why_da="Udledningen fra boligerne indgår i kommunens vej mod klimaneutralitet.",
            unit="kg CO₂e/m²",
            direction="lower_better",
            level="afdeling",
            numerator="co2e_kg",
            denominator="floor_area_m2",
            scale=1.0,
            aggregation=_AFDELING_AGG,
            source="E1 × emissionsfaktorer fra BR18 bilag 2, tabel 8",
            decimals=1,
            questions_da=(
                "Hvilken plan har boligorganisationen for at nå klimaneutralitet?",
                "Hvor stor en del af udledningen afhænger af fjernvarmens brændselsmiks?",
            ),
            interval="units",
            series_breaks=(
                (
                    2023,
                    "Emissionsfaktorerne fra BR18 skifter fra 2023, så udviklingen også afspejler faktorerne, ikke kun "
                    "forbruget",
                ),
            ),
        ),
        Indicator(
            code="E3",
            dimension="E",
            name_da="Energimærkning",
            name_en="Energy labels",
            description_da="Andel af boliger i bygninger med energimærke A–C.",
            description_en="Share of dwellings in buildings with energy label A–C.",
            why_da="Energimærket viser bygningernes beregnede behov og peger på renoveringspotentialet.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="dwellings_label_ac",
            denominator="dwellings",
            scale=100.0,
            aggregation="Boligvægtet andel: Σ boliger med A–C / Σ boliger",
            source="Energistyrelsens energimærkedata via BBR og DCAB",
            decimals=0,
            questions_da=(
                "Hvor mange boliger mangler et gyldigt energimærke?",
                "Hvilke afdelinger med mærke D–G står først for renovering?",
            ),
            supporting=(Supporting("dwellings_label_valid", "Boliger med gyldigt energimærke", "boliger"),),
            interval="wilson",
            answers=((0, "unlabelled_dwellings", ""),),
        ),
        Indicator(
            code="E4",
            dimension="E",
            name_da="Sårbarhed for klimaændringer",
            name_en="Climate vulnerability",
            description_da="Andel af boliger i bygninger udsat for skybrud eller stormflod i referencescenariet.",
            description_en=(
                "Share of dwellings in buildings exposed to cloudburst or storm surge in the reference scenario."
            ),
            why_da="Klimatilpasning forebygger skader og udgifter for både beboere og kommune.",
            unit="%",
            direction="lower_better",
            level="afdeling",
            numerator="dwellings_climate_exposed",
            denominator="dwellings",
            scale=100.0,
            aggregation="Boligvægtet andel: Σ udsatte boliger / Σ boliger",
            source="DMI Klimaatlas, Kystdirektoratet og kommunale klimatilpasningsplaner",
            decimals=0,
            questions_da=(
                "Er de udsatte afdelinger med i kommunens klimatilpasningsplan?",
                "Hvilke sikringer mod skybrud og stormflod er planlagt?",
            ),
            first_year=2023,
            interval="wilson",
            context=True,
        ),
        Indicator(
            code="E5",
            dimension="E",
            name_da="Biodiversitet",
            name_en="Biodiversity",
            description_da="Andel af afdelingernes udendørs areal, der plejes for biodiversitet.",
            description_en="Share of the afdelinger's outdoor area managed for biodiversity.",
            why_da="Vilde arealer skaber natur og rekreative byrum tæt på beboerne.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="outdoor_area_biodiversity_m2",
            denominator="outdoor_area_m2",
            scale=100.0,
            aggregation="Arealvægtet andel: Σ biodiversitetsareal / Σ udendørs areal",
            source="Boligorganisationernes driftsplaner og biologscreeninger",
            decimals=0,
            questions_da=(
                "Har boligorganisationen en strategi for biodiversitet?",
                "Kan kommunens grønne arealer og afdelingernes udearealer plejes i sammenhæng?",
            ),
            first_year=2023,
            interval="units",
        ),
        Indicator(
            code="E6",
            dimension="E",
            name_da="Affald",
            name_en="Waste",
            description_da="Restaffald i kg pr. bolig pr. år.",
            description_en="Residual waste in kg per dwelling per year.",
            why_da="Mindre restaffald og bedre sortering understøtter kommunens affalds- og ressourceplan.",
            unit="kg/bolig",
            direction="lower_better",
            level="afdeling",
            numerator="residual_waste_kg",
            denominator="dwellings",
            scale=1.0,
            aggregation="Σ restaffald / Σ boliger",
            source="Kommunens eller affaldsselskabets containerdata",
            decimals=0,
            questions_da=(
                "Hvordan går indfasningen af affaldssortering i afdelingerne?",
                "Hvor mangler der data om affaldsmængder, og kan kommunen levere dem?",
            ),
            first_year=2022,
            supporting=(Supporting("sorting_rate_pct", "Sorteringsgrad", "%"),),
            interval="units",
        ),
        Indicator(
            code="S1",
            dimension="S",
            name_da="Medarbejdertrivsel",
            name_en="Employee wellbeing",
            description_da="Gennemsnitligt trivselsindeks (0–100) i den årlige medarbejdermåling.",
            description_en="Mean wellbeing index (0–100) in the annual staff survey.",
            why_da="Trivsel blandt medarbejderne er en forudsætning for god drift og service over for beboerne.",
            unit="indeks",
            direction="higher_better",
            level="organisation",
            numerator="wellbeing_score_sum",
            denominator="wellbeing_respondents",
            scale=1.0,
            aggregation=_ORG_AGG + " (vægtet med antal besvarelser)",
            source="Boligorganisationens egen trivselsmåling",
            decimals=0,
            questions_da=(
                "Hvordan følger boligorganisationen op på trivselsmålingen?",
                "Hvordan har sygefraværet udviklet sig?",
            ),
            disclosure="persons",
            persons_measure="wellbeing_respondents",
            supporting=(Supporting("sickness_absence_pct", "Sygefravær", "%"),),
            interval="index",
        ),
        Indicator(
            code="S2",
            dimension="S",
            name_da="Andel af almene boliger i området",
            name_en="Share of social housing in the area",
            description_da="Almene boliger i procent af alle boliger i kommunen.",
            description_en="Social housing dwellings as a share of all dwellings in the kommune.",
            why_da="Andelen fortæller om det betalbare udbud og om risikoen for ensidige boligområder.",
            unit="%",
            direction="context",
            level="kommune",
            numerator="dwellings",
            denominator="dwellings_total",
            scale=100.0,
            aggregation="Σ almene boliger / Σ alle boliger (kommune, region, land)",
            source="Landsbyggefondens stamdata og Danmarks Statistik BOL101",
            decimals=0,
            questions_da=(
                "Hvordan passer andelen af almene boliger med kommunens boligpolitik?",
                "Hvor i kommunen er der behov for flere eller færre almene boliger?",
            ),
            interval="none",
        ),
        Indicator(
            code="S3",
            dimension="S",
            name_da="Livschancer",
            name_en="Life chances",
            description_da="Andel af beboere 18–64 år i beskæftigelse eller uddannelse.",
            description_en="Share of residents aged 18–64 in employment or education.",
            why_da="Beskæftigelse og uddannelse er afgørende for at forebygge marginalisering.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="residents_18_64_in_work_or_education",
            denominator="residents_18_64",
            scale=100.0,
            aggregation=_AFDELING_AGG,
            source="Landsbyggefondens Beboerdata (Danmarks Statistiks registre)",
            decimals=0,
            questions_da=(
                "Hvilke afdelinger ligger under 60 % i job eller uddannelse?",
                "Hvordan spiller boligsociale indsatser og kommunens beskæftigelsesindsats sammen?",
            ),
            disclosure="register",
            persons_measure="residents_18_64",
            interval="wilson",
            context=True,
        ),
        Indicator(
            code="S4",
            dimension="S",
            name_da="Livskvalitet og sundhed",
            name_en="Quality of life and health",
            description_da="Andel af beboerne, der er tilfredse eller meget tilfredse med at bo i afdelingen.",
            description_en="Share of residents satisfied or very satisfied with living in the afdeling.",
            why_da="Trivsel og tryghed i boligområdet hænger sammen med folkesundheden.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="satisfied_respondents",
            denominator="survey_respondents",
            scale=100.0,
            aggregation=_AFDELING_AGG + " (vægtet med antal besvarelser)",
            source="Beboerundersøgelser",
            decimals=0,
            questions_da=(
                "Hvor er tilfredsheden lavest, og hvad er årsagerne?",
                "Hvordan kan kommunens sundhedsindsats nå beboerne i de afdelinger, der scorer lavt?",
            ),
            disclosure="persons",
            persons_measure="survey_respondents",
            interval="wilson",
        ),
        Indicator(
            code="S5",
            dimension="S",
            name_da="Medarbejdersammensætning",
            name_en="Workforce composition",
            description_da="Andel kvinder blandt boligorganisationens medarbejdere.",
            description_en="Share of women among the organisation's employees.",
            why_da="En alsidig medarbejdersammensætning styrker rekruttering og service.",
            unit="%",
            direction="context",
            level="organisation",
            numerator="women_employees",
            denominator="employees",
            scale=100.0,
            aggregation=_ORG_AGG,
            source="Boligorganisationens HR-system",
            decimals=0,
            questions_da=(
                "Hvordan arbejder boligorganisationen med ligestilling og rummelige job?",
                "Hvor mange elever og lærlinge har boligorganisationen?",
            ),
            disclosure="persons",
            persons_measure="employees",
            target_band=(40.0, 60.0),
            supporting=(Supporting("trainees_per_100_fte", "Elever og lærlinge pr. 100 årsværk", "pr. 100 årsværk"),),
            interval="wilson",
        ),
        Indicator(
            code="S6",
            dimension="S",
            name_da="Funktioner i området",
            name_en="Local amenities",
            description_da="Andel af boliger med dagligvarer, skole, stoppested og læge inden for gangafstand.",
            description_en=(
                "Share of dwellings within walking distance of groceries, school, public transport and a GP."
            ),
            why_da="Nærhed til funktioner gør hverdagen lettere og boligområdet mere attraktivt.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="dwellings_near_functions",
            denominator="dwellings",
            scale=100.0,
            aggregation="Boligvægtet andel: Σ boliger tæt på funktioner / Σ boliger",
            source="BBR, DAGI og OpenStreetMap",
            decimals=0,
            questions_da=(
                "Hvilke afdelinger ligger langt fra daglige funktioner?",
                "Kan kommunens planlægning styrke funktionerne omkring de almene boligområder?",
            ),
            interval="wilson",
            context=True,
        ),
        Indicator(
            code="S7",
            dimension="S",
            name_da="Lokalt fællesskab",
            name_en="Local community",
            description_da="Sociale arrangementer pr. 100 boliger pr. år.",
            description_en="Social events per 100 dwellings per year.",
            why_da="Lokale fællesskaber styrker tryghed og sammenhængskraft.",
            unit="pr. 100 boliger",
            direction="higher_better",
            level="afdeling",
            numerator="social_events",
            denominator="dwellings",
            scale=100.0,
            aggregation="Σ arrangementer / Σ boliger × 100",
            source="Boligorganisationernes aktivitetsregistrering",
            decimals=1,
            questions_da=(
                "Hvor er der få fællesaktiviteter, og hvorfor?",
                "Hvordan kan kommunen og boligorganisationen sammen understøtte fællesskaber?",
            ),
            interval="units",
        ),
        Indicator(
            code="S8",
            dimension="S",
            name_da="Almenboligers betalbarhed",
            name_en="Affordability",
            description_da="Årlig husleje ekskl. forbrug i kr. pr. m².",
            description_en="Annual rent excluding consumption, kr per m².",
            why_da="Betalbare boliger er almenboliglovens formål og kernen i kommunens boligpolitik.",
            unit="kr./m²",
            direction="lower_better",
            level="afdeling",
            numerator="rent_kr",
            denominator="floor_area_m2",
            scale=1.0,
            aggregation=_AFDELING_AGG,
            source="Landsbyggefondens huslejestatistik",
            decimals=0,
            questions_da=(
                "Hvilke afdelinger har de højeste huslejer, og hvorfor?",
                "Hvordan udvikler huslejen sig i forhold til beboernes indkomst?",
            ),
            supporting=(Supporting("housing_cost_burden_pct", "Boligbyrde", "%"),),
            interval="units",
        ),
        Indicator(
            code="G1",
            dimension="G",
            name_da="Beboerdemokrati",
            name_en="Tenant democracy",
            description_da="Andel af husstandene repræsenteret på det ordinære afdelingsmøde.",
            description_en="Share of households represented at the ordinary afdelingsmøde.",
            why_da="Et levende beboerdemokrati giver lokal forankring og legitimitet.",
            unit="%",
            direction="higher_better",
            level="afdeling",
            numerator="households_represented",
            denominator="dwellings",
            scale=100.0,
            aggregation="Husstandsvægtet andel: Σ repræsenterede husstande / Σ boliger",
            source="Referater fra afdelingsmøder",
            decimals=0,
            questions_da=(
                "Hvordan arbejder boligorganisationen med at øge deltagelsen, fx med digital afstemning?",
                "Hvilke afdelinger mangler en afdelingsbestyrelse?",
            ),
            disclosure="persons",
            persons_measure="households_represented",
            interval="wilson",
        ),
        Indicator(
            code="G2",
            dimension="G",
            name_da="Frivillighed",
            name_en="Volunteering",
            description_da="Aktive frivillige pr. 100 boliger.",
            description_en="Active volunteers per 100 dwellings.",
            why_da="Frivillige bærer fællesskaber og aktiviteter i boligområderne.",
            unit="pr. 100 boliger",
            direction="higher_better",
            level="afdeling",
            numerator="volunteers",
            denominator="dwellings",
            scale=100.0,
            aggregation="Σ frivillige / Σ boliger × 100",
            source="Boligorganisationernes frivilligregistrering",
            decimals=1,
            questions_da=(
                "Hvordan kan kommunens frivilligindsats spille sammen med afdelingernes?",
                "Hvor er der få frivillige, og hvad skal der til?",
            ),
            disclosure="persons",
            persons_measure="volunteers",
            interval="units",
        ),
        Indicator(
            code="G3",
            dimension="G",
            name_da="Økonomistyring",
            name_en="Financial management",
            description_da="Tab ved lejeledighed i kr. pr. m² pr. år.",
            description_en="Loss from vacant dwellings, kr per m² per year.",
            why_da="Sund økonomistyring opdager udfordringer i tide og holder huslejen nede.",
            unit="kr./m²",
            direction="lower_better",
            level="afdeling",
            numerator="vacancy_loss_kr",
            denominator="floor_area_m2",
            scale=1.0,
            aggregation=_AFDELING_AGG,
            source="Landsbyggefondens regnskabsdatabase",
            decimals=1,
            questions_da=(
                "Hvilke afdelinger har tomgang, og hvad gøres for at udleje dem?",
                "Hvordan ligger afdelingerne på LBF's effektivitetstal?",
            ),
            supporting=(Supporting("efficiency_index", "LBF-effektivitetstal", "indeks"),),
            interval="units",
            answers=((1, "efficiency", "Hvad gøres der i de afdelinger, der ligger under den røde grænse?"),),
        ),
        Indicator(
            code="G4",
            dimension="G",
            name_da="Politikker og praksis",
            name_en="Policies and practice",
            description_da="Andel af tjeklistens politikker, som boligorganisationen har vedtaget og offentliggjort.",
            description_en="Share of the checklist's policies that the organisation has adopted and published.",
            why_da="Vedtagne politikker viser, at boligorganisationen tager ansvar for ordentlighed og ligestilling.",
            unit="%",
            direction="higher_better",
            level="organisation",
            numerator="policies_adopted",
            denominator="policies_checklist_items",
            scale=100.0,
            aggregation=_ORG_AGG,
            source="Boligorganisationens dokumenter og hjemmeside",
            decimals=0,
            questions_da=(
                "Hvilke politikker mangler, og hvornår forventes de vedtaget?",
                "Hvordan omsættes politikkerne til praksis?",
            ),
            interval="wilson",
        ),
        Indicator(
            code="G5",
            dimension="G",
            name_da="Sociale klausuler",
            name_en="Social clauses",
            description_da="Andel af bygge- og servicekontrakter med uddannelsesklausul.",
            description_en="Share of building and service contracts with a training clause.",
            why_da="Sociale klausuler skaber lærepladser og lokale arbejdspladser.",
            unit="%",
            direction="higher_better",
            level="organisation",
            numerator="contracts_with_clause",
            denominator="qualifying_contracts",
            scale=100.0,
            aggregation=_ORG_AGG,
            source="Boligorganisationens udbudsmateriale",
            decimals=0,
            questions_da=(
                "Hvordan følges der op på, at klausulerne overholdes?",
                "Kan kommunen og boligorganisationen samarbejde om lærepladser?",
            ),
            first_year=2022,
            interval="wilson",
        ),
        Indicator(
            code="G6",
            dimension="G",
            name_da="Overholdelse af regulering",
            name_en="Regulatory compliance",
            description_da="Andel af tjeklistens punkter for regeloverholdelse, der er opfyldt.",
            description_en="Share of the regulatory compliance checklist that is met.",
            why_da="Overholdelse af regler giver tryghed for, at lovgivningen følges.",
            unit="%",
            direction="higher_better",
            level="organisation",
            numerator="compliance_items_met",
            denominator="compliance_items",
            scale=100.0,
            aggregation=_ORG_AGG,
            source="Revisionsprotokol, Almenstyringsdialog og kommunalt tilsyn",
            decimals=0,
            questions_da=(
                "Er der åbne bemærkninger fra revisionen eller tilsynet?",
                "Er styringsrapport og regnskab indsendt rettidigt?",
            ),
            interval="wilson",
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


def codes(dimension: str | None = None) -> list[str]:
    """Indicator codes in registry order: all of them, or one dimension's."""
    return [c for c in CODES if dimension is None or INDICATORS[c].dimension == dimension]


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
