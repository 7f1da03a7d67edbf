"""The schemas of every raw extract and processed table: the single source of truth.

Reading, row rules, renaming, the month cut, pandera validation on write and the
data dictionary (``analysis.ingest.dictionary``) are all driven
from the specifications below, so the contract (data-contract.md §2) lives in
one place in code and cannot drift between steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pandera (~0.7 s to import) is loaded only when a table actually needs its full validation
    import pandera.pandas as pa

Kind = Literal["id", "text", "date", "number", "integer", "count", "enum", "code3", "month", "cpr", "person", "label", "bool"]

DISCHARGE_CATEGORIES = (
    "egen_bolig", "udslusningsbolig", "skaev_bolig", "botilbud", "andet_herberg", "familie_venner",
    "behandling", "faengsel", "doed", "gaden", "ukendt", "andet",
)
MOVEOUT_CATEGORIES = ("udsaettelse", "frivillig", "anden_bolig", "botilbud", "institution", "doed", "ukendt")
LABEL_CATEGORIES = {"discharge": DISCHARGE_CATEGORIES, "moveout": MOVEOUT_CATEGORIES}
SUPPORT_METHODS = ("CTI", "ICM", "ACT", "SEL85")
OWNERSHIP = ("kommunal", "selvejende", "privat")

# Processed dtype per kind; raw values are always read as text first.
DTYPE: dict[str, str] = {
    "id": "str", "text": "str", "enum": "str", "code3": "str", "month": "str", "person": "str", "label": "str",
    "cpr": "str", "date": "datetime64[ns]", "number": "float64", "integer": "Int64", "count": "int64", "bool": "bool",
}


@dataclass(frozen=True)
class Column:
    """One column: processed (English) name, kind, and the raw (Danish) name where it comes from an extract."""

    name: str
    kind: Kind
    description: str
    raw: str | None = None
    required: bool = True  # empty raw value is a row error (`missing_value`)
    values: tuple[str, ...] = ()  # enumeration, for kind "enum"
    minimum: float | None = None
    maximum: float | None = None  # the contract's plausible upper bound (an amount of 1e23 kr. is a typing error)
    label: str | None = None  # label map ("discharge"/"moveout") for kind "label"
    planned: bool = False  # a date that may lie after the extract date (register validity), exempt from future_date


@dataclass(frozen=True)
class Table:
    """A processed table; with ``extract`` set it is read from ``<extract>.csv|xlsx``."""

    name: str
    description: str
    columns: tuple[Column, ...]
    extract: str | None = None
    key: tuple[str, ...] = ()  # processed names
    periods: tuple[tuple[str, str], ...] = ()  # (start, end): end before start is a row error
    references: tuple[tuple[str, str], ...] = ()  # (column, table): value must be a key of table
    start: str | None = None  # the fact date: rows dated after M are cut away
    ends: dict[str, tuple[str, ...]] = field(default_factory=dict)  # end date → columns cleared with it
    no_overlap: tuple[str, ...] = ()  # rows of one such group must not overlap in their first period

    def raw_name(self, name: str) -> str:
        """Raw (Danish) name of a processed column; person_id comes from `cpr`."""
        return next((c.raw or c.name for c in self.columns if c.name == name), "cpr")

    @property
    def raw_columns(self) -> dict[str, Column]:
        return {c.raw: c for c in self.columns if c.raw}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def processed_columns(self) -> list[Column]:
        """Columns as written: CPR becomes person_id, a label adds its category."""
        out: list[Column] = []
        for c in self.columns:
            if c.kind == "cpr":
                out.append(Column("person_id", "person", "Keyed pseudonym of the CPR number (16 hex characters)."))
            else:
                out.append(c)
            if c.kind == "label":
                out.append(Column(category_column(c), "enum", f"Category of `{c.raw}` (data-contract §3) via labels.yml; "
                                  "NA while the stay or tenancy has not ended.", required=False,
                                  values=LABEL_CATEGORIES[c.label or ""]))
        return out


def category_column(label: Column) -> str:
    return label.name.replace("_reason", "_category")


def _c(raw: str, name: str, kind: Kind, description: str, **kw) -> Column:
    return Column(name, kind, description, raw=raw, **kw)


TABLES: dict[str, Table] = {t.name: t for t in (
    Table(
        "shelters", "Shelter and housing-service register (reference data); one row per validity period.",
        (
            _c("herberg_id", "shelter_id", "id", "Shelter key."),
            _c("navn", "name", "text", "Shelter name."),
            _c("ejerform", "ownership", "enum", "Ownership.", values=OWNERSHIP),
            _c("paragraf", "paragraph", "enum", "Social Services Act section of the places.", values=("110", "107", "108")),
            _c("maalgruppe", "target_group", "text", "Target group (voksne, unge, kvinder, ...).", required=False),
            _c("pladser", "places", "count", "Number of places.", minimum=0, maximum=1_000),
            _c("gyldig_fra", "valid_from", "date", "Places valid from (may be planned, after the extract date).", planned=True),
            _c("gyldig_til", "valid_to", "date", "Places valid until, inclusive (NaT = still valid; may be planned).",
               required=False, planned=True),
            _c("konverterbare_pladser", "convertible_places", "integer",
               "Places the §110→§107 screening found convertible (NA = not screened).", required=False, minimum=0, maximum=1_000),
        ),
        extract="herberger", key=("shelter_id", "paragraph", "valid_from"), periods=(("valid_from", "valid_to"),),
        start="valid_from", ends={"valid_to": ()}, no_overlap=("shelter_id", "paragraph"),
    ),
    Table(
        "stays", "§110 shelter stays.",
        (
            _c("ophold_id", "stay_id", "id", "Stay key."),
            _c("cpr", "cpr", "cpr", "CPR number (raw only)."),
            _c("herberg_id", "shelter_id", "id", "Shelter; must exist in herberger."),
            _c("indskrevet", "admitted", "date", "Admission date."),
            _c("udskrevet", "discharged", "date", "Discharge date (NaT = still staying).", required=False),
            _c("udskrivningsgrund", "discharge_reason", "label", "Discharge reason as typed.", required=False, label="discharge"),
            _c("handlekommune", "acting_municipality", "code3", "Acting municipality (3 digits; 101 = København)."),
        ),
        extract="ophold", key=("stay_id",), periods=(("admitted", "discharged"),), references=(("shelter_id", "shelters"),),
        start="admitted", ends={"discharged": ("discharge_reason", "discharge_category")},
    ),
    Table(
        "dwellings", "Dwellings received for boligsocial anvisning.",
        (
            _c("bolig_id", "dwelling_id", "id", "Dwelling key."),
            _c("modtaget", "received", "date", "Date the municipality received the dwelling."),
            _c("boligorganisation", "housing_association", "text", "Housing association.", required=False),
            _c("bydel", "district", "text", "City district.", required=False),
            _c("vaerelser", "rooms", "integer", "Rooms.", required=False, minimum=0, maximum=20),
            _c("areal_m2", "area_m2", "number", "Floor area (m²).", required=False, minimum=0, maximum=1_000),
            _c("husleje", "rent", "number", "Rent excluding utilities (kr/month).", minimum=0, maximum=100_000),
            _c("forbrug", "utilities", "number", "Utilities on account (kr/month; NaN = unknown).", required=False, minimum=0, maximum=20_000),
            _c("boligtype", "dwelling_type", "enum", "Dwelling type.", values=("familie", "ungdom", "aeldre", "skaev", "udslusning")),
            _c("tilskudsordning", "subsidy_scheme", "enum", "Rent-subsidy scheme.",
               values=("ingen", "midlertidigt_statsligt", "midlertidigt_kommunalt", "permanent")),
        ),
        extract="boliger", key=("dwelling_id",), start="received",
    ),
    Table(
        "allocations", "Allocations (anvisninger) and the tenancies that follow.",
        (
            _c("anvisning_id", "allocation_id", "id", "Allocation key."),
            _c("bolig_id", "dwelling_id", "id", "Dwelling; must exist in boliger."),
            _c("cpr", "cpr", "cpr", "CPR number (raw only)."),
            _c("anvist", "allocated", "date", "Allocation date."),
            _c("indflyttet", "moved_in", "date", "Move-in (NaT = not yet).", required=False),
            _c("fraflyttet", "moved_out", "date", "Move-out (NaT = still living there).", required=False),
            _c("fraflytningsgrund", "moveout_reason", "label", "Move-out reason as typed.", required=False, label="moveout"),
            _c("huslejetilskud", "rent_subsidy", "number", "Rent subsidy at move-in (kr/month; 0 if none).", required=False, minimum=0, maximum=100_000),
        ),
        extract="anvisninger", key=("allocation_id",), periods=(("allocated", "moved_in"), ("moved_in", "moved_out")),
        references=(("dwelling_id", "dwellings"),), start="allocated",
        ends={"moved_in": (), "moved_out": ("moveout_reason", "moveout_category")},
    ),
    Table(
        "referrals", "Referrals to housing (includes the pilot).",
        (
            _c("indstilling_id", "referral_id", "id", "Referral key."),
            _c("cpr", "cpr", "cpr", "CPR number (raw only)."),
            _c("indstillet", "referred", "date", "Referral date."),
            _c("ordning", "scheme", "enum", "Scheme referred to.",
               values=("udslusningsbolig", "boligsocial_anvisning", "skaev_bolig", "botilbud_107", "botilbud_108")),
            _c("herberg_id", "shelter_id", "id", "Shelter referred from (NA = not from a shelter).", required=False),
        ),
        extract="indstillinger", key=("referral_id",), references=(("shelter_id", "shelters"),), start="referred",
    ),
    Table(
        "support", "Floating support episodes (§85 / §99).",
        (
            _c("forloeb_id", "support_id", "id", "Support episode key."),
            _c("cpr", "cpr", "cpr", "CPR number (raw only)."),
            _c("metode", "method", "enum", "Method.", values=SUPPORT_METHODS),
            _c("leverandoer", "provider", "enum", "Provider.", values=OWNERSHIP),
            _c("start", "start", "date", "Start date."),
            _c("slut", "end", "date", "End date (NaT = ongoing).", required=False),
            _c("slutgrund", "end_reason", "text", "End reason as typed.", required=False),
        ),
        extract="bostoette", key=("support_id",), periods=(("start", "end"),), start="start", ends={"end": ("end_reason",)},
    ),
    Table(
        "income", "Monthly income panel.",
        (
            _c("cpr", "cpr", "cpr", "CPR number (raw only)."),
            _c("maaned", "month", "month", "Month (YYYY-MM)."),
            _c("ydelse", "benefit", "text", "Main source of income.", required=False),
            _c("nettoindkomst", "net_income", "number", "Disposable income after tax (kr/month).", required=False,
               minimum=-1_000_000, maximum=1_000_000),
            _c("boligstoette", "housing_benefit", "number", "Housing benefit (kr/month).", required=False, minimum=0, maximum=50_000),
            _c("restance", "arrears", "number", "Rent arrears at month end (kr).", required=False, minimum=0, maximum=10_000_000),
        ),
        extract="forsoergelse", key=("person_id", "month"), start="month",
    ),
    Table(
        "persons", "One row per person seen in any extract; derived from the CPR before it is dropped.",
        (
            Column("person_id", "person", "Keyed pseudonym of the CPR number."),
            Column("gender", "enum", "M (last CPR digit odd) or K.", values=("M", "K")),
            Column("birth_year", "integer", "Birth year (date part and 7th digit, standard century rule)."),
        ),
        key=("person_id",),
    ),
    Table(
        "quarantine", "Rows that broke a row-level rule, pseudonymised (no CPR).",
        (
            Column("extract", "text", "Extract name."),
            Column("row_number", "count", "1-based data row in the source file (header not counted)."),
            Column("rule", "text", "Rule broken (first one checked)."),
            Column("column", "text", "Column concerned (empty for whole-row rules)."),
            Column("detail", "text", "What was wrong."),
            Column("row_json", "text", "The raw row as JSON; cpr replaced by person_id or <malformed>."),
        ),
    ),
    Table(
        "episodes", "Shelter episodes of the reference month's cut (data-contract §4).",
        (
            Column("episode_id", "id", "person_id and start date."),
            Column("person_id", "person", "Pseudonym."),
            Column("start", "date", "First admission."),
            Column("end", "date", "Latest discharge (NaT = open at the end of M).", required=False),
            Column("nights", "count", "Nights in the union of the stays (open stays censored at the first day after M)."),
            Column("n_stays", "count", "Stays chained into the episode."),
            Column("discharge_category", "enum", "Category of the stay with the latest discharge (NA if open).",
                   required=False, values=DISCHARGE_CATEGORIES),
            Column("first_shelter_id", "id", "Shelter of the first admission."),
            Column("last_shelter_id", "id", "Shelter of the stay with the latest discharge."),
            Column("acting_municipality", "code3", "Acting municipality of the last stay."),
            Column("open", "bool", "Open at the end of M."),
        ),
        key=("episode_id",),
    ),
    Table(
        "tenancies", "Allocations of the month's cut with their dwelling, pathway and support (architecture.md).",
        (
            Column("allocation_id", "id", "Allocation key."),
            Column("dwelling_id", "id", "Dwelling."),
            Column("person_id", "person", "Pseudonym."),
            Column("allocated", "date", "Allocation date."),
            Column("moved_in", "date", "Move-in (NaT = not by the end of M).", required=False),
            Column("moved_out", "date", "Move-out (NaT = still living there at the end of M).", required=False),
            Column("moveout_category", "enum", "Move-out category.", required=False, values=MOVEOUT_CATEGORIES),
            Column("rent_subsidy", "number", "Rent subsidy at move-in (kr/month).", required=False),
            Column("rent", "number", "Dwelling rent excluding utilities (kr/month; NaN if the dwelling is not in the cut).",
                   required=False),
            Column("utilities", "number", "Utilities on account (kr/month).", required=False),
            Column("dwelling_type", "enum", "Dwelling type.", required=False,
                   values=("familie", "ungdom", "aeldre", "skaev", "udslusning")),
            Column("subsidy_scheme", "enum", "Rent-subsidy scheme.", required=False,
                   values=("ingen", "midlertidigt_statsligt", "midlertidigt_kommunalt", "permanent")),
            Column("housed_from_homelessness", "bool",
                   "Moved in with a §110 stay ending at most `definitions.housed_from_homelessness_days` before "
                   "(or still open at) move-in, or after a referral from a shelter."),
            Column("pathway", "enum", "`shelter` when a referral from a shelter preceded the move-in, else `other`.",
                   values=("shelter", "other")),
            Column("support_method", "enum", "Support open at move-in or starting within "
                   "`definitions.support_window_days` after it (earliest start); `none` otherwise.",
                   values=(*SUPPORT_METHODS, "none")),
        ),
        key=("allocation_id",),
    ),
)}

EXTRACTS: dict[str, Table] = {t.extract: t for t in TABLES.values() if t.extract}
INGEST_TABLES = ("persons", *(t.name for t in EXTRACTS.values()))


PATTERNS: dict[str, str] = {  # regex checks per kind (pandera and the fast path in ``storage`` share them)
    "person": r"^[0-9a-f]{16}$",
    "code3": r"^\d{3}$",
    "month": r"^\d{4}-(0[1-9]|1[0-2])$",
}


def _pa_column(col: Column) -> pa.Column:
    import pandera.pandas as pa

    checks = []
    if col.values:
        checks.append(pa.Check.isin(list(col.values)))
    if col.minimum is not None:
        checks.append(pa.Check.ge(col.minimum))
    if col.maximum is not None:
        checks.append(pa.Check.le(col.maximum))
    if col.kind in PATTERNS:
        checks.append(pa.Check.str_matches(PATTERNS[col.kind]))
    return pa.Column(DTYPE[col.kind], checks=checks, nullable=not col.required)


def pandera_schema(table: str) -> pa.DataFrameSchema:
    """Schema a processed table is validated with before it is written."""
    import pandera.pandas as pa

    spec = TABLES[table]
    columns = {c.name: _pa_column(c) for c in spec.processed_columns}
    return pa.DataFrameSchema(columns, strict=True, ordered=True, unique=list(spec.key) or None, name=table)


def processed_names(table: str) -> list[str]:
    return [c.name for c in TABLES[table].processed_columns]
