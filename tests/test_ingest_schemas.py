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


def test_key_check_agrees_with_pandas_on_missing_values_and_chunks():
    import numpy as np
    import pyarrow as pa

    from analysis.ingest.storage import _key_unique

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        frame = pd.DataFrame({
            "s": pd.Series(rng.choice(["a", "b", None], n), dtype=object),
            "d": pd.to_datetime(pd.Series(rng.choice(["2023-01-01", "2023-01-02", None], n))).astype("datetime64[ns]"),
            "i": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
        })
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        if n > 1:
            arrow = pa.concat_tables([arrow.slice(0, n // 2), arrow.slice(n // 2)])  # as a Parquet file reads back
        for key in (["s"], ["d", "s"], ["i", "s", "d"]):
            assert _key_unique(frame, arrow, key) == (not frame.duplicated(subset=key).any())


def test_row_codes_are_equal_exactly_for_equal_rows_even_past_int64():
    import numpy as np

    from analysis.ingest.storage import row_codes

    rng = np.random.default_rng(4)
    columns = [rng.integers(-1, 100_000, 5_000) for _ in range(6)]  # 10⁵ ⁶ combinations: compressed on the way
    for c in columns:
        c[2_500:] = c[:2_500]
    ids = row_codes(columns)
    expected = pd.DataFrame(dict(enumerate(columns))).duplicated().to_numpy()
    assert (pd.Series(ids).duplicated().to_numpy() == expected).all() and expected.sum() == 2_500


def test_copy_table_validates_and_copies(tmp_path):
    import pyarrow.parquet as pq

    from analysis.ingest.storage import copy_table

    persons = pd.DataFrame({"person_id": ["0123456789abcdef"], "gender": ["K"], "birth_year": pd.array([1990], "Int64")})
    write_table(persons, "persons", tmp_path / "persons.parquet")
    copy_table(persons, "persons", pq.read_table(tmp_path / "persons.parquet"), tmp_path / "persons.parquet",
               tmp_path / "month" / "persons.parquet")
    assert (tmp_path / "month" / "persons.parquet").read_bytes() == (tmp_path / "persons.parquet").read_bytes()
    bad = persons.assign(gender="X")
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(SchemaError, match="persons"):
        copy_table(bad, "persons", pq.read_table(tmp_path / "bad.parquet"), tmp_path / "bad.parquet",
                   tmp_path / "month" / "bad.parquet")
    assert not (tmp_path / "month" / "bad.parquet").exists()
