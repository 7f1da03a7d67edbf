"""Pseudonyms: CPR validation, derived gender and birth year, and where the key may come from."""
from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from analysis.ingest import PseudonymKeyError
from analysis.ingest.pseudonym import (
    DEMO_KEY, ENV_KEY, ENV_KEY_FILE, Pseudonymiser, birth_year, load_key, normalise_cpr,
)
from tests.fixtures.raw import delivery


def test_normalise_accepts_both_forms_and_replacement_days():
    got = normalise_cpr(pd.Series(["610190-1235", "6101901235", " 650285-4322 ", "12345", "611390-1235",
                                   "920190-1235", "001290-1234", "61019O-1235", ""]))
    assert got.tolist()[:3] == ["6101901235", "6101901235", "6502854322"]
    assert got.iloc[3:].isna().all()


def test_person_id_is_truncated_hmac():
    pseudonyms = Pseudonymiser(b"k")
    ids = pseudonyms.person_ids(pd.Series(["6101901235", None, "6502854322"]))
    assert ids.iloc[0] == hmac.new(b"k", b"6101901235", hashlib.sha256).hexdigest()[:16]
    assert ids.iloc[2] == hmac.new(b"k", b"6502854322", hashlib.sha256).hexdigest()[:16]
    assert pd.isna(ids.iloc[1])
    again = pseudonyms.person_ids(pd.Series(["6502854322", "6101901235"]))  # a second extract: same pseudonyms
    assert again.tolist() == [ids.iloc[2], ids.iloc[0]]


@pytest.mark.parametrize("cpr, year", [
    ("6101901235", 1990), ("6101364235", 2036), ("6101374235", 1937), ("6101579235", 1957),
    ("6101575235", 2057), ("6101585235", 1858), ("6101000235", 1900), ("6101999235", 1999),
    ("6101003235", 1900), ("6101369235", 2036), ("6101379235", 1937), ("6101578235", 2057), ("6101588235", 1858),
])
def test_century_rule(cpr, year):
    assert birth_year(pd.Series([cpr])).item() == year


def test_persons_gender_from_last_digit():
    pseudonyms = Pseudonymiser(b"k")
    ids = pseudonyms.person_ids(pd.Series(["6101901235", "6502854322", None]))
    pseudonyms.person_ids(pd.Series(["6101901235"]))
    persons = pseudonyms.persons()
    assert len(persons) == 2
    assert persons["person_id"].is_monotonic_increasing
    # each person's own gender, not just the set of genders: odd last digit = male (…1235), even = female (…4322)
    assert persons.set_index("person_id")["gender"].to_dict() == {ids.iloc[0]: "M", ids.iloc[1]: "K"}


@pytest.mark.parametrize("last, gender", [(0, "K"), (1, "M"), (2, "K"), (8, "K"), (9, "M")])
def test_gender_parity_at_every_last_digit(last, gender):
    pseudonyms = Pseudonymiser(b"k")
    pseudonyms.person_ids(pd.Series([f"610190123{last}"]))
    assert pseudonyms.persons()["gender"].item() == gender


@pytest.mark.parametrize("cpr, valid", [
    ("0101901235", True), ("3101901235", True), ("3201901235", False), ("0001901235", False),  # day 01–31
    ("6101901235", True), ("9101901235", True), ("6001901235", False), ("9201901235", False),  # replacement 61–91
    ("0112901235", True), ("0113901235", False), ("0100901235", False),                         # month 01–12
])
def test_cpr_day_and_month_at_their_edges(cpr, valid):
    assert normalise_cpr(pd.Series([cpr])).notna().item() is valid


SECRET = "a secret of at least thirty-two bytes"


def test_env_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_KEY, SECRET)
    assert load_key(tmp_path)[0] == SECRET.encode()


def test_key_file_inside_project_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    inside = tmp_path / "project" / "my.key"
    inside.parent.mkdir()
    inside.write_text("secret")
    monkeypatch.setenv(ENV_KEY_FILE, str(inside))
    with pytest.raises(PseudonymKeyError, match="inside the project"):
        load_key(tmp_path, project=tmp_path / "project")
    outside = tmp_path / "elsewhere.key"
    outside.write_text(SECRET + "\n")
    monkeypatch.setenv(ENV_KEY_FILE, str(outside))
    assert load_key(tmp_path, project=tmp_path / "project")[0] == SECRET.encode()


