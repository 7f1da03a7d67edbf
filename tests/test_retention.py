"""Retention, returns and CTI course view against hand-computed answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import AalenJohansenFitter

from analysis.params import load_params
from analysis.retention import retention as r

M = pd.Period("2024-12", freq="M")
T = pd.Timestamp


def tenancies(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (allocation_id, person_id, moved_in, moved_out, category, method, housed, pathway)."""
    cols = ["allocation_id", "person_id", "moved_in", "moved_out", "moveout_category", "support_method",
            "housed_from_homelessness", "pathway"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("moved_in", "moved_out"):
        df[c] = pd.to_datetime(df[c])
    return df


# Six cohort tenancies (and one not housed from homelessness, which must be ignored).
SIX = tenancies([
    ("a1", "p1", "2023-01-01", "2023-03-31", "udsaettelse", "CTI", True, "shelter"),   # event at 3 months
    ("a2", "p2", "2023-01-01", "2023-06-30", "doed", "CTI", True, "shelter"),          # censored at 6
    ("a3", "p3", "2023-01-01", "2023-09-30", "frivillig", "ICM", True, "other"),       # event at 9
    ("a4", "p4", "2023-01-01", None, None, "ICM", True, "shelter"),                    # censored 24 (end of M)
    ("a5", "p5", "2024-01-15", None, None, "none", True, "other"),                     # censored 11 + 17/31
    ("a6", "p6", "2023-01-01", "2023-06-30", "anden_bolig", "none", True, "shelter"),  # censored at 6
    ("x7", "p7", "2023-01-01", "2023-02-28", "udsaettelse", "CTI", False, "other"),    # not in the cohort
])

EMPTY_SUPPORT = pd.DataFrame({"person_id": pd.Series(dtype=str), "method": pd.Series(dtype=str),
                              "start": pd.Series(dtype="datetime64[ns]"), "end": pd.Series(dtype="datetime64[ns]"),
                              "end_reason": pd.Series(dtype=str)})


def test_add_months_clips_to_month_end_like_dateoffset():
    dates = pd.Series(pd.to_datetime(["2023-01-31", "2024-02-29", "2023-03-01"]))
    got = r.add_months(dates, np.array([1, 12, 12]))
    want = [d + pd.DateOffset(months=n) for d, n in zip(dates, [1, 12, 12])]
    assert list(got) == want


def test_elapsed_months_whole_and_fraction():
    start = pd.Series(pd.to_datetime(["2023-01-01", "2023-01-31", "2024-01-15"]))
    end = pd.Series(pd.to_datetime(["2023-04-01", "2023-02-28", "2025-01-01"]))
    got = r.elapsed_months(start, end)
    assert got.tolist() == pytest.approx([3.0, 1.0, 11 + 17 / 31])


def test_retention_data_at_the_end_of_m():
    t = tenancies([
        ("b1", "p1", "2024-10-01", "2024-12-31", "udsaettelse", "CTI", True, "shelter"),  # moved out on M's last day
        ("b2", "p2", "2024-10-01", "2025-01-01", "udsaettelse", "CTI", True, "shelter"),  # after M: not yet
        ("b3", "p3", "2024-12-31", None, None, "CTI", True, "shelter"),                    # moved in on M's last day
        ("b4", "p4", "2025-01-01", None, None, "CTI", True, "shelter"),                    # after M: not in the cohort
    ])
    data = r.retention_data(t, M).set_index("allocation_id")
    assert list(data.index) == ["b1", "b2", "b3"]
    assert data["event"].tolist() == [True, False, False]
    # the end of M is the censoring day 1 January: b1 left after the night of 31 December, like b2's censoring
    assert data["duration"].tolist() == pytest.approx([3.0, 3.0, 1 / 31])


def test_km_on_six_tenancies_by_hand():
    data = r.retention_data(SIX, M)
    assert sorted(data["allocation_id"]) == ["a1", "a2", "a3", "a4", "a5", "a6"]
    assert data.set_index("allocation_id")["duration"].to_dict() == pytest.approx(
        {"a1": 3, "a2": 6, "a3": 9, "a4": 24, "a5": 11 + 17 / 31, "a6": 6})
    curve = r.fit_curves(data, "support_method", r.METHODS)[r.ALL]
    # t=3: 6 at risk, 1 event -> 5/6. Two censored at 6. t=9: 3 at risk (a3, a4, a5), 1 event -> 5/6 * 2/3.
    assert curve.at(6)[0] == pytest.approx(5 / 6)
    assert curve.at(12)[0] == pytest.approx(5 / 9)
    assert curve.at_risk(12) == 1
    assert curve.at(24)[0] == pytest.approx(5 / 9)  # a4 is still there on 1 January 2025 = move-in + 24 months
    assert np.isnan(curve.at(25)[0])                # nobody followed that long: no number
    lo, hi = curve.at(12)[1:]
    assert lo < 5 / 9 < hi


def test_at_risk_counts_ties_nan_and_empty():
    durations = pd.Series([1.0, 2.0, 2.0, np.nan, 3.0, 5.0])
    # A tie at t is still at risk at t; a NaN duration never is; nobody is at risk at a NaN time.
    assert r.at_risk_counts(durations, [0, 1, 2, 2.5, 5, 6, np.nan]).tolist() == [5, 5, 4, 2, 1, 0, 0]
    assert r.at_risk_counts(pd.Series([], dtype=float), [0, 3]).tolist() == [0, 0]
    assert r.at_risk_counts(np.array([np.nan]), [0]).tolist() == [0]


finite_or_odd = st.one_of(st.floats(-5, 30, allow_nan=False), st.sampled_from([np.nan, np.inf, 0.0, 3.0, 12.0]))


@settings(max_examples=200, deadline=None)
@given(st.lists(finite_or_odd, max_size=30), st.lists(finite_or_odd, max_size=10))
def test_at_risk_counts_equal_the_naive_count(durations, times):
    s = pd.Series(durations, dtype=float)
    assert r.at_risk_counts(s, times).tolist() == [int((s >= t).sum()) for t in times]


def test_at_risk_table_by_hand():
    data = r.retention_data(SIX, M)  # durations 3, 6, 9, 24, 11.5, 6
    table = r.at_risk_table(data, "support_method", r.METHODS, [0, 6, 12, 24, 25])
    assert table.to_dict("index") == {
        "alle": {0: 6, 6: 5, 12: 1, 24: 1, 25: 0},
        "CTI": {0: 2, 6: 1, 12: 0, 24: 0, 25: 0},
        "ICM": {0: 2, 6: 2, 12: 1, 24: 1, 25: 0},
        "ACT": {0: 0, 6: 0, 12: 0, 24: 0, 25: 0},  # a method nobody had
        "SEL85": {0: 0, 6: 0, 12: 0, 24: 0, 25: 0},
        "none": {0: 2, 6: 2, 12: 0, 24: 0, 25: 0},
    }
    assert (table.dtypes == "int64").all()


def test_retention_indicator_rows_carry_their_base():
    params = load_params()
    empty_ep = pd.DataFrame({"person_id": pd.Series(dtype=str), "start": pd.Series(dtype="datetime64[ns]")})
    rows = r.analyse(SIX, empty_ep, EMPTY_SUPPORT, M, params).indicators()
    value = rows.set_index(["indicator", "breakdown"])["value"]
    assert value[("housing_retention_12m", "")] == pytest.approx(5 / 9)
    assert value[("housing_retention_at_risk_12m", "")] == 1
    assert value[("housing_retention_tenancies", "CTI")] == 2
    assert value[("housing_retention_6m", "CTI")] == pytest.approx(1 / 2)
    assert ("housing_retention_24m", "CTI") not in value.index  # no CTI tenancy followed 24 months
    assert value[("housing_retention_at_risk_24m", "CTI")] == 0
    for (ind, br) in value.index:
        if ind.startswith("housing_retention_") and ind.endswith("m") and "at_risk" not in ind and "pathway" not in ind:
            assert (f"housing_retention_at_risk_{ind.split('_')[-1]}", br) in value.index
    assert rows["period"].eq("2024-12").all()


def returns_fixture(admission: str, moved_in: str = "2022-03-01") -> pd.DataFrame:
    t = tenancies([("a1", "p1", moved_in, None, None, "CTI", True, "shelter")])
    ep = pd.DataFrame({"person_id": ["p1", "p1"], "start": pd.to_datetime(["2022-01-10", admission])})
    return r.return_data(t, ep, M)


@pytest.mark.parametrize(
    "moved_in, admission, within",
    [
        ("2022-03-01", "2023-03-01", True),   # day 365 = move-in + 12 calendar months: within
        ("2022-03-01", "2023-03-02", False),  # day 366: not within
        ("2023-03-01", "2024-03-01", True),   # leap year: day 366 is still move-in + 12 months
        ("2023-03-01", "2024-03-02", False),  # day 367
    ],
)
def test_return_within_12_months_boundary(moved_in, admission, within):
    data = returns_fixture(admission, moved_in)
    assert (T(admission) - T(moved_in)).days in (365, 366, 367)
    assert data["status"].iloc[0] == 1  # the earlier episode (before move-in) is not a return
    cif = r.cumulative_incidence(data["time"], data["status"])
    assert r.incidence_at(cif, 12) == (1.0 if within else 0.0)


def test_death_competes_with_return():
    t = tenancies([
        ("a1", "p1", "2023-01-01", "2023-03-31", "doed", "CTI", True, "shelter"),
        ("a2", "p2", "2023-01-01", "2023-05-31", "udsaettelse", "CTI", True, "shelter"),
        ("a3", "p3", "2023-01-01", None, None, "CTI", True, "shelter"),
        ("a4", "p4", "2023-01-01", None, None, "CTI", True, "shelter"),
    ])
    ep = pd.DataFrame({"person_id": ["p2"], "start": pd.to_datetime(["2023-07-01"])})
    data = r.return_data(t, ep, M).set_index("allocation_id")
    assert data["status"].to_dict() == {"a1": 2, "a2": 1, "a3": 0, "a4": 0}
    assert data.loc["a2", "time"] == pytest.approx(6.0)  # the return after eviction counts
    cif = r.cumulative_incidence(data["time"], data["status"])
    # Death at 3 (S = 3/4), return at 6 with 3 at risk: CIF = 3/4 * 1/3 = 1/4 (naive 1 - KM would say 1/3).
    assert r.incidence_at(cif, 12) == pytest.approx(0.25)


def test_cumulative_incidence_matches_lifelines_without_ties():
    rng = np.random.default_rng(1)
    time = pd.Series(rng.uniform(0, 30, 200))
    status = pd.Series(rng.choice([0, 1, 2], 200, p=[0.5, 0.3, 0.2]))
    ours = r.cumulative_incidence(time, status)
    aj = AalenJohansenFitter(calculate_variance=False).fit(time, status, event_of_interest=1)
    theirs = aj.cumulative_density_.iloc[:, 0]
    for t in (5, 12, 24):
        assert r.incidence_at(ours, t) == pytest.approx(float(theirs.loc[:t].iloc[-1]), abs=1e-9)


def test_cumulative_incidence_with_ties_and_censoring_at_event_times():
    # At 1: 6 followed (the one censored at 1 included), a return and a death -> CIF 1/6, S 2/3.
    # At 2: 3 followed, a return -> + 2/3 * 1/3; S 4/9. At 3: 1 followed, a return -> + 4/9. NaN time: left out.
    time = pd.Series([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, np.nan])
    status = pd.Series([1, 0, 2, 1, 0, 1, 1])
    cif = r.cumulative_incidence(time, status)
    assert cif.index.tolist() == [1.0, 2.0, 3.0] and cif.index.name == "time" and cif.name == "status"
    assert cif.tolist() == pytest.approx([1 / 6, 7 / 18, 5 / 6])
    assert r.cumulative_incidence(time, status, cause=2).tolist() == pytest.approx([1 / 6, 1 / 6, 1 / 6])


def test_cumulative_incidence_of_an_empty_group():
    cif = r.cumulative_incidence(pd.Series([], dtype=float), pd.Series([], dtype="int64"))
    assert cif.empty and cif.dtype == "float64" and cif.index.dtype == "float64" and cif.index.name == "time"
    assert r.incidence_at(cif, 12) == 0.0


def naive_cif(time: list[float], status: list[int], cause: int) -> dict[float, float]:
    """Aalen–Johansen by a loop over the distinct times: the textbook definition, for comparison."""
    pairs = [(t, s) for t, s in zip(time, status) if not np.isnan(t)]
    surv, total, out = 1.0, 0.0, {}
    for t in sorted({t for t, _ in pairs}):
        n = sum(u >= t for u, _ in pairs)
        d_all = sum(u == t and s > 0 for u, s in pairs)
        total += surv * sum(u == t and s == cause for u, s in pairs) / n
        surv *= 1 - d_all / n
        out[t] = total
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 8).map(lambda k: k / 2), st.just(np.nan)), st.integers(0, 2)),
                max_size=25))
