"""Payment capacity: the disposable amount, the norm boundary, transitions and arrears."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.retention import payment as pay
from analysis.params import load_params

P = load_params()
M = pd.Period("2024-06", freq="M")


def tenancies() -> pd.DataFrame:
    return pd.DataFrame({
        "allocation_id": ["a1", "a2", "a3", "a4"],
        "person_id": ["p1", "p2", "p3", "p4"],
        "moved_in": pd.to_datetime(["2023-05-20", "2023-06-01", "2024-02-01", "2023-06-01"]),
        "moved_out": pd.to_datetime([None, "2023-10-31", None, None]),
        "moveout_category": [None, "udsaettelse", None, None],
        "housed_from_homelessness": [True, True, True, False],
        "rent": [4600.0, 4800.0, 4500.0, 4000.0],
        "utilities": [400.0, 500.0, np.nan, 300.0],
        "rent_subsidy": [1250.0, 0.0, 0.0, 0.0],
    })


def income() -> pd.DataFrame:
    rows = [
        # p1: exactly at the norm at move-in: 7.000 + 750 + 1.250 - 4.600 - 400 = 4.000
        ("p1", "2023-05", "kontanthjaelp", 7000.0, 750.0, 0.0),
        ("p1", "2023-11", "kontanthjaelp", 6999.0, 750.0, 0.0),   # 3.999: one krone short
        ("p1", "2024-05", "loen", 12000.0, 0.0, 0.0),
        ("p1", "2024-06", "loen", 12000.0, 0.0, 0.0),
        ("p2", "2023-06", "kontanthjaelp", 8000.0, 700.0, 0.0),   # 3.400
        ("p2", "2023-12", "kontanthjaelp", 8000.0, 700.0, 900.0),  # moved out in October: not assessed
        ("p3", "2024-02", "foertidspension", 15000.0, 600.0, 0.0),  # utilities unknown: amount unknown
        ("p3", "2024-06", "foertidspension", 15000.0, 600.0, 2500.0),
        ("p4", "2023-06", "loen", 20000.0, 0.0, 0.0),              # not housed from homelessness
    ]
    return pd.DataFrame(rows, columns=["person_id", "month", "benefit", "net_income", "housing_benefit", "arrears"])


def test_disposable_formula():
    assert pay.disposable(7000, 750, 1250, 4600, 400) == 4000


def test_exactly_at_the_norm_is_sufficient():
    amounts = pd.Series([4000.0, 3999.99, 4000.01, np.nan])
    got = pay.sufficient(amounts, 4000.0)
    assert got.dtype == "boolean"
    assert got.iloc[:3].tolist() == [True, False, True]
    assert got.isna().iloc[3]


def test_panel_offsets_and_norm():
    panel = pay.payment_panel(tenancies(), income(), M, 4000.0)
    by = panel.set_index(["allocation_id", "offset"])
    assert by.loc[("a1", 0), "month"] == "2023-05" and by.loc[("a1", 0), "disposable"] == 4000.0
    assert bool(by.loc[("a1", 0), "sufficient"])
    assert by.loc[("a1", 6), "disposable"] == 3999.0 and not bool(by.loc[("a1", 6), "sufficient"])
    assert by.loc[("a1", 12), "disposable"] == 12000 + 1250 - 4600 - 400
    assert ("a2", 6) not in by.index              # moved out before December 2023 began
    assert ("a3", 6) not in by.index              # August 2024 is after M
    assert np.isnan(by.loc[("a3", 0), "disposable"])
    assert "a4" not in panel["allocation_id"].values


def test_payment_indicators():
    rows = pay.payment_indicators(tenancies(), income(), M, P).set_index(["indicator", "breakdown"])["value"]
    assert rows[("payment_assessed", "at_move_in")] == 2          # a1, a2 (a3's utilities unknown)
    assert rows[("payment_sufficient_share", "at_move_in")] == 0.5
    assert rows[("payment_disposable_median", "at_move_in")] == 3700.0
    assert rows[("payment_assessed", "after_12m")] == 1
    assert rows[("income_transition_tenancies", "")] == 1
    assert rows[("income_source_changed_share", "")] == 1.0       # kontanthjælp -> løn
    assert rows[("income_source_at_move_in", "kontanthjaelp")] == 1
    assert rows[("income_source_after_12m", "loen")] == 1
    assert rows[("arrears_tenants_assessed", "")] == 2            # a1 and a3 live there in June 2024
    assert rows[("arrears_share", "")] == 0.5
    assert rows[("arrears_median", "")] == 2500.0


def test_income_transitions_table():
    panel = pay.payment_panel(tenancies(), income(), M, 4000.0)
    table = pay.income_transitions(panel)
    assert table.loc["kontanthjaelp", "loen"] == 1


def _dated(moved_in: list[str], moved_out: list[str | None]) -> pd.DataFrame:
    n = len(moved_in)
    return pd.DataFrame({
        "allocation_id": [f"b{i}" for i in range(n)], "person_id": [f"q{i}" for i in range(n)],
        "moved_in": pd.to_datetime(moved_in), "moved_out": pd.to_datetime(moved_out),
        "moveout_category": [None if o is None else "frivillig" for o in moved_out],
        "housed_from_homelessness": [True] * n, "rent": [4000.0] * n, "utilities": [0.0] * n, "rent_subsidy": [0.0] * n,
    })


def test_a_move_out_on_the_first_of_the_month_still_counts_that_month():
    # offset 6 of a January move-in is July; the tenant lives there on 1 July when the move-out date is 1 July
    # (an end date is the last day of the thing), and not when it is 30 June
    t = _dated(["2023-01-15", "2023-01-15", "2023-01-15"], ["2023-07-01", "2023-06-30", "2023-07-31"])
    panel = pay.payment_panel(t, income().iloc[:0], M, 4000.0)
    assert set(map(tuple, panel[["allocation_id", "offset"]].to_numpy())) == {
        ("b0", 0), ("b0", 6), ("b1", 0), ("b2", 0), ("b2", 6)}
    assert panel.set_index(["allocation_id", "offset"]).loc[("b0", 6), "month"] == "2023-07"


def test_panel_months_up_to_the_last_day_of_m():
    # M = June 2024: a move-in on its last day is in the cohort (offset 0 is June); one on 1 July is not;
    # a December 2023 move-in reaches offset 6 (June 2024) but a January 2024 one does not
    t = _dated(["2024-06-30", "2024-07-01", "2023-12-31", "2024-01-01"], [None] * 4)
    panel = pay.payment_panel(t, income().iloc[:0], M, 4000.0)
    assert set(map(tuple, panel[["allocation_id", "offset"]].to_numpy())) == {
        ("b0", 0), ("b2", 0), ("b2", 6), ("b3", 0)}


def test_payment_indicators_table_in_full():
    # a5 keeps its income source and owes 1 kr.; its subsidy is unknown (counted as none) and it has no
    # income record six months after move-in (unknown, left out)
    t = pd.concat([tenancies(), pd.DataFrame({
        "allocation_id": ["a5"], "person_id": ["p5"], "moved_in": pd.to_datetime(["2023-06-10"]),
        "moved_out": pd.to_datetime([None]), "moveout_category": [None], "housed_from_homelessness": [True],
        "rent": [4000.0], "utilities": [300.0], "rent_subsidy": [np.nan]})], ignore_index=True)
    inc = pd.concat([income(), pd.DataFrame(
        [("p5", "2023-06", "foertidspension", 9000.0, 500.0, 0.0), ("p5", "2024-06", "foertidspension", 9000.0, 500.0, 1.0)],
        columns=income().columns)], ignore_index=True)
    got = pay.payment_indicators(t, inc, M, P)
    expected = pd.DataFrame([
        ("payment_assessed", "at_move_in", 3), ("payment_disposable_median", "at_move_in", 4000),  # 3400 4000 5200
        ("payment_sufficient_share", "at_move_in", 2 / 3),
        ("payment_assessed", "after_6m", 1), ("payment_disposable_median", "after_6m", 3999),
        ("payment_sufficient_share", "after_6m", 0),
        ("payment_assessed", "after_12m", 2), ("payment_disposable_median", "after_12m", (8250 + 5200) / 2),
        ("payment_sufficient_share", "after_12m", 1),
        ("income_transition_tenancies", "", 2), ("income_source_changed_share", "", 0.5),
        ("income_source_at_move_in", "", 2), ("income_source_at_move_in", "foertidspension", 1),
        ("income_source_at_move_in", "kontanthjaelp", 1),
        ("income_source_after_12m", "", 2), ("income_source_after_12m", "foertidspension", 1),
        ("income_source_after_12m", "loen", 1),
        ("arrears_tenants_assessed", "", 3), ("arrears_tenants", "", 2), ("arrears_share", "", 2 / 3),
        ("arrears_median", "", (2500 + 1) / 2),
    ], columns=["indicator", "breakdown", "value"])
    expected.insert(1, "period", "2024-06")
    expected["value"] = expected["value"].astype(float)
    pd.testing.assert_frame_equal(got.astype({"value": float}), expected)
