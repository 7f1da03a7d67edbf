"""System view and spor 5 shelter figures: hand-computed answers, and stock-flow reconciliation as a property."""
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.clean.episodes import build_episodes
from analysis.indicators import system
from analysis.indicators.common import value_of as value
from analysis.months import month_end
from analysis.params import load_params

T = pd.Timestamp
M = pd.Period("2023-02", "M")
P = load_params(overrides={"definitions.history_months": 3})


def episodes(rows):
    """rows: (person, start, end or None, category or None, nights)."""
    df = pd.DataFrame(rows, columns=["person_id", "start", "end", "discharge_category", "nights"])
    df["start"], df["end"] = pd.to_datetime(df["start"]), pd.to_datetime(df["end"])
    df["open"] = df["end"].isna()
    return df


FIXTURE = episodes([
    ("a", "2020-01-01", "2020-02-01", "egen_bolig", 31),   # long ago
    ("a", "2023-02-03", None, None, 26),                    # a: new (previous ended > 24 months before)
    ("b", "2022-06-01", "2022-07-01", "egen_bolig", 30),
    ("b", "2023-02-10", "2023-02-20", "gaden", 10),         # b: returning from housing, ends in M
    ("c", "2022-12-01", "2023-01-31", "behandling", 61),    # c: ends on the last day of January
    ("c", "2023-02-01", None, None, 28),                    # c: returning other
    ("d", "2022-11-15", None, None, 106),                   # d: open throughout
])


def test_stock_and_flows_by_hand():
    out = system.flows(FIXTURE, M, P)
    assert value(out, "persons_in_shelter", "2023-01") == 1   # d (c left on 31 January)
    assert value(out, "persons_in_shelter", "2023-02") == 3   # a, c, d
    assert value(out, "inflow", "2023-02", "new") == 1
    assert value(out, "inflow", "2023-02", "returning_from_housing") == 1
    assert value(out, "inflow", "2023-02", "returning_other") == 1
    assert value(out, "episodes_started", "2023-02") == 3
    assert value(out, "outflow", "2023-02", "other") == 1
    assert value(out, "outflow", "2023-02", "to_housing") == 0
    assert value(out, "episodes_ended", "2023-01") == 1
    assert value(out, "outflow", "2022-12") == 0


def test_endings_in_12_months_and_median_length():
    out = system.endings_12m(FIXTURE, M, P)
    assert value(out, "episodes_ended_12m", "2023-02") == 3
    assert value(out, "episodes_ended_12m", "2023-02", "egen_bolig") == 1
    assert value(out, "episodes_ended_12m", "2023-02", "doed") == 0
    assert value(out, "episode_length_median_12m", "2023-02") == 30
    assert value(out, "episodes_ended_12m", "2022-12") == 1


def test_frequent_users_and_their_admissions():
    eps = episodes([
        ("f", "2022-03-01", "2022-03-05", "gaden", 4),
        ("f", "2022-08-01", "2022-08-05", "gaden", 4),
        ("f", "2023-02-01", "2023-02-05", "gaden", 4),
        ("g", "2022-02-20", "2022-02-25", "gaden", 5),      # outside the window at M
        ("g", "2022-09-01", "2022-09-05", "gaden", 4),
        ("g", "2023-02-10", None, None, 19),
    ])
    out = system.frequent_users(eps, M, P)
    assert value(out, "frequent_users", "2023-02") == 1
    assert value(out, "frequent_user_admissions", "2023-02") == 1
    assert value(out, "frequent_user_discharges", "2023-02") == 1
    assert value(out, "frequent_users", "2023-01") == 0     # each third start is in February 2023


def test_discharges_of_copenhagen_citizens_from_own_shelters():
    shelters = pd.DataFrame({"shelter_id": ["k", "s"], "ownership": ["kommunal", "selvejende"],
                             "valid_from": [T("2020-01-01")] * 2})
    stays = pd.DataFrame({
        "shelter_id": ["k", "k", "k", "s", "k"],
        "acting_municipality": ["101", "101", "147", "101", "101"],
        "discharged": [T("2023-02-05"), T("2022-05-01"), T("2023-02-06"), T("2023-02-07"), pd.NaT],
        "discharge_category": ["egen_bolig", "gaden", "gaden", "gaden", None],
    })
    out = system.discharges_cph_own_shelters(stays, shelters, M, P)
    assert value(out, "discharges_cph_own_shelters", "2023-02") == 1
    assert value(out, "discharges_cph_own_shelters", "2023-02", "egen_bolig") == 1
    assert value(out, "discharges_cph_own_shelters_12m", "2023-02") == 2
    assert value(out, "discharges_cph_own_shelters_12m", "2023-02", "gaden") == 1