def test_demo_key_only_for_synthetic_data(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    raw = delivery(tmp_path / "raw")
    assert load_key(raw)[0] == DEMO_KEY
    (raw / "udtraek.yml").write_text("udtraeksdato: 2023-04-03\n")
    with pytest.raises(PseudonymKeyError, match="syntetisk: true"):
        load_key(raw)


def test_cpr_shaped_text_is_masked():
    from analysis.ingest.pseudonym import scrub_cpr

    got = scrub_cpr(pd.Series(["ring 610190-1235 i morgen", "6101901235", "tlf 12345678", "år 2023"]))
    assert got.tolist() == ["ring <cpr> i morgen", "<cpr>", "tlf 12345678", "år 2023"]


def test_normalise_in_arrow_agrees_with_the_python_rule_on_odd_texts():
    from analysis.ingest.pseudonym import _normalised

    # Arrow handles ASCII texts; non-ASCII ones (Python's \d also matches other digits) keep the Python rule
    texts = ["610190-1235", " 6101901235\n", "6101901235\x1c", "\xa06101901235", "6101901235\x85", "6101٠٠1235",
             "６101901235", "3201901235", "9101901235", "9201901235", "6100901235", "6113901235", "610190--1235",
             "61019012345", "610190-123", "abc", ""]
    got = normalise_cpr(pd.Series(texts))
    expected = [_normalised(t) for t in texts]
    assert [g if isinstance(g, str) else None for g in got] == [e if isinstance(e, str) else None for e in expected]
    assert isinstance(got.dtype, pd.CategoricalDtype)  # person_ids reads the distinct CPRs from its codes


def test_person_ids_of_categorical_and_text_cprs_agree():
    cprs = pd.Series(["6502854322", None, "6101901235", "6502854322"], index=[9, 8, 7, 6])
    as_text = Pseudonymiser(b"k").person_ids(cprs)
    as_category = Pseudonymiser(b"k").person_ids(cprs.astype("category"))
    pd.testing.assert_series_equal(as_text, as_category)
    assert as_text.dtype == object and pd.isna(as_text.loc[8])


# ----- the remaining edges, found by mutation testing (tests/MUTATION.md) ---------------------
@pytest.mark.parametrize("cpr, valid", [
    ("0101901235", True), ("3101901235", True), ("3201901235", False), ("0001901235", False),
    ("9101901235", True), ("6001901235", False), ("0112901235", True), ("0113901235", False),
    ("٠١0190-1235", False), ("01٠١90-1235", False),  # non-ASCII digits in the day or the month
])
def test_the_python_rule_for_non_ascii_texts_has_the_same_edges(cpr, valid):
    from analysis.ingest.pseudonym import _normalised

    assert isinstance(_normalised(cpr), str) is valid


def test_normalise_keeps_the_index_and_missing_cells():
    got = normalise_cpr(pd.Series(["6502854322", None, "6101901235", None], index=[7, 5, 3, 1]))
    assert got.index.tolist() == [7, 5, 3, 1]
    assert [None if pd.isna(v) else v for v in got] == ["6502854322", None, "6101901235", None]


def test_persons_table_shape_and_types():
    pseudonyms = Pseudonymiser(b"k")
    pseudonyms.person_ids(pd.Series(["6502854322", "6101901235", "6101364235"]))
    persons = pseudonyms.persons()
    assert persons.columns.tolist() == ["person_id", "gender", "birth_year"]
    assert persons.index.equals(pd.RangeIndex(3)) and persons["birth_year"].dtype == "Int64"
    by_id = persons.set_index("person_id")["birth_year"].to_dict()
    ids = pseudonyms.person_ids(pd.Series(["6502854322", "6101901235", "6101364235"]))
    assert [by_id[i] for i in ids] == [1985, 1990, 2036]


def test_birth_year_keeps_the_index_and_refuses_non_digits():
    got = birth_year(pd.Series(["6101901235", "6101364235"], index=[4, 2]))
    assert got.index.tolist() == [4, 2] and got.dtype == "Int64"
    for bad in ("6101O01235", "6101:01235"):  # a letter, and the character after '9', in the year digits
        with pytest.raises(ValueError) as info:
            birth_year(pd.Series([bad]))
        assert str(info.value) == "birth year and gender need normalised CPR numbers (10 digits)"


def test_key_sources_and_errors_say_where_and_why(tmp_path, monkeypatch):
    from analysis.ingest.pseudonym import is_synthetic

    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    assert not is_synthetic(tmp_path)  # no udtraek.yml: not synthetic
    with pytest.raises(PseudonymKeyError) as info:
        load_key(tmp_path)
    assert str(info.value) == (
        f"no pseudonymisation key: set {ENV_KEY} or {ENV_KEY_FILE} (a file outside the project). "
        f"The built-in demo key is only used when {tmp_path / 'udtraek.yml'} says 'syntetisk: true'.")
    raw = delivery(tmp_path / "raw")
    assert load_key(raw) == (DEMO_KEY, "demo key (udtraek.yml: syntetisk: true)")
    key = "nøgle-" + "x" * 25  # 32 bytes in UTF-8 (ø takes two): the shortest key accepted
    monkeypatch.setenv(ENV_KEY, key)
    assert load_key(raw) == (key.encode("utf-8"), f"environment variable {ENV_KEY}")
    monkeypatch.delenv(ENV_KEY)
    project = tmp_path / "project"
    monkeypatch.setenv(ENV_KEY_FILE, str(project / "k.key"))
    with pytest.raises(PseudonymKeyError) as info:
        load_key(raw, project=project)
    assert str(info.value) == (f"{ENV_KEY_FILE} points inside the project folder ({project.resolve()}); "
                               "keep the key file outside the repository so it cannot be committed")
    missing = tmp_path / "missing.key"
    monkeypatch.setenv(ENV_KEY_FILE, str(missing))
    with pytest.raises(PseudonymKeyError) as info:
        load_key(raw, project=project)
    assert str(info.value) == f"{ENV_KEY_FILE}: key file {missing.resolve()} does not exist"
    empty = tmp_path / "empty.key"
    empty.write_text(" \n")
    monkeypatch.setenv(ENV_KEY_FILE, str(empty))
    with pytest.raises(PseudonymKeyError) as info:
        load_key(raw, project=project)
    assert str(info.value) == f"{ENV_KEY_FILE}: key file {empty.resolve()} is empty"
    empty.write_text("hemmelig-" + "n" * 23 + "\n")  # 32 bytes once the newline is trimmed
    assert load_key(raw, project=project) == (b"hemmelig-" + b"n" * 23, f"key file ({ENV_KEY_FILE})")


# ----- survivors of the 6 December run (tests/MUTATION.md): messages, the demo default, cpr_shaped ----------
def test_refused_keys_name_their_source_and_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    monkeypatch.setenv(ENV_KEY, DEMO_KEY.decode())
    with pytest.raises(PseudonymKeyError) as info:
        load_key(tmp_path)
    assert str(info.value) == (f"{ENV_KEY}: this is the public demo key, which is only for the synthetic data; "
                               "use a secret key of your own")
    monkeypatch.delenv(ENV_KEY)
    short = tmp_path / "outside" / "short.key"
    short.parent.mkdir()
    short.write_text("x" * 31 + "\n")  # one byte short once the newline is trimmed
    monkeypatch.setenv(ENV_KEY_FILE, str(short))
    with pytest.raises(PseudonymKeyError) as info:
        load_key(tmp_path / "raw", project=tmp_path / "project")
    assert str(info.value) == (f"{ENV_KEY_FILE} ({short.resolve()}): the key has 31 bytes (after trimming spaces); "
                               "it needs at least 32 random bytes, e.g. `openssl rand -hex 32 > pseudonym.key`")


def test_a_pseudonymiser_is_not_in_demo_mode_unless_asked():
    real = pd.Series(["0101901235", "3112851234"])  # real days of month: refused only under the demo key
    ids = Pseudonymiser(b"a secret of at least thirty-two bytes").person_ids(real)
    assert ids.notna().all() and ids.nunique() == 2


def test_the_demo_key_refusal_counts_the_real_cprs_and_names_no_value():
    with pytest.raises(PseudonymKeyError) as info:
        Pseudonymiser(DEMO_KEY, demo=True).person_ids(pd.Series(["0101901235", "6101901235", "3112851234",
                                                                 "0101901235"]))
    assert str(info.value) == (
        "2 CPR number(s) have a real day of month (01–31), but the run uses the public demo key (udtraek.yml says "
        "'syntetisk: true'), which is only for synthetic CPR numbers (day 61–91): "
        f"set {ENV_KEY_FILE} to a secret key, and remove 'syntetisk: true' if the data is real")


def test_cpr_shaped_finds_every_spelling_and_nothing_else():
    from analysis.ingest.pseudonym import cpr_shaped

    cells = pd.Series(["200880 2020", "S1", "O0004945", "20.08.80-2020", "2008802020", "1.234.567.890", "",
                       "200880 2020"], index=[5, 4, 3, 2, 1, 0, 9, 8])
    got = cpr_shaped(cells)
    assert got.tolist() == [True, False, False, True, True, False, False, True]
    assert got.index.tolist() == [5, 4, 3, 2, 1, 0, 9, 8] and got.dtype == bool  # a mask: ~ and & work on it


def test_a_cpr_shaped_column_name_is_named_by_its_positions_only(tmp_path):
    from analysis.ingest import SchemaError
    from analysis.ingest.pseudonym import refuse_cpr_in_column_names

    refuse_cpr_in_column_names(tmp_path / "ophold.csv", ["ophold_id", "cpr", "2023"])  # nothing shaped like a CPR
    with pytest.raises(SchemaError) as info:
        refuse_cpr_in_column_names(tmp_path / "ophold.csv", ["ophold_id", "200880-2020", "cpr", "2008802020"])
    assert str(info.value) == ("ophold.csv: the name of column(s) 2, 4 is shaped like a CPR number (is the header "
                               "row missing?); the names are not repeated here")
