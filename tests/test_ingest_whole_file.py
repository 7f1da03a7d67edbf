"""A whole extract is never silently garbled or lost (issue 13): each bad *file* stops ingest with an error
naming the file (and line or column), quoting no cell, and leaving the last good processed data as it was; or
its damaged lines are quarantined and counted, and the plausibility gates stop a mostly damaged extract."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from analysis.ingest import (
    EncodingError, ExtractTooLargeError, PlausibilityError, SchemaError, run_ingest,
)
from analysis.ingest.reading import Limits, read_extract
from analysis.params import load_params
from tests.fixtures.raw import BASE, delivery, row_rule_params

CELLS = ["610190-1235", "6502854322", "650285-4322", "Fængsl", "ringet"]  # never in a message


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """processed/ from a good delivery: what a refused delivery must leave untouched."""
    folder = tmp_path_factory.mktemp("good")
    run_ingest(delivery(folder / "raw"), folder / "processed")
    return folder / "processed"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(tmp_path: Path, good: Path, raw: Path, error: type[Exception], params=None) -> str:
    """Ingest ``raw`` over a copy of the good processed data; the error's message, checked for the rules."""
    processed = tmp_path / "processed"
    shutil.copytree(good, processed)
    before = _snapshot(processed)
    with pytest.raises(error) as info:
        run_ingest(raw, processed, params)
    message = str(info.value)
    assert "\n" not in message and not any(cell in message for cell in CELLS), message
    assert _snapshot(processed) == before  # nothing of the refused delivery was written
    return message


def _lines(name: str) -> list[str]:
    return (BASE / f"{name}.csv").read_text(encoding="utf-8").splitlines()


def _write(raw: Path, name: str, lines: list[str], encoding: str = "utf-8") -> None:
    (raw / f"{name}.csv").write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")


