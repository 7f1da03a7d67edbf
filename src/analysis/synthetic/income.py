"""Monthly income panel (`forsoergelse`) from the employment administration.

Only the homelessness unit's citizens (a tenancy from a shelter, or support),
from 12 months before their first move-in or support start (never before
``PANEL_FROM``) until 6 months after they leave their last dwelling, or the
horizon; this keeps the panel near 300k rows at scale 1. The main source
of income follows a monthly Markov chain with age rules; amounts come from the
parameter file's ``benefits.*`` (moved along the pl index), minus income tax.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.params import Params
from analysis.synthetic import policy
from analysis.synthetic.timeline import NA_DAY, Window, month_first_day, month_index

SOURCES: tuple[str, ...] = ("kontanthjaelp", "uddannelseshjaelp", "foertidspension", "folkepension", "sygedagpenge",
                            "ressourceforloeb", "loen", "su", "ingen")
# Monthly moves between sources (row: from, off-diagonal only; the rest stays).
MOVES: dict[str, dict[str, float]] = {
    "kontanthjaelp": {"loen": 0.010, "ressourceforloeb": 0.007, "foertidspension": 0.003, "sygedagpenge": 0.004, "ingen": 0.004, "su": 0.001},
    "uddannelseshjaelp": {"su": 0.02, "loen": 0.015, "kontanthjaelp": 0.003, "ingen": 0.004},
    "foertidspension": {},
    "folkepension": {},
    "sygedagpenge": {"loen": 0.10, "kontanthjaelp": 0.08, "ressourceforloeb": 0.01},
    "ressourceforloeb": {"foertidspension": 0.025, "kontanthjaelp": 0.02, "loen": 0.005},
    "loen": {"kontanthjaelp": 0.02, "sygedagpenge": 0.01, "ingen": 0.005},
    "su": {"loen": 0.03, "uddannelseshjaelp": 0.02},
    "ingen": {"kontanthjaelp": 0.12, "loen": 0.01},
}
START_MIX: dict[str, float] = {"kontanthjaelp": 0.55, "foertidspension": 0.20, "sygedagpenge": 0.03, "ressourceforloeb": 0.07,
                               "loen": 0.06, "su": 0.01, "ingen": 0.08}
# Gross monthly amounts with no parameter (assumptions, 2023 level): folkepension (grundbeløb + tillæg, single),
# sygedagpenge (near the maximum), SU (udeboende), and the wage range of the target group.
FOLKEPENSION_2023, SYGEDAGPENGE_2023, SU_2023, WAGE_2023 = 14800.0, 19500.0, 6820.0, (20000.0, 32000.0)
TAX_RATE, PERSONAL_ALLOWANCE, LABOUR_MARKET_CONTRIBUTION = 0.37, 4000.0, 0.08
PANEL_FROM = "2020-01"  # the employment administration's extract starts here
BEFORE_MONTHS, AFTER_MONTHS = 12, 6


def _transition_matrix() -> np.ndarray:
    m = np.zeros((len(SOURCES), len(SOURCES)))
    for i, src in enumerate(SOURCES):
        for dst, p in MOVES[src].items():
            m[i, SOURCES.index(dst)] = p
        m[i, i] = 1 - m[i].sum()
    return np.cumsum(m, axis=1)


def _panel_rows(alloc: pd.DataFrame, support: pd.DataFrame, window: Window) -> pd.DataFrame:
    moved = alloc[(alloc.moved_in != NA_DAY) & (alloc.moved_in <= window.horizon)
                  & ((alloc.pathway == "shelter") | alloc.person.isin(support.person))]
    first = pd.concat([moved[["person", "moved_in"]].rename(columns={"moved_in": "d"}),
                       support[["person", "start"]].rename(columns={"start": "d"})]).groupby("person").d.min()
    out = moved.moved_out.where(moved.moved_out <= window.horizon, np.iinfo(np.int64).max)
    last_out = out.groupby(moved.person).max().reindex(first.index, fill_value=np.iinfo(np.int64).max)
    horizon_m = int(month_index(np.array([window.horizon]))[0])
    panel_from = int(month_index(np.array([max(window.start, month_first_day(PANEL_FROM))]))[0])
    lo = np.maximum(month_index(first.to_numpy()) - BEFORE_MONTHS, panel_from)
    ended = last_out.to_numpy() < np.iinfo(np.int64).max
    hi = np.full(len(first), horizon_m)
    hi[ended] = np.minimum(month_index(last_out.to_numpy()[ended]) + AFTER_MONTHS, horizon_m)
    n = np.maximum(hi - lo + 1, 0)
    person = np.repeat(first.index.to_numpy(), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return pd.DataFrame({"person": person, "month": np.repeat(lo, n) + offset, "k": offset})


def _tenancy_months(alloc: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Person-months spent in a dwelling, with its rent and months left before an eviction."""
    t = alloc[(alloc.moved_in != NA_DAY) & (alloc.moved_in <= window.horizon)]
    mi = month_index(t.moved_in.to_numpy())
    mo = month_index(np.minimum(t.moved_out.to_numpy(), window.horizon))
    n = mo - mi + 1
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    evicted = (t.moveout_category.to_numpy() == "udsaettelse") & (t.moved_out.to_numpy() <= window.horizon)
    return pd.DataFrame({
        "person": np.repeat(t.person.to_numpy(), n), "month": np.repeat(mi, n) + offset,
        "rent": np.repeat(t.husleje.to_numpy(), n),
        "to_eviction": np.where(np.repeat(evicted, n), np.repeat(n, n) - 1 - offset, 999),
    }).drop_duplicates(["person", "month"], keep="last")