@st.composite
def random_stays(draw):
    """Random §110 stays (overlaps, transfers, zero-night stays, open ones), cut at the end of M as the clean step does."""
    base = T("2022-08-01")
    rows = []
    for person in range(draw(st.integers(1, 6))):
        for _ in range(draw(st.integers(1, 6))):
            admitted = base + pd.Timedelta(days=draw(st.integers(0, 240)))
            length = draw(st.one_of(st.none(), st.integers(0, 60)))
            discharged = None if length is None else admitted + pd.Timedelta(days=length)
            rows.append((f"p{person}", admitted, discharged, draw(st.sampled_from(["egen_bolig", "gaden", "skaev_bolig"]))))
    stays = pd.DataFrame(rows, columns=["person_id", "admitted", "discharged", "discharge_category"])
    stays["discharged"] = pd.to_datetime(stays["discharged"])
    stays = stays[stays["admitted"] <= month_end(M)].reset_index(drop=True)
    later = stays["discharged"] > month_end(M)
    stays.loc[later, "discharged"] = pd.NaT
    stays.loc[stays["discharged"].isna(), "discharge_category"] = None
    return stays.assign(stay_id=[f"s{i}" for i in range(len(stays))], shelter_id="h", acting_municipality="101")


@settings(max_examples=100, deadline=None)
@given(random_stays())
def test_stock_change_equals_inflow_minus_outflow(stays):
    eps = build_episodes(stays, M, int(P["definitions.episode_gap_days"]))
    out = system.flows(eps, M, load_params(overrides={"definitions.history_months": 8}))
    months = [str(M - k) for k in range(7, -1, -1)]
    for before, now in zip(months, months[1:]):
        change = value(out, "persons_in_shelter", now) - value(out, "persons_in_shelter", before)
        assert change == value(out, "inflow", now) - value(out, "outflow", now)
        assert value(out, "inflow", now) == sum(value(out, "inflow", now, b) for b in system.INFLOW)
        assert value(out, "outflow", now) == sum(value(out, "outflow", now, b) for b in system.OUTFLOW)
    assert value(out, "persons_in_shelter", str(M)) == eps.loc[eps["open"], "person_id"].nunique()


def _reference_arrival_type(episodes: pd.DataFrame, params) -> pd.Series:
    """The previous episode found by sorting and grouping the person_id text (the definition, plainly)."""
    import numpy as np

    e = episodes.sort_values(["person_id", "start"])
    by_person = e.groupby("person_id")
    prev_end, prev_category = by_person["end"].shift(), by_person["discharge_category"].shift()
    lookback = pd.DateOffset(months=int(params["definitions.new_arrival_lookback_months"]))
    recent = prev_end.notna() & (prev_end >= e["start"] - lookback)
    kind = np.where(~recent, "new", np.where(prev_category.isin(system.HOUSING_OUTCOMES), "returning_from_housing",
                                             "returning_other"))
    return pd.Series(kind, index=e.index).reindex(episodes.index)


def test_arrival_type_by_hand():
    kinds = system.arrival_type(FIXTURE, P)
    assert kinds.tolist() == ["new", "new", "new", "returning_from_housing", "new", "returning_other", "new"]


@settings(max_examples=100, deadline=None)
@given(random_stays())
def test_arrival_type_and_median_lengths_agree_with_plain_pandas(stays):
    eps = build_episodes(stays, M, int(P["definitions.episode_gap_days"])).sample(frac=1, random_state=1)
    pd.testing.assert_series_equal(system.arrival_type(eps, P), _reference_arrival_type(eps, P), check_exact=True)
    out = system.endings_12m(eps, M, P)
    ended = eps[eps["end"].notna()]
    for m in (M - 2, M - 1, M):
        inside = (ended["end"] >= (m - 11).start_time) & (ended["end"] <= month_end(m))
        expected = ended.loc[inside, "nights"].median()
        got = value(out, "episode_length_median_12m", str(m))
        assert got == expected or (pd.isna(got) and pd.isna(expected))
