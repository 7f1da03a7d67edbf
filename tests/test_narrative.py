"""Placeholders in the analysts' status texts (data contract §2) and the fall-back to an earlier file."""
import pandas as pd
import pytest

from analysis.report.narrative import PlaceholderError, fallback_note, fill, load_status, resolve_period

M = pd.Period("2023-02", "M")
TABLE = pd.DataFrame({
    "indicator": ["dwellings_received", "dwellings_received", "pilot_referred", "pilot_moved_in", "shelter_occupancy",
                  "shelter_places"],
    "period": ["2023-01", "2022", "2023-02", "2023-02", "2023-02", "2023-02"],
    "breakdown": ["rent_4500_5000", "rent_4500_5000", "", "", "", ""],
    "value": [4.0, 1150.0, 29.0, float("nan"), 0.923, 1234.5],
    "suppressed": [False, False, False, True, False, False],
})


def test_relative_and_absolute_periods():
    assert [resolve_period(p, M) for p in ("M", "M-1", "M-13", "Y", "Y-1", "2022", "2023-01")] == \
        ["2023-02", "2023-01", "2022-01", "2023", "2022", "2022", "2023-01"]
    with pytest.raises(PlaceholderError):
        resolve_period("forrige", M)


def test_fill_values_periods_suppression_and_literal_braces():
    text = ("I {periode@M-1} modtog kommunen {dwellings_received.rent_4500_5000@M-1} boliger, i {periode@Y-1} "
            "{dwellings_received.rent_4500_5000@2022}; {pilot_referred} indstillet, {pilot_moved_in} flyttet ind; "
            "{shelter_places} pladser {{ikke et felt}}")
    assert fill(text, TABLE, M) == ("I januar 2023 modtog kommunen 4 boliger, i 2022 1.150; 29 indstillet, <5 flyttet "
                                    "ind; 1.234,5 pladser {ikke et felt}")
    assert fill("{pilot_moved_in@M}", TABLE, M, min_count=10) == "<10"


def test_secondary_and_derived_suppression_read_as_a_dot():
    table = TABLE.assign(suppression=["", "", "", "secondary", "", ""])
    assert fill("{pilot_moved_in}", table, M) == "·"


def test_shares_as_percent_with_catalogue():
    cat = {"shelter_occupancy": {"unit": "andel"}}
    assert fill("{shelter_occupancy}", TABLE, M, catalogue=cat) == "92 %"


def test_unknown_placeholder_lists_valid_names():
    with pytest.raises(PlaceholderError) as err:
        fill("{pilot_refered} og {dwellings_received.rent_4500_5000@M}", TABLE, M)
    msg = str(err.value)
    assert "did you mean pilot_referred" in msg
    assert "dwellings_received.rent_4500_5000 has no value for period 2023-02" in msg
    assert "Valid names: periode, dwellings_received.rent_4500_5000, pilot_moved_in" in msg


def test_unbalanced_brace_is_an_error():
    with pytest.raises(PlaceholderError, match="unbalanced brace"):
        fill("a { b", TABLE, M)


def test_load_status_falls_back_to_latest_earlier_file(tmp_path):
    (tmp_path / "status").mkdir()
    for m in ("2022-12", "2023-01", "2023-03"):
        (tmp_path / "status" / f"{m}.yml").write_text(f"spor:\n- nr: 1\n  status: tekst {m}\n", encoding="utf-8")
    status, used, fell_back = load_status(tmp_path, M)
    assert (used, fell_back) == (pd.Period("2023-01", "M"), True)
    assert status["spor"][0]["status"] == "tekst 2023-01"
    assert load_status(tmp_path, pd.Period("2023-03", "M"))[1:] == (pd.Period("2023-03", "M"), False)
    assert "ingen statustekst for februar 2023" in fallback_note(used, M)
    assert fallback_note(M, M) == ""
    with pytest.raises(FileNotFoundError):
        load_status(tmp_path, pd.Period("2022-11", "M"))


def test_track_markdown_lists_delleverancer_and_fills_the_text():
    from analysis.report.narrative import StatusTexts

    status = {"spor": [{"nr": 5, "titel": "Pilotprojektet", "delleverancer": ["Løbende status"],
                        "status": "Pr. {periode@M} er {pilot_referred} indstillet."}]}
    texts = StatusTexts(status, TABLE, M)
    assert texts.markdown(5) == ("## Spor 5: Pilotprojektet\n\n*Delleverancer: Løbende status.*\n\n"
                                 "Pr. februar 2023 er 29 indstillet.\n")
    with pytest.raises(KeyError, match=r"no spor 6 \(has \[5\]\)"):
        texts.markdown(6)
