"""Schemas: the single source of truth for columns, types and rules, and the generated data dictionary."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.ingest import SchemaError
from analysis.ingest.dictionary import data_dictionary_markdown
from analysis.ingest.schemas import EXTRACTS, TABLES, processed_names
from analysis.ingest.storage import write_table

ROOT = Path(__file__).resolve().parents[1]


def test_every_contract_extract_has_a_schema():
    assert set(EXTRACTS) == {"herberger", "ophold", "boliger", "anvisninger", "indstillinger", "bostoette", "forsoergelse"}


def test_no_processed_table_has_a_cpr_column():
    for name in TABLES:
        assert "cpr" not in processed_names(name)


def test_data_dictionary_is_current():
    assert (ROOT / "docs/data-dictionary.md").read_text(encoding="utf-8") == data_dictionary_markdown() + "\n"


def test_write_validates(tmp_path):
    persons = pd.DataFrame({"person_id": ["0123456789abcdef"], "gender": ["X"], "birth_year": pd.array([1990], "Int64")})
    with pytest.raises(SchemaError, match="persons"):
        write_table(persons, "persons", tmp_path / "persons.parquet")
    persons["gender"] = "K"
    assert write_table(persons, "persons", tmp_path / "persons.parquet")["rows"] == 1


def test_written_file_is_what_pandas_writes(tmp_path):
    persons = pd.DataFrame({"person_id": ["0123456789abcdef", "fedcba9876543210"], "gender": ["K", "M"],
                            "birth_year": pd.array([1990, 1991], "Int64")})
    out = write_table(persons, "persons", tmp_path / "persons.parquet")
    persons.to_parquet(tmp_path / "pandas.parquet", index=False)
    assert (tmp_path / "persons.parquet").read_bytes() == (tmp_path / "pandas.parquet").read_bytes()
    assert out["rows"] == 2


def test_text_that_arrow_cannot_hold_is_a_schema_error(tmp_path):
    persons = pd.DataFrame({"person_id": ["0123456789abcdef", 7], "gender": ["K", "M"],
                            "birth_year": pd.array([1990, 1991], "Int64")})
    with pytest.raises(SchemaError, match="persons"):
        write_table(persons, "persons", tmp_path / "persons.parquet")
    assert not (tmp_path / "persons.parquet").exists()


def test_every_rule_has_a_danish_name():
    from analysis.ingest.quality import RULES_DA
    from analysis.ingest.rules import RULES

    assert set(RULES_DA) == set(RULES)