def test_cumulative_incidence_equals_the_naive_loop(rows):
    time, status = [t for t, _ in rows], [s for _, s in rows]
    cif = r.cumulative_incidence(pd.Series(time, dtype=float), pd.Series(status, dtype="int64"))
    want = naive_cif(time, status, cause=1)
    assert cif.index.tolist() == list(want)
    assert cif.tolist() == pytest.approx(list(want.values()), rel=1e-12)


def test_incidence_table_counts_those_followed_at_each_step():
    ep = pd.DataFrame({"person_id": ["p1", "p3"], "start": pd.to_datetime(["2023-06-01", "2023-02-01"])})
    result = r.analyse(SIX, ep, EMPTY_SUPPORT, M, load_params())
    table = result.incidence_table(0)
    for group, part in table.groupby("group"):
        times = result.return_times(group)
        assert part["at_risk"].tolist() == [int((times >= t).sum()) for t in part["months"]], group
    assert set(table["group"]) == {"", "CTI", "ICM", "none"}  # ACT and SEL85 have nobody


def test_cti_course_view():
    params = load_params()
    t = tenancies([
        ("a1", "p1", "2023-01-01", None, None, "CTI", True, "shelter"),                  # full course, housed
        ("a2", "p2", "2023-01-01", "2023-05-31", "udsaettelse", "CTI", True, "shelter"),  # broke off in phase 2
        ("a3", "p3", "2024-06-01", None, None, "CTI", True, "shelter"),                   # too recent to evaluate
        ("a4", "p4", "2023-02-01", "2023-08-15", "udsaettelse", "CTI", True, "shelter"),  # support stopped on eviction day
    ])
    support = pd.DataFrame({
        "person_id": ["p1", "p2", "p3", "p4"],
        "method": "CTI",
        "start": pd.to_datetime(["2023-01-10", "2023-01-01", "2024-06-01", "2023-02-01"]),
        "end": pd.to_datetime(["2023-10-09", "2023-05-20", None, "2023-08-15"]),
        "end_reason": ["planmaessigt_afsluttet", "afbrudt", None, "flyttet"],
    })
    courses = r.cti_courses(t, support, M, params).set_index("allocation_id")
    assert set(courses.index) == {"a1", "a2", "a4"}
    assert courses.loc["a1", "phase"] == 3 and courses.loc["a1", "completed"]
    assert courses.loc["a2", "phase"] == 2 and not courses.loc["a2", "completed"]
    assert courses.loc["a1", "status_at_end"] == "housed"
    assert courses.loc["a2", "status_at_end"] == "housed"  # still there on the day support stopped
    assert courses.loc["a2", "status_12m_after"] == "lost"
    assert courses.loc["a4", "phase"] == 3 and not courses.loc["a4", "completed"]  # 6,5 months: in phase 3
    assert courses.loc["a4", "status_at_end"] == "lost"
    rows = pd.DataFrame(r.cti_indicators(courses, "2024-12")).set_index("indicator")["value"]
    assert rows["cti_courses"] == 3
    assert rows["cti_course_completed_share"] == pytest.approx(1 / 3)
    assert rows["cti_housed_at_end_share"] == pytest.approx(2 / 3)
    assert rows["cti_housed_12m_after_share"] == pytest.approx(1 / 3)


