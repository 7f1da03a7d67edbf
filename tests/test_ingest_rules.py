"""Row-level rules: every bad row is quarantined with rule, column and source row; nothing is dropped."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.ingest import run_ingest
from analysis.ingest.pseudonym import Pseudonymiser
from tests.fixtures.raw import delivery, row_rule_params

EXPECTED_OPHOLD = {  # 1-based data row → (rule, column)
    2: ("cpr_malformed", "cpr"),
    3: ("bad_date", "indskrevet"),
    4: ("end_before_start", "udskrevet"),
    5: ("future_date", "indskrevet"),
    6: ("unknown_reference", "herberg_id"),
    7: ("duplicate_key", "ophold_id"),
    8: ("duplicate", ""),
    9: ("bad_value", "handlekommune"),
    10: ("missing_value", "cpr"),
    11: ("cpr_malformed", "cpr"),
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    raw = delivery(base / "raw", ophold="ophold_bad_rows.csv", boliger="boliger_bad_rows.csv")
    report = run_ingest(raw, base / "processed", row_rule_params())
    return report, pd.read_parquet(base / "processed" / "quarantine.parquet"), base


def test_each_bad_row_gets_its_rule(bad):
    _, quarantine, _ = bad
    got = quarantine[quarantine.extract == "ophold"].set_index("row_number")[["rule", "column"]]
    assert {r: tuple(v) for r, v in got.iterrows()} == EXPECTED_OPHOLD


def test_numbers_and_enumerations(bad):
    _, quarantine, _ = bad
    got = quarantine[quarantine.extract == "boliger"].set_index("row_number")[["rule", "column"]]
    assert {r: tuple(v) for r, v in got.iterrows()} == {
        2: ("bad_number", "husleje"), 3: ("bad_number", "vaerelser"), 4: ("bad_value", "boligtype")}


def test_reconciliation_counts(bad):
    report, _, _ = bad
    q = report.extracts["ophold"]
    assert (q.rows_read, q.rows_clean, q.rows_quarantined) == (13, 3, 10)
    assert q.duplicates_collapsed == 1
    for e in report.extracts.values():
        assert e.rows_read == e.rows_clean + e.rows_quarantined


def test_unmapped_labels_are_counted_not_dropped(bad):
    report, _, base = bad
    assert report.extracts["ophold"].unmapped_labels == {"udskrivningsgrund": {"rumrejse": 2}}
    stays = pd.read_parquet(base / "processed" / "stays.parquet")
    assert stays.loc[stays.stay_id == "S12", "discharge_category"].item() == "ukendt"


def test_quarantine_holds_no_cpr(bad):
    _, quarantine, _ = bad
    rows = [json.loads(r) for r in quarantine.row_json]
    cprs = {r["cpr"] for r in rows if "cpr" in r}
    assert "<malformed>" in cprs
    assert all(c == "<malformed>" or len(c) == 16 for c in cprs)
    text = quarantine.to_csv()
    for cpr in ("610190", "6101901235", "650285", "12345", "611390"):
        assert cpr not in text


def test_quality_json_written(bad):
    _, _, base = bad
    data = json.loads((base / "processed" / "quality.json").read_text(encoding="utf-8"))
    assert data["extracts"]["ophold"]["quarantined_by_rule"]["duplicate"] == 1
    assert set(data["outputs"]) >= {"persons", "stays", "quarantine"}


def _append(path, line):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_overlapping_register_periods(tmp_path):
    raw = delivery(tmp_path / "raw")
    _append(raw / "herberger.csv", "H1;Sporsløjfen;selvejende;110;unge;12;01-06-2022;;")  # H1 §110 has no end
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["herberger"].quarantined_by_rule == {"overlapping_period": 1}


def test_income_months(tmp_path):
    raw = delivery(tmp_path / "raw")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-13;loen;1000;0;0")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-05;loen;1000;0;0")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-01;loen;1000;0;0")
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["forsoergelse"].quarantined_by_rule == {"bad_date": 1, "duplicate_key": 1, "future_date": 1}


# ----- boundaries of the comparison rules (data contract §1–2), checked in process on one extract each -----
EXTRACT_DATE = pd.Timestamp("2023-04-03")


def _checked(extract: str, header: str, rows: list[str], known: dict | None = None):
    """``check_extract`` on a tiny hand-made extract (rows as ';'-separated text, as Danish Excel writes them)."""
    from pathlib import Path

    from analysis.ingest.pseudonym import Pseudonymiser
    from analysis.ingest.reading import RawExtract
    from analysis.ingest.rules import check_extract
    from analysis.ingest.schemas import EXTRACTS

    frame = pd.DataFrame([r.split(";") for r in rows], columns=header.split(";"), dtype=object)
    raw = RawExtract(extract, Path(f"{extract}.csv"), frame, "csv", "utf-8", ";", ",")
    checked = check_extract(raw, EXTRACTS[extract], Pseudonymiser(b"k"), EXTRACT_DATE, known or {})
    return [(r, c) if r else None for r, c in zip(checked.flags.rule, checked.flags.column)], checked


OPHOLD_HEADER = "ophold_id;cpr;herberg_id;indskrevet;udskrevet;udskrivningsgrund;handlekommune"


@pytest.mark.parametrize("admitted, discharged, expected", [
    ("05-02-2023", "05-02-2023", None),                                # same-day stay: udskrevet ≥ indskrevet holds
    ("05-02-2023", "06-02-2023", None),
    ("05-02-2023", "04-02-2023", ("end_before_start", "udskrevet")),   # one day before: broken
    ("03-04-2023", "", None),                                           # admitted on the extract date: not future
    ("04-04-2023", "", ("future_date", "indskrevet")),                 # the day after the extract date
    ("01-04-2023", "03-04-2023", None),                                 # discharged on the extract date
    ("01-04-2023", "04-04-2023", ("future_date", "udskrevet")),
    ("2023-04-03", "2023-04-03", None),                                 # both on the extract date (ISO)
])
def test_stay_date_rules_at_their_boundaries(admitted, discharged, expected):
    flags, checked = _checked("ophold", OPHOLD_HEADER, [f"S1;610190-1235;H1;{admitted};{discharged};Gaden;101"],
                              {"shelters": pd.Index(["H1"])})
    assert flags == [expected]
    assert len(checked.clean) == (expected is None)


@pytest.mark.parametrize("moved_in, moved_out, expected", [
    ("10-01-2023", "10-01-2023", None),                               # moved out the day they moved in
    ("10-01-2023", "09-01-2023", ("end_before_start", "fraflyttet")),
    ("09-01-2023", "", ("end_before_start", "indflyttet")),          # moved in before the allocation
    ("03-04-2023", "03-04-2023", None),
    ("03-04-2023", "04-04-2023", ("future_date", "fraflyttet")),
])
def test_tenancy_date_rules_at_their_boundaries(moved_in, moved_out, expected):
    header = "anvisning_id;bolig_id;cpr;anvist;indflyttet;fraflyttet;fraflytningsgrund;huslejetilskud"
    row = f"A1;B1;610190-1235;10-01-2023;{moved_in};{moved_out};;0"
    assert _checked("anvisninger", header, [row], {"dwellings": pd.Index(["B1"])})[0] == [expected]


@pytest.mark.parametrize("month, expected", [
    ("2023-04", None),                              # the extract's own month is not in the future
    ("2023-05", ("future_date", "maaned")),
    ("2023-03", None),
])
def test_income_month_against_the_extract_month(month, expected):
    header = "cpr;maaned;ydelse;nettoindkomst;boligstoette;restance"
    assert _checked("forsoergelse", header, [f"610190-1235;{month};loen;1000;0;0"])[0] == [expected]


@pytest.mark.parametrize("rent, expected", [
    ("0", None), ("0,00", None), ("-0,01", ("bad_value", "husleje")), ("-1", ("bad_value", "husleje")),
])
def test_minimum_is_allowed_and_below_it_is_not(rent, expected):
    header = "bolig_id;modtaget;boligorganisation;bydel;vaerelser;areal_m2;husleje;forbrug;boligtype;tilskudsordning"
    assert _checked("boliger", header, [f"B1;01-01-2023;fsb;Nørrebro;2;50;{rent};300;familie;ingen"])[0] == [expected]


@pytest.mark.parametrize("second_from, expected", [
    ("31-12-2022", ("overlapping_period", "gyldig_fra")),  # gyldig_til is inclusive: both valid on 31 December
    ("01-01-2023", None),                                   # the next day: no overlap
])
def test_register_periods_touching_and_overlapping(second_from, expected):
    header = "herberg_id;navn;ejerform;paragraf;maalgruppe;pladser;gyldig_fra;gyldig_til;konverterbare_pladser"
    rows = ["H2;X;kommunal;110;voksne;20;01-01-2020;31-12-2022;", f"H2;X;kommunal;110;voksne;15;{second_from};;"]
    assert _checked("herberger", header, rows)[0] == [None, expected]


def test_planned_register_dates_may_lie_after_the_extract_date():
    header = "herberg_id;navn;ejerform;paragraf;maalgruppe;pladser;gyldig_fra;gyldig_til;konverterbare_pladser"
    assert _checked("herberger", header, ["H3;X;kommunal;107;voksne;5;04-04-2023;31-12-2030;"])[0] == [None]


# ----- what the quarantine says about each row: rule, column and detail (found by mutation testing) -----
def _flags(checked) -> list[tuple[str | None, str, str]]:
    f = checked.flags
    return list(zip(f.rule, f.column, f.detail))


def test_every_rule_names_its_column_and_says_why_in_the_detail():
    rows = [
        "S1;610190-1235;H1;01-02-2023;;Gaden;101",           # clean: nothing written for it
        "S2;12345;H1;01-02-2023;;;101",
        "S3;610190-1235;H1;32-01-2023;;;101",
        "S4;610190-1235;H1;01-02-2023;;;1O1",
        "S5;610190-1235;H1;05-02-2023;04-02-2023;;101",
        "S6;610190-1235;H1;04-04-2023;;;101",
        "S7;610190-1235;H9;01-02-2023;;;101",
        "S1;610190-1235;H1;01-02-2023;;Gaden;101",           # an exact copy of the first row
        "S1;650285-4322;H1;01-02-2023;;;101",                # its key again
        "S10;;H1;01-02-2023;;;101",
    ]
    _, checked = _checked("ophold", OPHOLD_HEADER, rows, {"shelters": pd.Index(["H1"])})
    assert _flags(checked) == [
        (None, "", ""),
        ("cpr_malformed", "cpr", "not a CPR number (DDMMYY-SSSS or 10 digits, valid day and month)"),
        ("bad_date", "indskrevet", "not a date (DD-MM-YYYY or YYYY-MM-DD): 32-01-2023"),
        ("bad_value", "handlekommune", "not a 3-digit code: 1O1"),
        ("end_before_start", "udskrevet", "udskrevet before indskrevet"),
        ("future_date", "indskrevet", "after the extract date 2023-04-03"),
        ("unknown_reference", "herberg_id", "not a key of shelters: H9"),
        ("duplicate", "", "exact copy of an earlier row"),
        ("duplicate_key", "ophold_id", "key already used by an earlier row"),
        ("missing_value", "cpr", "required value is empty"),
    ]
    # the clean row: its open stay has no discharge category yet, whatever reason was typed
    clean = checked.clean.iloc[0]
    assert clean["discharge_reason"] == "Gaden" and clean["discharge_category"] is None
    assert checked.person_id.iloc[0] == Pseudonymiser(b"k").person_ids(pd.Series(["6101901235"])).item()


def test_numbers_enumerations_months_and_overlaps_say_why():
    boliger = "bolig_id;modtaget;boligorganisation;bydel;vaerelser;areal_m2;husleje;forbrug;boligtype;tilskudsordning"
    _, checked = _checked("boliger", boliger, [
        "B1;01-01-2023;;;2;50;abc;300;familie;ingen", "B2;01-01-2023;;;2,5;50;4000;300;familie;ingen",
        "B3;01-01-2023;;;2;50;-1;300;familie;ingen", "B4;01-01-2023;;;2;50;4000;300;villa;ingen",
        "B5;01-01-2023;;;2;50;4000;;familie;ingen"])
    assert _flags(checked) == [
        ("bad_number", "husleje", "not a number (decimal ','): abc"),
        ("bad_number", "vaerelser", "not a whole number: 2,5"),
        ("bad_value", "husleje", "below 0: -1"),
        ("bad_value", "boligtype", "not one of familie, ungdom, aeldre, skaev, udslusning: villa"),
        (None, "", ""),
    ]
    assert checked.person_id is None and checked.clean["housing_association"].tolist() == [None]
    income = "cpr;maaned;ydelse;nettoindkomst;boligstoette;restance"
    _, checked = _checked("forsoergelse", income, ["610190-1235;2023-13;loen;1;0;0", "610190-1235;2023-05;loen;1;0;0"])
    assert _flags(checked) == [("bad_date", "maaned", "not a month (YYYY-MM): 2023-13"),
                               ("future_date", "maaned", "after the extract month 2023-04")]
    herberger = "herberg_id;navn;ejerform;paragraf;maalgruppe;pladser;gyldig_fra;gyldig_til;konverterbare_pladser"
    _, checked = _checked("herberger", herberger, ["H2;X;kommunal;110;voksne;20;01-01-2020;;",
                                                   "H2;X;kommunal;110;voksne;15;01-01-2023;;",
                                                   "H3;X;kommunal;110;voksne;1,5;01-01-2023;;"])
    assert _flags(checked)[1:] == [
        ("overlapping_period", "gyldig_fra", "overlaps an earlier period of the same shelter_id, paragraph"),
        ("bad_number", "pladser", "not a whole number: 1,5")]  # places are a count: whole numbers only


def test_cprs_typed_into_free_text_are_masked_and_empty_text_is_none():
    header = "forloeb_id;cpr;metode;leverandoer;start;slut;slutgrund"
    _, checked = _checked("bostoette", header, ["F1;610190-1235;CTI;kommunal;01-01-2023;01-02-2023;ring 610190-1235",
                                                "F2;610190-1235;CTI;kommunal;01-01-2023;;"])
    assert checked.clean["end_reason"].tolist() == ["ring <cpr>", None]
    _, checked = _checked("ophold", OPHOLD_HEADER, ["S1;610190-1235;H1;01-02-2023;02-02-2023;cpr 6101901235 gaden;101"],
                          {"shelters": pd.Index(["H1"])})
    assert checked.clean["discharge_reason"].tolist() == ["cpr <cpr> gaden"]


def test_columns_missing_and_extra():
    from pathlib import Path

    from analysis.ingest.errors import SchemaError
    from analysis.ingest.reading import RawExtract
    from analysis.ingest.rules import check_columns
    from analysis.ingest.schemas import EXTRACTS

    frame = pd.DataFrame(columns=["ophold_id", "cpr", "herberg_id", "indskrevet", "udskrevet", "udskrivningsgrund",
                                  "handlekommune", "note"])
    assert check_columns(RawExtract("ophold", Path("ophold.csv"), frame, "csv", "utf-8", ";", ","), EXTRACTS["ophold"]) == ["note"]
    _, checked = _checked("ophold", OPHOLD_HEADER + ";note", ["S1;610190-1235;H1;01-02-2023;;;101;x"],
                          {"shelters": pd.Index(["H1"])})
    assert checked.extra_columns == ["note"]
    with pytest.raises(SchemaError) as info:
        check_columns(RawExtract("ophold", Path("ophold.csv"), frame.drop(columns=["cpr", "herberg_id"]), "csv",
                                 "utf-8", ";", ","), EXTRACTS["ophold"])
    assert str(info.value) == ("ophold.csv: required column(s) missing: cpr, herberg_id (found: ophold_id, indskrevet, "
                               "udskrevet, udskrivningsgrund, handlekommune, note)")


def test_a_key_of_two_columns_is_named_in_full_and_an_empty_optional_id_is_none():
    header = "cpr;maaned;ydelse;nettoindkomst;boligstoette;restance"
    _, checked = _checked("forsoergelse", header, ["610190-1235;2023-01;loen;1;0;0", "610190-1235;2023-01;su;2;0;0"])
    assert _flags(checked)[1] == ("duplicate_key", "cpr,maaned", "key already used by an earlier row")
    header = "indstilling_id;cpr;indstillet;ordning;herberg_id"
    _, checked = _checked("indstillinger", header, ["I1;610190-1235;01-02-2023;udslusningsbolig;"],
                          {"shelters": pd.Index(["H1"])})
    assert checked.clean["shelter_id"].tolist() == [None]  # not referred from a shelter


# ----- survivors of the 6 December run (tests/MUTATION.md): the maximum itself, and what cpr_in_value says ------
BOLIGER_HEADER = "bolig_id;modtaget;boligorganisation;bydel;vaerelser;areal_m2;husleje;forbrug;boligtype;tilskudsordning"


@pytest.mark.parametrize("rooms, expected", [
    ("20", None),                                               # the contract's maximum itself is allowed
    ("21", ("bad_value", "vaerelser", "above 20: 21")),         # one above it is not, and the detail says so
])
def test_maximum_is_allowed_and_above_it_is_not(rooms, expected):
    flags = _flags(_checked("boliger", BOLIGER_HEADER, [f"B1;01-01-2023;fsb;Nørrebro;{rooms};50;4000;300;familie;ingen"])[1])
    assert flags == [expected or (None, "", "")]


def test_a_cpr_shaped_id_or_number_is_quarantined_naming_the_column_but_not_the_value():
    _, checked = _checked("ophold", OPHOLD_HEADER, ["200880 2020;610190-1235;H1;01-02-2023;;;101",
                                                    "S2;610190-1235;H1;01-02-2023;;;101"],
                          {"shelters": pd.Index(["H1"])})
    assert _flags(checked) == [("cpr_in_value", "ophold_id", "shaped like a CPR number (value not shown)"),
                               (None, "", "")]
    _, checked = _checked("boliger", BOLIGER_HEADER, ["B1;01-01-2023;fsb;Nørrebro;2;50;2008802020;300;familie;ingen"])
    assert _flags(checked) == [("cpr_in_value", "husleje", "shaped like a CPR number (value not shown)")]
