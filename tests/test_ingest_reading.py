"""Reading extracts as delivered: encodings, separators, decimal marks, mixed dates, xlsx, structural errors."""
from __future__ import annotations

import logging

import pandas as pd
import pytest
from openpyxl import Workbook

from analysis.ingest import AmbiguousExtractError, EncodingError, MissingExtractError, SchemaError, run_ingest
from analysis.ingest.reading import _column_text, parse_dates, parse_numbers, read_extract, stripped
from tests.fixtures.raw import delivery, row_rule_params


def test_cp1252_keeps_danish_letters(tmp_path):
    raw = delivery(tmp_path, herberger="herberger_cp1252.csv")
    extract = read_extract(raw, "herberger")
    assert extract.encoding == "cp1252"
    assert list(extract.frame["navn"]) == ["Sporsløjfen", "Gl. Køge Landevej", "Gl. Køge Landevej"]


def test_utf8_with_bom_has_clean_header(tmp_path):
    raw = delivery(tmp_path, herberger="herberger_bom.csv")
    extract = read_extract(raw, "herberger")
    assert extract.encoding == "utf-8-sig"
    assert extract.frame.columns[0] == "herberg_id"


def test_undecodable_file_is_an_encoding_error(tmp_path):
    raw = delivery(tmp_path, herberger="herberger_undecodable.csv")
    with pytest.raises(EncodingError, match="herberger.csv"):
        read_extract(raw, "herberger")


def test_comma_separated_file_reads_point_decimals_and_is_reported(tmp_path):
    raw = delivery(tmp_path, boliger="boliger_comma.csv")
    report = run_ingest(raw, tmp_path / "processed")
    q = report.extracts["boliger"]
    assert (q.separator, q.decimal, q.rows_quarantined) == (",", ".", 0)
    dwellings = pd.read_parquet(tmp_path / "processed" / "dwellings.parquet")
    assert dwellings["rent"].tolist() == [4750.0, 3900.5]
    assert dwellings["area_m2"].tolist() == [55.5, 32.0]


def test_decimal_comma_with_thousands_dots():
    values, bad = parse_numbers(pd.Series(["4.750,00", "4750,5", "12", "", "4.75", "1.2345,0"]), ",")
    assert values.iloc[:3].tolist() == [4750.0, 4750.5, 12.0]
    assert bad.tolist() == [False, False, False, False, True, True]


def test_mixed_date_formats_in_one_column():
    values, bad = parse_dates(pd.Series(["01-02-2023", "2023-02-01", "", "31-02-2023", "1/2/2023"]))
    assert values.iloc[0] == values.iloc[1] == pd.Timestamp("2023-02-01")
    assert pd.isna(values.iloc[2])
    assert bad.tolist() == [False, False, False, True, True]


def test_stripped_cells_merge_and_stripping_again_changes_nothing():
    cells = stripped(pd.Series([" a", "a ", None, "b", "\tb\n", ""], index=[5, 4, 3, 2, 1, 0]))
    assert cells.tolist() == ["a", "a", "", "b", "b", ""]
    assert cells.index.tolist() == [5, 4, 3, 2, 1, 0]
    again = stripped(cells)
    assert again.tolist() == cells.tolist() and list(again.cat.categories) == list(cells.cat.categories)
    assert stripped(pd.Series(["x ", "y"], dtype="category")).tolist() == ["x", "y"]


def _write_xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_xlsx_with_real_dates_and_numbers(tmp_path):
    raw = delivery(tmp_path)
    (raw / "boliger.csv").unlink()
    _write_xlsx(raw / "boliger.xlsx", [
        ["bolig_id", "modtaget", "boligorganisation", "bydel", "vaerelser", "areal_m2", "husleje", "forbrug",
         "boligtype", "tilskudsordning"],
        ["B1", pd.Timestamp("2023-01-15").to_pydatetime(), "FSB", "Amager", 2, 55.5, 4750, 450, "familie", "midlertidigt_statsligt"],
        ["B2", "01-02-2023", "KAB", "Nørrebro", 1, 32, 3900.5, None, "skaev", "ingen"],
    ])
    (raw / "anvisninger.csv").unlink()
    _write_xlsx(raw / "anvisninger.xlsx", [
        ["anvisning_id", "bolig_id", "cpr", "anvist", "indflyttet", "fraflyttet", "fraflytningsgrund", "huslejetilskud"],
        ["A1", "B1", 610190_1235, "20-01-2023", "01-02-2023", None, None, 1250],
        ["A2", "B2", "650285-4322", "05-02-2023", "15-02-2023", None, None, 0],
    ])
    report = run_ingest(raw, tmp_path / "processed")
    assert report.extracts["boliger"].file_format == "xlsx"
    assert report.extracts["boliger"].rows_clean == 2
    assert report.extracts["anvisninger"].rows_clean == 2
    dwellings = pd.read_parquet(tmp_path / "processed" / "dwellings.parquet")
    assert dwellings["received"].tolist() == [pd.Timestamp("2023-01-15"), pd.Timestamp("2023-02-01")]
    assert dwellings["rent"].tolist() == [4750.0, 3900.5]


def test_xlsx_cells_of_different_types_keep_their_own_text():
    day = pd.Timestamp("2023-01-15")
    cells = pd.Series([True, 1, 1.0, 1.5, day, day, None, "x"], dtype=object)
    # True == 1 == 1.0 in Python, so the texts are remembered per type and value
    assert _column_text(cells).tolist() == ["True", "1", "1", "1.5", "2023-01-15", "2023-01-15", "", "x"]


def test_both_csv_and_xlsx_is_an_error(tmp_path):
    raw = delivery(tmp_path)
    _write_xlsx(raw / "boliger.xlsx", [["bolig_id"]])
    with pytest.raises(AmbiguousExtractError, match="boliger.csv and boliger.xlsx"):
        run_ingest(raw, tmp_path / "processed")


def test_missing_file_names_the_extract(tmp_path):
    raw = delivery(tmp_path)
    (raw / "bostoette.csv").unlink()
    with pytest.raises(MissingExtractError, match="bostoette"):
        run_ingest(raw, tmp_path / "processed")


def test_missing_column_names_file_and_column(tmp_path):
    raw = delivery(tmp_path, ophold="ophold_missing_column.csv")
    with pytest.raises(SchemaError, match=r"ophold\.csv.*handlekommune"):
        run_ingest(raw, tmp_path / "processed")


def test_extra_column_is_ignored_with_a_warning(tmp_path, caplog):
    raw = delivery(tmp_path, ophold="ophold_extra_column.csv")
    with caplog.at_level(logging.WARNING, logger="analysis.ingest"):
        report = run_ingest(raw, tmp_path / "processed")
    assert report.extracts["ophold"].extra_columns == ["bemaerkning"]
    assert "bemaerkning" in caplog.text
    assert "bemaerkning" not in pd.read_parquet(tmp_path / "processed" / "stays.parquet").columns


def test_short_line_is_quarantined_not_dropped(tmp_path):
    raw = delivery(tmp_path / "raw")
    with open(raw / "ophold.csv", "a", encoding="utf-8") as fh:
        fh.write("S8;700302-4127;H2\n")
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["ophold"].quarantined_by_rule == {"bad_field_count": 1}