def month_tables() -> dict[str, pd.DataFrame]:
    """The retention step's four month tables around SIX: rents, a subsidy, a 24-month income panel, one CTI course."""
    from analysis.retention import subsidy

    t = SIX.assign(rent=4500.0, utilities=500.0, rent_subsidy=1250.0, subsidy_scheme=subsidy.STATE_SCHEME)
    months = [str(p) for p in pd.period_range("2023-01", "2024-12", freq="M")]
    income = pd.DataFrame([(p, m) for p in t["person_id"] for m in months], columns=["person_id", "month"])
    income = income.assign(benefit="kontanthjaelp", net_income=8000.0, housing_benefit=700.0, arrears=0.0)
    episodes = pd.DataFrame({"person_id": ["p1"], "start": pd.to_datetime(["2023-06-01"])})
    support = pd.DataFrame({"person_id": ["p1"], "method": ["CTI"], "start": pd.to_datetime(["2023-01-01"]),
                            "end": pd.to_datetime(["2023-03-31"]), "end_reason": ["afbrudt"]})
    return {"tenancies": t, "episodes": episodes, "support": support, "income": income}


def test_every_published_figure_is_in_the_catalogue_with_its_base():
    import yaml
    from importlib import resources

    from analysis.retention.step import indicator_rows

    params = load_params()
    tables = month_tables()
    rows = indicator_rows(r.analyse(tables["tenancies"], tables["episodes"], tables["support"], M, params), tables, M,
                          params)
    text = resources.files("analysis.indicators").joinpath("catalogue/retention.yml").read_text(encoding="utf-8")
    catalogue = yaml.safe_load(text)
    assert set(rows["indicator"]) <= set(catalogue)
    for ind, entry in catalogue.items():
        assert {"label_da", "definition", "window", "censoring", "definition_da", "window_da", "censoring_da", "kind", "unit",
                "breakdowns"} <= set(entry), ind
        mine = rows[rows["indicator"] == ind]
        assert set(mine["breakdown"]) - {""} <= set(entry["breakdowns"]), ind
        if entry["kind"] in {"survival", "person_share", "person_median"}:
            base = rows[rows["indicator"] == entry["base"]]
            keys = set(zip(base["period"], base["breakdown"]))
            assert set(zip(mine["period"], mine["breakdown"])) <= keys, ind
        if entry.get("total") == "":
            for _, cells in mine.groupby("period"):
                total = cells.loc[cells["breakdown"] == "", "value"]
                assert len(total) == 1 and total.iloc[0] == cells.loc[cells["breakdown"] != "", "value"].sum(), ind
    # The central suppression accepts the rows as they are.
    from analysis.indicators.catalogue import load_catalogue
    from analysis.base.suppression import suppress

    published = suppress(rows, load_catalogue(), int(params["disclosure.min_count"]))
    hidden = dict(zip(zip(published["indicator"], published["breakdown"]), published["suppressed"]))
    assert hidden[("housing_retention_tenancies", "CTI")]          # 2 tenancies: a small count
    assert hidden[("housing_retention_6m", "")]                     # fewer than 5 followed 6 months


