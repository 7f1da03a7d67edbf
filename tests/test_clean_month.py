"""build_month on the hand-made delivery: cut tables, episodes, tenancies; and changes between extracts."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.clean import build_month
from analysis.ingest import run_ingest
from analysis.ingest.pseudonym import DEMO_KEY, ENV_KEY, ENV_KEY_FILE, Pseudonymiser
from analysis.params import load_params
from tests.fixtures.raw import delivery

M = pd.Period("2023-02", "M")


def pid(cpr: str) -> str:
    return Pseudonymiser(DEMO_KEY).person_ids(pd.Series([cpr])).item()


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    base = tmp_path_factory.mktemp("month")
    raw = delivery(base / "raw")
    with pytest.MonkeyPatch.context() as mp:  # the expected person_ids below are made with the demo key
        mp.delenv(ENV_KEY, raising=False)
        mp.delenv(ENV_KEY_FILE, raising=False)
        run_ingest(raw, base / "processed")
    written = build_month(base / "processed", M, load_params())
    return {name: pd.read_parquet(path) for name, path in written.items()}, written


def test_writes_every_table_under_the_month(month):
    tables, written = month
    assert set(written) == {"persons", "shelters", "stays", "dwellings", "allocations", "referrals", "support",
                            "income", "episodes", "tenancies"}
    assert all(p.parent.name == "2023-02" for p in written.values())


def test_episodes_from_the_fixture(month):
    tables, _ = month
    ep = tables["episodes"].set_index("episode_id")
    a = pid("6101901235")
    assert ep.loc[f"{a}-20230101", "nights"] == 18
    assert ep.loc[f"{a}-20230101", "discharge_category"] == "faengsel"  # "Fængsl" typo mapped
    assert ep.loc[f"{a}-20230125", "open"]
    assert len(ep) == 4


def test_cut_clears_moveout_after_month(month):
    tables, _ = month
    alloc = tables["allocations"].set_index("allocation_id")
    assert pd.isna(alloc.loc["A2", "moved_out"]) and pd.isna(alloc.loc["A2", "moveout_category"])


def test_tenancies(month):
    tables, _ = month
    t = tables["tenancies"].set_index("allocation_id")
    assert t.loc["A1", ["housed_from_homelessness", "pathway", "support_method"]].tolist() == [True, "shelter", "CTI"]
    assert t.loc["A2", ["housed_from_homelessness", "pathway", "support_method"]].tolist() == [True, "other", "none"]
    assert t.loc["A1", "rent"] == 4750.0
    assert t.loc["A2", "dwelling_type"] == "skaev"


def test_month_is_reproducible_on_a_later_extract(tmp_path, month, monkeypatch):
    tables, _ = month
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    raw = delivery(tmp_path / "raw")
    with open(raw / "ophold.csv", "a", encoding="utf-8") as fh:
        fh.write("S8;700302-4127;H2;01-04-2023;;;101\n")
    (raw / "udtraek.yml").write_text("udtraeksdato: 2023-05-02\nsyntetisk: true\n")
    run_ingest(raw, tmp_path / "processed")
    again = build_month(tmp_path / "processed", M, load_params())
    pd.testing.assert_frame_equal(pd.read_parquet(again["episodes"]), tables["episodes"])


def test_changes_against_previous_extract(tmp_path):
    raw = delivery(tmp_path / "raw")
    processed = tmp_path / "processed"
    first = run_ingest(raw, processed)
    assert first.changes == {}
    with open(raw / "ophold.csv", "a", encoding="utf-8") as fh:
        fh.write("S8;700302-4127;H2;01-04-2023;;;101\n")
    text = (raw / "boliger.csv").read_text(encoding="utf-8").replace("4.750,00", "4.800,00")
    (raw / "boliger.csv").write_text(text, encoding="utf-8")
    (raw / "udtraek.yml").write_text("udtraeksdato: 2023-05-02\nsyntetisk: true\n")
    second = run_ingest(raw, processed)
    assert second.changes["stays"] == {"rows_added": 1, "rows_changed": 0, "rows_removed": 0, "rows_before": 7,
                                       "compared_with": "2023-04-03"}
    assert second.changes["dwellings"]["rows_changed"] == 1


def test_read_month_tables_names_what_is_missing(tmp_path):
    import pandas as pd
    import pytest

    from analysis.clean import read_month_tables

    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "episodes.parquet")
    assert list(read_month_tables(tmp_path)) == ["episodes"]
    assert read_month_tables(tmp_path, ["episodes"])["episodes"]["a"].tolist() == [1]
    with pytest.raises(FileNotFoundError, match=r"missing tenancies\.parquet; run the clean step"):
        read_month_tables(tmp_path, ["episodes", "tenancies"])
    with pytest.raises(FileNotFoundError, match="missing all month tables"):
        read_month_tables(tmp_path / "empty")


def test_uncut_tables_are_the_files_write_table_writes(month, tmp_path):
    """build_month copies an ingest table the cut leaves as it is: the bytes writing it again would give."""
    from analysis.ingest.storage import write_table

    _, written = month
    processed = written["persons"].parent.parent
    for name in ("persons", "shelters", "dwellings", "allocations", "stays"):
        frame = pd.read_parquet(written[name])
        write_table(frame, name, tmp_path / f"{name}.parquet")
        assert (tmp_path / f"{name}.parquet").read_bytes() == written[name].read_bytes(), name
    assert written["persons"].read_bytes() == (processed / "persons.parquet").read_bytes()  # copied
    assert written["stays"].read_bytes() != (processed / "stays.parquet").read_bytes()  # cut: written anew


def test_month_tables_are_read_when_first_used(tmp_path):
    from analysis.clean import MonthTables

    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "episodes.parquet")
    (tmp_path / "income.parquet").write_bytes(b"not parquet")  # never read below
    tables = MonthTables(tmp_path)
    assert sorted(tables) == ["episodes", "income"] and len(tables) == 2
    assert tables["episodes"]["a"].tolist() == [1]
    assert tables["episodes"] is tables["episodes"]
    with pytest.raises(FileNotFoundError, match=r"missing tenancies\.parquet"):
        MonthTables(tmp_path, ["episodes", "tenancies"])


# ----- the tenancy rules at their boundaries (data contract §4), on hand-made frames ---------------
def _allocations(n: int) -> pd.DataFrame:
    return pd.DataFrame({"allocation_id": [f"A{i}" for i in range(n)], "person_id": [f"p{i}" for i in range(n)],
                         "moved_in": pd.Timestamp("2023-06-01")})


def test_housed_from_a_stay_ending_at_most_90_days_before_move_in():
    from analysis.clean.tenancies import from_shelter_stay

    stays = pd.DataFrame({"person_id": [f"p{i}" for i in range(6)],
                          "admitted": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-06-01", "2023-06-02",
                                                      "2023-01-01", "2023-05-31"]),
                          "discharged": pd.to_datetime(["2023-03-03", "2023-03-02", None, None, "2023-06-01", None])})
    # 1 June − 90 days = 3 March: a discharge that day counts, 2 March does not; a stay admitted on the move-in
    # day counts, one admitted the day after does not; an open stay admitted before counts
    got = from_shelter_stay(_allocations(6), stays, 90).tolist()
    assert got == [True, False, True, False, True, True]


def test_housed_from_a_shelter_referral_on_or_before_move_in():
    from analysis.clean.tenancies import from_shelter_referral

    referrals = pd.DataFrame({"person_id": ["p0", "p1", "p2"], "shelter_id": ["H1", "H1", None],
                              "referred": pd.to_datetime(["2023-06-01", "2023-06-02", "2023-05-01"])})
    assert from_shelter_referral(_allocations(3), referrals).tolist() == [True, False, False]


def test_support_open_at_move_in_or_starting_within_the_window():
    from analysis.clean.tenancies import support_method

    support = pd.DataFrame({"person_id": ["p0", "p1", "p2", "p3", "p4", "p4"],
                            "method": ["CTI", "ICM", "ACT", "SEL85", "ICM", "CTI"],
                            "start": pd.to_datetime(["2023-05-01", "2023-05-01", "2023-07-01", "2023-07-02",
                                                     "2023-06-10", "2023-06-05"]),
                            "end": pd.to_datetime(["2023-06-01", "2023-05-31", None, None, None, None])})
    # ends on the move-in day: open at it; ended the day before: not; starts 30 days after: within the window;
    # 31 days: not; two candidates: the earlier start
    assert support_method(_allocations(5), support, 30).tolist() == ["CTI", "none", "ACT", "none", "CTI"]
