"""The memo's sections read only the published table, through one look-up that marks suppressed cells."""
import importlib
import inspect
import json
import re
from pathlib import Path

import pandas as pd

from analysis.params import load_params
from analysis.report.memo import spor1, spor2, spor5
from analysis.report.published import Figures
from tests.memo_tables import published

M = pd.Period("2023-02", "M")
P = load_params()


TABLE = published([
    ("dwellings_received", "2023-02", "rent_4500_5000", 3.0, ""),
    ("dwellings_received", "2022-02", "rent_4500_5000", 5.0, ""),
    ("dwellings_received_ytd", "2023-02", "rent_4500_5000", 7.0, ""),
    ("dwellings_received_ytd", "2022-02", "rent_4500_5000", 9.0, ""),
    ("outflow", "2023-02", "to_housing", 2.0, "primary"),
    ("outflow", "2023-02", "other", 30.0, "secondary"),
    ("outflow", "2023-02", "", 32.0, ""),
    ("subsidised_dwellings_allocated", "2023-02", "", 70.0, ""),
    ("pilot_referred", "2022-09", "", 3.0, "primary"),
    ("pilot_referred", "2023-02", "", 29.0, ""),
    ("pilot_moved_in", "2023-02", "", 14.0, ""),
])


def test_cell_text_marks_and_missing():
    memo = Figures(TABLE, M, 5)
    assert memo.text("outflow", "to_housing") == "<5"
    assert memo.text("outflow", "other") == "·"
    assert memo.text("outflow") == "32"
    assert memo.text("inflow") == "–"
    assert memo.pct("outflow", "to_housing") == "<5" and memo.kr("inflow") == "–"  # every format keeps the mark
    assert memo.text("dwellings_received", "rent_4500_5000", "2022-02") == "5"  # (indicator, breakdown, period)
    assert pd.isna(memo.value("outflow", "to_housing")) and pd.isna(memo.value("inflow"))


def test_dwellings_table_month_last_year_and_year_to_date_change():
    row = spor1.dwellings_table(Figures(TABLE, M, 5)).set_index("Husleje pr. md. (ekskl. forbrug)").loc["4.500–5.000 kr."]
    assert row["februar 2023"] == "3" and row["februar 2022"] == "5"
    assert row["År til dato 2023"] == "7" and row["Samme periode 2022"] == "9" and row["Ændring"] == "▼ 2"


def test_subsidised_against_target_and_pilot_chart_from_start():
    memo = Figures(TABLE, M, 5)
    assert spor1.subsidised_table(memo, P).iloc[0].tolist() == ["70", "350", "20 %", "280"]
    chart = spor5.pilot_chart(memo, P)
    assert chart["period"].min() == "2022-09"
    referred = chart[chart["serie"] == "Indstillet"].set_index("period")["value"]
    assert pd.isna(referred["2022-09"]) and referred["2023-02"] == 29
    target = chart[chart["serie"] == "Pladser ad gangen"]  # the value is written at the line end, not in the name
    assert len(target) == 6 and (target["value"] == 50).all()
    assert "29 indstillet og 14 flyttet ind; pilotprojektet har 50 pladser ad gangen" in spor5.pilot_alt(memo, P)
    assert "50 udslusningsboliger ad gangen" in spor5.pilot_text(memo, P)
    assert "har 1.200 pladser ad gangen" in spor5.pilot_alt(memo, load_params(overrides={"targets.pilot_places": 1200}))


def test_month_before_is_in_the_dwellings_table_and_frequent_users_in_a_sentence():
    memo = Figures(published([("dwellings_received", "2023-01", "rent_4500_5000", 4.0, ""),
                                 ("frequent_users", "2023-02", "", 160.0, ""),
                                 ("frequent_user_admissions", "2023-02", "", 50.0, ""),
                                 ("inflow", "2023-02", "", 217.0, "")]), M, 5)
    row = spor1.dwellings_table(memo).set_index("Husleje pr. md. (ekskl. forbrug)").loc["4.500–5.000 kr."]
    assert row["januar 2023"] == "4"  # the status text quotes the month before: the table shows it too
    assert "stod de for 50 af 217 indskrivninger" in spor5.frequent_users_text(memo)


def test_new_build_without_dwellings_is_a_sentence_not_an_empty_table():
    memo = Figures(published([("permanent_subsidy_dwellings", "2023-02", "", 0.0, "")]), M, 5)
    text = spor1.permanent_subsidy_text(memo, P)
    assert "endnu ikke modtaget boliger med permanent huslejetilskud" in text and "5.000 kr.." not in text


def test_shelter_tables_take_names_from_the_register():
    table = published([
        ("shelter_places_by_shelter", "2023-02", "110:h1", 20.0, ""),
        ("shelter_places_by_shelter", "2022-02", "110:h1", 25.0, ""),
        ("shelter_places_by_shelter", "2023-02", "107:h9", 0.0, ""),
        ("shelter_places_by_shelter", "2022-02", "107:h9", 0.0, ""),
        ("screened_places", "2023-02", "110:h1", 20.0, ""),
        ("screened_places", "2023-02", "", 20.0, ""),
        ("convertible_places", "2023-02", "110:h1", 6.0, ""),
        ("convertible_places", "2023-02", "", 6.0, ""),
    ])
    register = pd.DataFrame({"shelter_id": ["h1"], "name": ["Bocentret"], "ownership": ["kommunal"],
                             "valid_from": [pd.Timestamp("2020-01-01")]})
    memo = Figures(table, M, 5)
    places = spor2.places_by_shelter(memo, register)
    assert places.iloc[0].tolist() == ["Bocentret", "Kommunal", "§ 110", "25", "20", "▼ 5"] and len(places) == 1
    conversion = spor2.conversion_table(memo, register)
    assert conversion.values.tolist() == [["Bocentret", "Kommunal", "20", "6"], ["I alt", "", "20", "6"]]


ROOT = Path(__file__).resolve().parents[1]
SECTIONS = sorted(p.stem for p in (ROOT / "src/analysis/report/memo").glob("*.py") if p.stem != "__init__")


def test_every_section_module_is_one_call_in_the_memo_notebook():
    """docs/contributing.md's rule: a section is a module with show(memo), called once by the notebook."""
    cells = ["".join(c["source"]) for c in json.loads((ROOT / "reports/status_memo.ipynb").read_text("utf-8"))["cells"]
             if c["cell_type"] == "code"]
    for name in SECTIONS:
        module = importlib.import_module(f"analysis.report.memo.{name}")
        assert list(inspect.signature(module.show).parameters) == ["memo"], name
        assert sum(cell == f"{name}.show(memo)" for cell in cells) == 1, name
    assert [c for c in cells if c.endswith(".show(memo)")] == [f"{n}.show(memo)" for n in (
        "overview", "system", "spor1", "spor2", "spor3", "spor4", "spor5", "spor6", "spor7", "appendix")]


def test_the_files_the_memo_section_recipe_names_exist():
    page = (ROOT / "docs/contributing.md").read_text("utf-8")
    recipe = page.split("## Add a memo section")[1].split("\n## ")[0]
    paths = [p for p in re.findall(r"`([\w./<>-]+/[\w.<>-]+)`", recipe) if "<" not in p]
    assert len(paths) >= 6
    assert [p for p in paths if not (ROOT / p).exists()] == []