def _figures(rows: list[tuple]):
    """The memo's look-up over a tiny published table (imported here: the report layer is above retention)."""
    from analysis.report.published import Figures

    table = pd.DataFrame(rows, columns=["indicator", "breakdown", "value", "suppressed"]).assign(period="2024-12")
    return Figures(table, pd.Period("2024-12", "M"), 5)


def test_memo_compares_local_retention_with_the_evaluations():
    from analysis.report.memo import spor4

    figs = _figures([
        ("housing_retention_12m", "CTI", 0.87, False), ("housing_retention_12m_lower", "CTI", 0.80, False),
        ("housing_retention_12m_upper", "CTI", 0.92, False),
        ("housing_retention_12m", "ICM", 0.60, False), ("housing_retention_12m_lower", "ICM", 0.52, False),
        ("housing_retention_12m_upper", "ICM", 0.68, False),
        ("housing_retention_12m", "ACT", None, True),
    ])
    assert spor4.comparison(figs, "CTI", 0.885) == "87 %, på niveau med de danske evalueringer (88,5 %)"
    assert "lavere end" in spor4.comparison(figs, "ICM", 0.76)
    assert spor4.comparison(figs, "ACT", 0.90) == "kan endnu ikke sammenlignes med evalueringerne (<5)"
    assert spor4.takeaway(figs, {"CTI": 0.885, "ICM": 0.76, "ACT": 0.90}).startswith("ICM fastholder færre")


