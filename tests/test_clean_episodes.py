"""Episodes: hand-computed chains and overlaps, the month cut, and agreement with a night-by-night reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.clean.cut import cut_to_month
from analysis.clean.episodes import _NEVER, build_episodes, count_overlapping_stays, previous_max

M = pd.Period("2023-02", "M")
D = pd.Timestamp


def stays(rows):
    frame = pd.DataFrame(rows, columns=["stay_id", "person_id", "shelter_id", "admitted", "discharged", "discharge_category"])
    frame["admitted"] = pd.to_datetime(frame["admitted"])
    frame["discharged"] = pd.to_datetime(frame["discharged"])
    frame["acting_municipality"] = "101"
    frame["discharge_reason"] = None
    return frame


FIXTURE = stays([
    ("S1", "a", "H1", "2023-01-01", "2023-01-10", "andet_herberg"),
    ("S2", "a", "H2", "2023-01-11", "2023-01-15", "egen_bolig"),   # next day: chained (gap 1)
    ("S3", "a", "H1", "2023-01-12", "2023-01-20", "faengsel"),     # overlaps S2
    ("S4", "a", "H1", "2023-01-25", None, None),                    # 5 days later: new, open
    ("S5", "b", "H2", "2023-02-05", "2023-02-05", "behandling"),   # same-day stay: 1 night
    ("S6", "b", "H1", "2023-03-10", None, None),                    # after M: cut away
    ("S7", "c", "H1", "2022-12-01", "2023-03-15", "gaden"),         # discharge after M: open at M
])


def test_hand_computed_episodes():
    cut = cut_to_month(FIXTURE, "stays", M)
    ep = build_episodes(cut, M, gap_days=1).set_index("episode_id")
    assert list(ep.index) == ["a-20230101", "a-20230125", "b-20230205", "c-20221201"]
    a1 = ep.loc["a-20230101"]
    # nights: [1,10) 9 + [11,20) 9 (S2 ∪ S3); the night of the 10th is not covered
    assert (a1.nights, a1.n_stays, a1.end, a1.discharge_category, a1.open) == (18, 3, D("2023-01-20"), "faengsel", False)
    assert (a1.first_shelter_id, a1.last_shelter_id) == ("H1", "H1")
    a2 = ep.loc["a-20230125"]
    assert (a2.nights, a2.open, pd.isna(a2.end), a2.discharge_category) == (35, True, True, None)  # censored at 1 March
    assert ep.loc["b-20230205", "nights"] == 1
    c = ep.loc["c-20221201"]
    assert (c.nights, c.open, c.discharge_category) == (90, True, None)


def test_gap_parameter_changes_chaining():
    cut = cut_to_month(FIXTURE, "stays", M)
    assert len(build_episodes(cut, M, gap_days=0)) == 5  # S2 starts 1 day after S1: no longer chained
    assert len(build_episodes(cut, M, gap_days=4)) == 4  # S4 starts 5 days after S3's discharge: one too many
    assert len(build_episodes(cut, M, gap_days=5)) == 3  # S4 joins the first episode


def test_last_stay_ties_on_discharge_go_to_the_later_admission():
    # Both stays end on 20 January; the one admitted later is the "last" stay: its reason and shelter
    rows = stays([
        ("T1", "a", "H1", "2023-01-01", "2023-01-20", "gaden"),
        ("T2", "a", "H2", "2023-01-05", "2023-01-20", "egen_bolig"),
        ("T3", "b", "H2", "2023-01-05", "2023-01-20", "egen_bolig"),   # same pair, given in the other order
        ("T4", "b", "H1", "2023-01-01", "2023-01-20", "gaden"),
        ("T5", "c", "H1", "2023-01-01", "2023-01-21", "faengsel"),     # a later discharge beats a later admission
        ("T6", "c", "H2", "2023-01-05", "2023-01-20", "egen_bolig"),
    ])
    ep = build_episodes(rows, M, gap_days=1).set_index("person_id")
    assert ep["discharge_category"].to_dict() == {"a": "egen_bolig", "b": "egen_bolig", "c": "faengsel"}
    assert ep["last_shelter_id"].to_dict() == {"a": "H2", "b": "H2", "c": "H1"}
    assert ep["first_shelter_id"].to_dict() == {"a": "H1", "b": "H1", "c": "H1"}
    assert ep["end"].tolist() == [D("2023-01-20"), D("2023-01-20"), D("2023-01-21")]


def test_an_open_stay_is_the_last_stay_and_leaves_the_episode_open():
    rows = stays([
        ("T1", "a", "H1", "2023-01-01", None, None),
        ("T2", "a", "H2", "2023-01-05", "2023-02-28", "egen_bolig"),  # discharged on the last day of M
    ])
    ep = build_episodes(rows, M, gap_days=1).iloc[0]
    assert (ep.open, pd.isna(ep.end), ep.discharge_category, ep.last_shelter_id) == (True, True, None, "H1")
    assert ep.nights == 59  # 1 January to the censor day 1 March


def test_cut_removes_later_facts_and_clears_their_reasons():
    cut = cut_to_month(FIXTURE, "stays", M)
    assert "S6" not in set(cut.stay_id)
    s7 = cut.set_index("stay_id").loc["S7"]
    assert pd.isna(s7.discharged) and s7.discharge_category is None


def test_cut_at_the_last_day_of_m():
    rows = stays([
        ("L1", "a", "H1", "2023-02-28", "2023-02-28", "gaden"),       # admitted and discharged on the last day: kept
        ("L2", "b", "H1", "2023-02-01", "2023-03-01", "egen_bolig"),  # discharged the day after M: still open at M
        ("L3", "c", "H1", "2023-03-01", None, None),                  # admitted the day after M: not yet happened
    ])
    cut = cut_to_month(rows, "stays", M)
    assert cut.columns.tolist() == rows.columns.tolist() and cut.index.equals(pd.RangeIndex(2))
    cut = cut.set_index("stay_id")
    assert list(cut.index) == ["L1", "L2"]
    assert (cut.loc["L1", "discharged"], cut.loc["L1", "discharge_category"]) == (D("2023-02-28"), "gaden")
    assert pd.isna(cut.loc["L2", "discharged"]) and cut.loc["L2", "discharge_category"] is None
    on_the_last_day = rows.iloc[:1].reset_index(drop=True)
    assert cut_to_month(on_the_last_day, "stays", M) is on_the_last_day  # nothing after M: nothing to cut


def test_a_table_the_cut_leaves_as_it_is_is_returned_itself():
    earlier = FIXTURE[FIXTURE["stay_id"].isin(["S1", "S2", "S3", "S5"])].reset_index(drop=True)
    assert cut_to_month(earlier, "stays", M) is earlier  # build_month then copies the ingest file
    assert cut_to_month(FIXTURE, "stays", M) is not FIXTURE
    assert cut_to_month(earlier.set_axis(range(1, 5)), "stays", M).index.equals(pd.RangeIndex(4))


def test_overlaps_are_counted():
    assert count_overlapping_stays(FIXTURE, D("2023-04-04")) == 1
    # a transfer on the discharge day shares no night: [1, 10) and [10, 12) January
    adjacent = stays([("T1", "a", "H1", "2023-01-01", "2023-01-10", "gaden"),
                      ("T2", "a", "H2", "2023-01-10", "2023-01-12", "gaden")])
    assert count_overlapping_stays(adjacent, D("2023-04-04")) == 0
    assert count_overlapping_stays(FIXTURE.iloc[:0], D("2023-04-04")) == 0


def test_episodes_table_columns_and_types():
    ep = build_episodes(cut_to_month(FIXTURE, "stays", M), M, gap_days=1)
    assert ep.columns.tolist() == ["episode_id", "person_id", "start", "end", "nights", "n_stays", "discharge_category",
                                   "first_shelter_id", "last_shelter_id", "acting_municipality", "open"]
    assert ep.dtypes[["start", "end", "nights", "n_stays", "open"]].astype(str).tolist() == [
        "datetime64[ns]", "datetime64[ns]", "int64", "int64", "bool"]
    assert ep["acting_municipality"].tolist() == ["101"] * 4


def test_no_stays_no_episodes():
    ep = build_episodes(FIXTURE.iloc[:0], M, gap_days=1)
    assert len(ep) == 0 and "episode_id" in ep.columns


def test_previous_max_per_segment_also_below_zero():
    # day numbers before 1970 are negative: the running maximum must not assume values >= 0
    values, segment = np.array([-5, -10, 3, -2, -7]), np.array([0, 0, 0, 1, 1])
    assert previous_max(values, segment).tolist() == [_NEVER, -5, -5, _NEVER, -2]
    assert previous_max(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []
    # the largest value in the first segment, the smallest in the second: the segments must not bleed
    assert previous_max(np.array([3, -10, -9]), np.array([0, 1, 1])).tolist() == [_NEVER, _NEVER, -10]


def test_cut_of_a_month_column_keeps_m_itself():
    income = pd.DataFrame({"person_id": ["a", "a", "a"], "month": ["2023-01", "2023-02", "2023-03"],
                           "benefit": "loen", "net_income": 1.0, "housing_benefit": 0.0, "arrears": 0.0})
    assert cut_to_month(income, "income", M)["month"].tolist() == ["2023-01", "2023-02"]


def _reference_nights(rows: pd.DataFrame, censor: pd.Timestamp, gap: int) -> list[tuple[str, int]]:
    """Night-by-night reference: a plain loop, for small random data only."""
    out = []
    for person, group in rows.sort_values(["person_id", "admitted"]).groupby("person_id"):
        chain_end, nights = None, set()
        for r in group.itertuples():
            end = r.discharged if pd.notna(r.discharged) else censor
            if chain_end is not None and (r.admitted - chain_end).days > gap:
                out.append((person, len(nights)))
                nights, chain_end = set(), None
            nights |= set(pd.date_range(r.admitted, max(end, r.admitted + pd.Timedelta(days=1)), inclusive="left"))
            chain_end = end if chain_end is None else max(chain_end, end)
        out.append((person, len(nights)))
    return sorted(out)


def _reference_last_stays(rows: pd.DataFrame, episodes: pd.DataFrame, censor: pd.Timestamp) -> list[set[str]]:
    """Per episode, the stays that may be its last: latest discharge (open = censor), then latest admission."""
    out = []
    for e in episodes.itertuples():
        end = censor if e.open else e.end
        mine = rows[(rows.person_id == e.person_id) & (rows.admitted >= e.start)
                    & (rows.admitted <= end + pd.Timedelta(days=1))]  # the gap is 1 day
        discharged = mine.discharged.fillna(censor)
        latest = mine[discharged == discharged.max()]
        out.append(set(latest[latest.admitted == latest.admitted.max()].stay_id))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("pqr"), st.integers(0, 40), st.one_of(st.none(), st.integers(0, 12))),
                min_size=1, max_size=12))
def test_vectorised_matches_reference(spec):
    base = D("2023-01-01")
    rows = stays([
        (f"S{i}", p, f"H{i}", base + pd.Timedelta(days=a), None if n is None else base + pd.Timedelta(days=a + n), f"c{i}")
        for i, (p, a, n) in enumerate(spec)
    ])  # every stay has its own shelter and category, so both name the stay they came from
    ep = build_episodes(rows, M, gap_days=1)
    assert sorted(zip(ep.person_id, ep.nights.astype(int))) == _reference_nights(rows, D("2023-03-01"), 1)
    assert ep.n_stays.sum() == len(rows)
    assert np.all(ep.nights >= 1)
    for e, last in zip(ep.itertuples(), _reference_last_stays(rows, ep, D("2023-03-01"))):
        assert f"S{e.last_shelter_id[1:]}" in last
        assert e.discharge_category == (None if e.open else f"c{e.last_shelter_id[1:]}")