def build(rng: np.random.Generator, alloc: pd.DataFrame, support: pd.DataFrame, persons: pd.DataFrame,
          window: Window, params: Params) -> pd.DataFrame:
    """The panel: one row per person and month (key cpr + maaned)."""
    rows = _panel_rows(alloc, support, window)
    n = len(rows)
    birth_m = month_index(persons.birth.to_numpy())[rows.person.to_numpy()]
    age = (rows.month.to_numpy() - birth_m) / 12
    state = np.empty(n, dtype=np.int64)
    cum = _transition_matrix()
    start_p = np.array([START_MIX.get(s, 0.0) for s in SOURCES])
    k = rows.k.to_numpy()
    first = k == 0
    state[first] = rng.choice(len(SOURCES), first.sum(), p=start_p / start_p.sum())
    young_ix, pension_ix = SOURCES.index("uddannelseshjaelp"), SOURCES.index("folkepension")
    order = np.argsort(k, kind="stable")
    bounds = np.searchsorted(k[order], np.arange(int(k.max()) + 2 if n else 0))
    for step in range(len(bounds) - 1):
        idx = order[bounds[step]:bounds[step + 1]]
        if step:
            prev = state[idx - 1]
            state[idx] = (rng.random((len(idx), 1)) > cum[prev]).sum(axis=1)
        a = age[idx]
        s = state[idx]
        s[(a < 30) & (s == SOURCES.index("kontanthjaelp"))] = young_ix
        s[(a >= 30) & (s == young_ix)] = SOURCES.index("kontanthjaelp")
        s[a >= 67] = pension_ix
        state[idx] = s
    year = (rows.month.to_numpy() // 12 + 1970)
    pl23 = policy.pl_index(params, year) / policy.pl_index(params, np.full(n, 2023))
    wage = rng.uniform(*WAGE_2023, persons.shape[0])[rows.person.to_numpy()] * pl23
    kh = policy.by_year(params, "benefits.kontanthjaelp_30plus_no_children", year)
    gross = np.select([state == SOURCES.index(s) for s in SOURCES], [
        kh, policy.by_year(params, "benefits.kontanthjaelp_under30_away", year),
        policy.by_year(params, "benefits.foertidspension_single", year), FOLKEPENSION_2023 * pl23,
        SYGEDAGPENGE_2023 * pl23, kh, wage * (1 - LABOUR_MARKET_CONTRIBUTION), SU_2023 * pl23, np.zeros(n)])
    net = np.round((gross - TAX_RATE * np.maximum(gross - PERSONAL_ALLOWANCE, 0)) * rng.uniform(0.97, 1.03, n), 2)
    housed = rows.merge(_tenancy_months(alloc, window), on=["person", "month"], how="left")
    rent = housed.rent.to_numpy()
    in_dwelling = ~np.isnan(rent)
    cap = float(params["benefits.housing_benefit_share_of_rent_cap"])
    benefit = np.where(in_dwelling & (net < 16000), np.round(cap * np.nan_to_num(rent) * rng.uniform(0.6, 1.0, n)), 0.0)
    to_evict = housed.to_eviction.fillna(999).to_numpy()
    arrears = np.where(in_dwelling & (rng.random(n) < 0.02), rng.integers(500, 8001, n), 0).astype(float)
    building = (to_evict < 6) & (rng.random(n) < 0.6)
    arrears[building] = np.round(np.nan_to_num(rent)[building] * (6 - to_evict[building]) * rng.uniform(0.5, 1.0, building.sum()))
    return pd.DataFrame({
        "person": rows.person.to_numpy(),
        "maaned": pd.PeriodIndex.from_ordinals(rows.month.to_numpy(), freq="M").strftime("%Y-%m"),
        "ydelse": np.array(SOURCES, dtype=object)[state], "nettoindkomst": np.where(state == SOURCES.index("ingen"), 0.0, net),
        "boligstoette": benefit, "restance": arrears,
    })