# ----- encoding -------------------------------------------------------------------------------
def test_one_windows_1252_line_in_a_utf8_file_is_refused_naming_both_lines(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("ophold")
    data = "\r\n".join(lines[:4]).encode("utf-8") + b"\r\n" + lines[4].replace("H1", "Hø").encode("cp1252") + b"\r\n"
    (raw / "ophold.csv").write_bytes(data + "\r\n".join(lines[5:]).encode("utf-8") + b"\r\n")
    message = refused(tmp_path, good, raw, EncodingError)
    assert "ophold.csv" in message and "mixed encodings" in message and "line 5 is not UTF-8" in message
    assert "but line 4 is" in message  # the first UTF-8 letter: 'æ' on line 4


def test_a_control_character_is_refused_with_its_line(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("boliger")
    lines[2] = lines[2].replace("KAB", "K\x00B")
    _write(raw, "boliger", lines)
    message = refused(tmp_path, good, raw, EncodingError)
    assert "boliger.csv: line 3 holds a control character" in message


def test_a_windows_1252_file_is_still_read_whole(tmp_path):
    raw = delivery(tmp_path / "raw")
    _write(raw, "ophold", _lines("ophold"), encoding="cp1252")
    assert read_extract(raw, "ophold").encoding == "cp1252"


# ----- header, separator, fields --------------------------------------------------------------
def test_a_stray_separator_in_row_1_quarantines_that_row_and_shifts_nothing(tmp_path):
    raw = delivery(tmp_path / "raw")
    lines = _lines("bostoette")
    lines[1] += "ringet; ingen svar"
    _write(raw, "bostoette", lines)
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    q = report.extracts["bostoette"]
    assert (q.rows_read, q.rows_clean, q.quarantined_by_rule) == (3, 2, {"bad_field_count": 1})
    support = pd.read_parquet(tmp_path / "processed" / "support.parquet")
    assert support["support_id"].tolist() == ["F2", "F3"] and support["method"].tolist() == ["ICM", "SEL85"]
    quarantine = pd.read_parquet(tmp_path / "processed" / "quarantine.parquet")
    row = quarantine[quarantine["extract"] == "bostoette"].iloc[0]
    assert (row["row_number"], row["rule"]) == (1, "bad_field_count") and "ringet" not in row["row_json"]


def test_the_same_stray_separator_stops_the_run_by_the_quarantine_gate(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("bostoette")
    lines[1] += "ringet; ingen svar"
    _write(raw, "bostoette", lines)
    message = refused(tmp_path, good, raw, PlausibilityError)
    assert "bostoette.csv: 1 of 3 rows (33.3%) quarantined, above 5%" in message
    assert "bostoette.quarantine_share" in message and "godkendelser.yml" in message


def test_comma_separated_file_with_decimal_commas_is_counted_not_a_crash(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = [line.replace(";", ",") for line in _lines("boliger")]  # 55,5 and 4.750,00 now split into two fields
    _write(raw, "boliger", lines)
    report = run_ingest(raw, tmp_path / "processed2", row_rule_params())
    assert report.extracts["boliger"].quarantined_by_rule == {"bad_field_count": 2}
    message = refused(tmp_path, good, raw, PlausibilityError)
    assert "boliger.csv: 2 of 2 rows (100.0%) quarantined" in message


def test_a_header_that_does_not_split_into_the_contract_is_refused(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    _write(raw, "ophold", [line.replace(";", "\t") for line in _lines("ophold")])
    message = refused(tmp_path, good, raw, SchemaError)
    assert "ophold.csv: the header (line 1) does not split into the contract's columns" in message


def test_cpr_and_CPR_are_the_same_column_twice(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("indstillinger")
    _write(raw, "indstillinger", [lines[0] + ";CPR"] + [line + ";0101010101" for line in lines[1:]])
    message = refused(tmp_path, good, raw, SchemaError)
    assert "indstillinger.csv: header (line 1) has the same column twice" in message and "cpr" in message


def test_a_stray_quote_swallowing_rows_is_refused_but_a_cell_over_two_lines_is_read(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("bostoette")
    _write(raw, "bostoette", [lines[0], lines[1] + '"ringet', lines[2], lines[3] + '"'])  # F2 and F3 inside F1's cell
    message = refused(tmp_path, good, raw, EncodingError)
    assert "bostoette.csv: data row 1 or before, column slutgrund: a quote opens a value that runs over lines" in message
    _write(raw, "bostoette", [lines[0], lines[1] + '"ringet', 'igen"', *lines[2:]])
    extract = read_extract(raw, "bostoette", ("cpr",))
    assert extract.frame["slutgrund"].tolist() == ["ringet\r\nigen", "", "afbrudt"] and not extract.broken


def test_empty_trailing_columns_may_repeat(tmp_path):
    raw = delivery(tmp_path / "raw")
    _write(raw, "indstillinger", [line + ";;" for line in _lines("indstillinger")])
    extract = read_extract(raw, "indstillinger", ("cpr",))
    assert len(extract.frame) == 2 and not extract.broken


# ----- size limits ------------------------------------------------------------------------------
def test_a_field_above_the_limit_names_line_and_column(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    lines = _lines("bostoette")
    lines[3] = lines[3].replace("afbrudt", "x" * 500)
    _write(raw, "bostoette", lines)
    message = refused(tmp_path, good, raw, ExtractTooLargeError, load_params(overrides={"ingest.max_field_chars": 100}))
    assert "bostoette.csv: line 4, column slutgrund: 500 characters, above the limit of 100" in message


def test_a_huge_line_is_refused_while_streaming_before_it_is_read_whole(tmp_path):
    raw = delivery(tmp_path / "raw")
    with open(raw / "bostoette.csv", "ab") as fh:
        fh.write(b"F9;610190-1235;CTI;kommunal;2023-02-10;;" + b"y" * (40 * 2**20) + b"\r\n")
    reads = []
    real_open = open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n):
            reads.append(n)
            return self.fh.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    import analysis.ingest.reading as reading
    reading.open = lambda path, mode: Counting(real_open(path, mode))  # type: ignore[attr-defined]
    try:
        with pytest.raises(ExtractTooLargeError, match=r"bostoette.csv: line 5 is longer than 7 fields"):
            read_extract(raw, "bostoette", ("forloeb_id",), Limits(max_field_chars=1000))
    finally:
        del reading.open
    assert len(reads) == 1  # refused after the first 8 MB chunk of a 40 MB line


def test_a_file_above_the_limit_is_refused_unread(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    message = refused(tmp_path, good, raw, ExtractTooLargeError, load_params(overrides={"ingest.max_file_mb": 0.0001}))
    assert "above the limit of 0 MB (parameter ingest.max_file_mb)" in message


# ----- xlsx -------------------------------------------------------------------------------------
def _xlsx(path: Path, rows: list[list], merge: str | None = None) -> None:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)


BOLIGER = [["bolig_id", "modtaget", "boligorganisation", "bydel", "vaerelser", "areal_m2", "husleje", "forbrug",
            "boligtype", "tilskudsordning"],
           ["B1", "15-01-2023", "FSB", "Amager", 2, 55.5, 4750, 450, "familie", "midlertidigt_statsligt"],
           ["B2", "01-02-2023", "FSB", "Amager", 1, 32, 3900.5, None, "skaev", "ingen"]]


def test_a_truncated_workbook_is_refused_by_name(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    (raw / "boliger.csv").unlink()
    _xlsx(raw / "boliger.xlsx", BOLIGER)
    data = (raw / "boliger.xlsx").read_bytes()
    (raw / "boliger.xlsx").write_bytes(data[: len(data) // 2])
    message = refused(tmp_path, good, raw, EncodingError)
    assert "boliger.xlsx: not a readable .xlsx workbook" in message


def test_merged_cells_in_an_optional_column_are_quarantined_not_blank(tmp_path):
    raw = delivery(tmp_path / "raw")
    (raw / "boliger.csv").unlink()
    _xlsx(raw / "boliger.xlsx", BOLIGER, merge="C2:C3")  # boligorganisation of both rows, typed once
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    q = report.extracts["boliger"]
    assert (q.rows_clean, q.quarantined_by_rule) == (1, {"merged_cell": 1})
    quarantine = pd.read_parquet(tmp_path / "processed" / "quarantine.parquet")
    row = quarantine[quarantine["extract"] == "boliger"].iloc[0]
    assert (row["row_number"], row["column"]) == (2, "boligorganisation") and "C2:C3" in row["detail"]


def test_cpr_and_CPR_in_a_workbook_are_refused_too(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    (raw / "indstillinger.csv").unlink()
    _xlsx(raw / "indstillinger.xlsx", [["indstilling_id", "cpr", "indstillet", "ordning", "herberg_id", "CPR"],
                                        ["I1", "610190-1235", "10-01-2023", "boligsocial_anvisning", "H1", "x"]])
    assert "indstillinger.xlsx: header (line 1) has the same column twice" in refused(tmp_path, good, raw, SchemaError)


# ----- value ranges and plausibility gates -----------------------------------------------------
def test_a_subsidy_of_1e23_kr_is_out_of_range(tmp_path):
    raw = delivery(tmp_path / "raw")
    lines = _lines("anvisninger")
    lines[1] = lines[1].replace("1.250,00", "100000000000000000000000")
    _write(raw, "anvisninger", lines)
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["anvisninger"].quarantined_by_rule == {"bad_value": 1}


@pytest.mark.parametrize("extract", ["bostoette", "ophold"])
def test_a_header_only_extract_stops_the_run(tmp_path, good, extract):
    raw = delivery(tmp_path / "raw")
    _write(raw, extract, _lines(extract)[:1])
    message = refused(tmp_path, good, raw, PlausibilityError, row_rule_params())
    assert f"{extract}.csv: no data rows (only a header)" in message and f"{extract}.zero_rows" in message


def test_rows_gone_since_the_previous_extract_stop_the_run(tmp_path):
    """A file cut short exactly at a line end, or lines lost in the export, leave no trace in the file itself:
    the comparison with the previous (full-history) extract sees them."""
    raw = delivery(tmp_path / "raw")
    processed = tmp_path / "processed"
    run_ingest(raw, processed, row_rule_params())
    before = _snapshot(processed)
    _write(raw, "ophold", _lines("ophold")[:-2])
    (raw / "udtraek.yml").write_text("udtraeksdato: 2023-05-02\nsyntetisk: true\n", encoding="utf-8")
    with pytest.raises(PlausibilityError) as info:
        run_ingest(raw, processed, row_rule_params())
    assert "ophold.csv: 2 of the 7 rows of the previous extract (2023-04-03) are gone (28.6%), above 2%" in str(info.value)
    assert "ophold.rows_removed" in str(info.value) and _snapshot(processed) == before
    (raw / "godkendelser.yml").write_text('2023-04:\n  ophold.rows_removed: "To fejlregistreringer slettet"\n',
                                          encoding="utf-8")
    assert run_ingest(raw, processed, row_rule_params()).changes["stays"]["rows_removed"] == 2


def test_an_acknowledged_finding_is_published_and_recorded(tmp_path):
    raw = delivery(tmp_path / "raw")
    _write(raw, "bostoette", _lines("bostoette")[:1])
    (raw / "godkendelser.yml").write_text('2023-03:\n  bostoette.zero_rows: "Bostøtten er flyttet til nyt system"\n',
                                          encoding="utf-8")
    report = run_ingest(raw, tmp_path / "processed")
    assert report.acknowledged == {"bostoette.zero_rows": "Bostøtten er flyttet til nyt system"}
    saved = json.loads((tmp_path / "processed" / "quality.json").read_text(encoding="utf-8"))
    assert saved["acknowledged"] == report.acknowledged


def test_an_acknowledgement_for_another_month_does_not_count(tmp_path, good):
    raw = delivery(tmp_path / "raw")
    _write(raw, "bostoette", _lines("bostoette")[:1])
    (raw / "godkendelser.yml").write_text('2023-02:\n  bostoette.zero_rows: "sidste måned"\n', encoding="utf-8")
    assert "bostoette.zero_rows" in refused(tmp_path, good, raw, PlausibilityError)


def test_an_unreadable_acknowledgement_file_is_an_error_not_ignored(tmp_path, good):
    from analysis.ingest import DeliveryError

    raw = delivery(tmp_path / "raw")
    (raw / "godkendelser.yml").write_text("- bostoette.zero_rows\n", encoding="utf-8")
    assert "godkendelser.yml" in refused(tmp_path, good, raw, DeliveryError)


# ----- the data-quality verdict -------------------------------------------------------------------
def test_the_verdict_says_what_was_read_set_aside_changed_and_acknowledged():
    from analysis.ingest.quality import ExtractQuality, QualityReport, quality_verdict

    def q(extract, read, quarantined, rules):
        return ExtractQuality(extract, extract, f"{extract}.csv", "csv", "utf-8", ";", ",", read, read - quarantined,
                              quarantined, rules)

    report = QualityReport(
        "2023-03-06", "udtraek.yml", "demo", 1,
        {"ophold": q("ophold", 1000, 30, {"duplicate": 20, "cpr_malformed": 10}), "bostoette": q("bostoette", 200, 0, {})},
        changes={"stays": {"rows_added": 40, "rows_changed": 2, "rows_removed": 1, "compared_with": "2023-02-06"}},
        acknowledged={"key_figure.support_active": "Nyt fagsystem fra februar"},
    )
    text = quality_verdict(report, 0.05)
    assert "**Læst:** 2 udtræk med i alt 1.200 rækker, udtræksdato 6. marts 2023" in text
    assert "30 rækker (2,5 %) er lagt i karantæne" in text and "eksakt dublet (20), ugyldigt CPR-nummer (10)" in text
    assert "`ophold` med 3,0 %" in text
    assert "(6. februar 2023): 40 nye, 2 rettede og 1 forsvundne rækker" in text
    assert "nøgletallet `support_active` har flyttet sig meget" in text and "Nyt fagsystem fra februar" in text
    assert "højst 5 % af rækkerne i karantæne" in text