def test_memo_never_invents_a_missing_figure():
    from analysis.report.memo import spor4
    from analysis.report.published import NOT_YET

    figs = _figures([])
    params = load_params()
    text = "\n".join([spor4.retention_reading(figs, params), spor4.cti_reading(figs, params),
                      spor4.payment_reading(figs, params), spor4.projection_reading(figs, params)])
    assert NOT_YET in text
    assert "%" not in text.replace("88,5 %", "").replace("76,0 %", "").replace("90,0 %", "")


def test_memo_figures_match_breakdown_and_period_exactly():
    from analysis.report.published import Figures

    table = pd.DataFrame([
        ("subsidy_tenants", "2024-12", None, 7.0, False),           # a missing breakdown is the total
        ("subsidy_projection_below_norm_share", "2030", "growth_0pct", 0.4, False),
        ("subsidy_projection_below_norm_share", "2031", "growth_0pct", None, True),
        ("housing_retention_12m", "2024-11", "CTI", 0.5, False),     # another month: never read for 2024-12
    ], columns=["indicator", "period", "breakdown", "value", "suppressed"])
    figs = Figures(table, pd.Period("2024-12", "M"), 5)
    assert figs.value("subsidy_tenants") == 7.0
    assert figs.value("subsidy_projection_below_norm_share", "growth_0pct", "2030") == 0.4
    assert np.isnan(figs.value("subsidy_projection_below_norm_share", "growth_0pct"))
    assert figs.text("subsidy_projection_below_norm_share", "growth_0pct", "2031") == "<5"
    assert figs.text("housing_retention_12m", "CTI") == "–"
    assert figs.value("housing_retention_12m", "CTI", "2024-11") == 0.5


def test_cti_reading_holds_the_housed_share_against_the_evaluation():
    from analysis.report.memo import spor4

    lo, hi = spor4.wilson_band(0.5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)  # textbook Wilson interval for 5 of 10
    figs = _figures([("cti_courses", "", 200, False), ("cti_housed_at_end_base", "", 200, False),
                     ("cti_housed_at_end_share", "", 0.92, False)])
    text = spor4.cti_reading(figs, load_params())
    assert "92 % i egen bolig (på niveau med evalueringernes 88,5 %)" in text


OCTOBER = pd.Period("2026-10", "M")


def _projection_table(shares: dict[tuple[str, str], float], medians: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [("subsidy_tenants", "2026-10", "", 107.0, False), ("subsidised_dwellings_allocated", "2026-10", "", 221.0, False),
            ("state_subsidy_full_monthly", "2026", "", 1452.5, False)]
    rows += [("subsidy_projection_base", y, g, 55.0, False) for (g, y) in shares]
    rows += [("subsidy_projection_below_norm_share", y, g, v, False) for (g, y), v in shares.items()]
    rows += [("subsidy_projection_disposable_median", y, g, v, False) for (g, y), v in medians.items()]
    return pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value", "suppressed"])


def test_projection_says_why_the_share_cannot_move_and_shows_the_median_falling():
    """October 2026: nobody is within the subsidy of the norm, so the share is 13 % everywhere (not a bug)."""
    from analysis.report.memo import spor4
    from analysis.report.published import Figures

    keys = [(g, y) for g in ("growth_0pct", "growth_1pct", "growth_2pct") for y in ("2026", "2035")]
    medians = {("growth_0pct", "2026"): 6722.0, ("growth_0pct", "2035"): 5269.0, ("growth_1pct", "2026"): 6722.0,
               ("growth_1pct", "2035"): 6200.0, ("growth_2pct", "2026"): 6722.0, ("growth_2pct", "2035"): 7188.0}
    text = spor4.projection_reading(Figures(_projection_table({k: 0.13 for k in keys}, medians), OCTOBER, 5),
                                    load_params())
    assert "I dag bor 107 lejere" in text and "af de 221 boliger" in text and "de 55, hvis indkomst" in text
    assert "Andelen under normen er 13 % i alle år" in text and "1.453 kr. om måneden" in text
    assert "medianen er 6.722 kr. om måneden i 2026 og 5.269 kr. i 2035" in text and "(7.188 kr. med 2 %" in text
    assert "13 %, 13 % og 13 %" not in text
    longer = spor4.projection_reading(Figures(_projection_table({k: 0.13 for k in keys}, medians), OCTOBER, 5),
                                      load_params(overrides={"state_subsidy.full_years": 1000}))
    assert "Tilskuddet er fuldt i 1.000 år" in longer  # a parameter prints as a Danish number, like a figure


def test_projection_compares_shares_when_they_differ_and_says_when_nobody_has_the_subsidy_yet():
    from analysis.report.memo import spor4
    from analysis.report.published import Figures

    shares = {("growth_0pct", "2026"): 0.1, ("growth_0pct", "2035"): 0.3, ("growth_1pct", "2026"): 0.1,
              ("growth_1pct", "2035"): 0.25, ("growth_2pct", "2026"): 0.1, ("growth_2pct", "2035"): 0.2}
    text = spor4.projection_reading(Figures(_projection_table(shares, {}), OCTOBER, 5), load_params())
    assert "er det 30 %, hvis indkomsterne ikke stiger, og 20 % med 2 % årlig realvækst" in text
    none_yet = pd.DataFrame([("subsidy_tenants", "2023-02", "", 0.0, False)],
                            columns=["indicator", "period", "breakdown", "value", "suppressed"])
    text = spor4.projection_reading(Figures(none_yet, pd.Period("2023-02", "M"), 5), load_params())
    assert "endnu bor ingen lejere" in text and "0 lejere" not in text
