"""Housing retention, returns to shelter and the CTI course view (data contract §4).

Time is measured in *calendar months* since move-in, on a scale where the date
``moved_in + DateOffset(months=t)`` is exactly ``t`` (fractions are days into the
following month). "Within 12 months" therefore means "on or before the same
day-of-month a year later", an auditor can check it with a calendar, and the
same definition serves Kaplan–Meier, the cumulative incidence and the CTI view.

Dates follow the contract: ``moved_out`` is the last day in the dwelling, so a
tenancy is held until ``moved_out + 1 day``; open tenancies are censored at the
first day after M. A tenancy is *retained at t* when its holder still lives
there on day ``moved_in + t months``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from analysis.months import day_after, month_end, period_label
from analysis.retention import survival
from analysis.retention.survival import at_risk_counts

METHODS = ("CTI", "ICM", "ACT", "SEL85", "none")
PATHWAYS = ("shelter", "other")
#: Move-out categories that end follow-up without counting as losing the home.
CENSORING_MOVEOUTS = frozenset({"doed", "anden_bolig"})
DEATH = "doed"
PLANNED_END = "planmaessigt_afsluttet"
CTI_PHASE_MONTHS = 3
ALL = ""  # breakdown of figures over all tenancies


def add_months(dates: pd.Series, months: np.ndarray | int) -> pd.Series:
    """``date + DateOffset(months=n)`` for a Series and per-row ``n`` (day clipped to month end).

    Month arithmetic on numpy's month and day units: no date is assembled from parts,
    which is what made this slow. Times of day are dropped; NaT stays NaT. (``cache=False``
    here and below: the parse cache pays off for repeated strings, on dates it only costs.)
    """
    d = pd.to_datetime(dates, cache=False).to_numpy(dtype="datetime64[ns]")
    month = d.astype("datetime64[M]")
    first = (month + np.asarray(months, dtype="int64")).astype("datetime64[D]")
    days_in = (first.astype("datetime64[M]") + 1).astype("datetime64[D]") - first
    day = d.astype("datetime64[D]") - month.astype("datetime64[D]")  # day of month - 1
    return pd.Series((first + np.minimum(day, days_in - 1)).astype("datetime64[ns]"), index=dates.index)


def elapsed_months(start: pd.Series, end: pd.Series) -> pd.Series:
    """Calendar months from ``start`` to ``end``: whole months by DateOffset, plus the day fraction of the next.

    ``elapsed_months(s, s + DateOffset(months=t)) == t`` for every whole ``t``, so a
    "within t months" rule is simply ``elapsed <= t``. NaT in either gives NaN.
    """
    s, e = pd.to_datetime(start, cache=False), pd.to_datetime(end, cache=False)
    valid = s.notna() & e.notna()
    out = pd.Series(np.nan, index=start.index)
    if not valid.any():
        return out
    s, e = s[valid], e[valid]
    guess = (e.dt.year - s.dt.year) * 12 + (e.dt.month - s.dt.month)
    whole = guess.to_numpy() - (add_months(s, guess.to_numpy()) > e).to_numpy()
    anchor = add_months(s, whole)
    nxt = add_months(s, whole + 1)
    frac = (e - anchor).dt.days.to_numpy() / (nxt - anchor).dt.days.to_numpy()
    out[valid] = whole + frac
    return out


def cohort(tenancies: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Tenancies housed from homelessness with a move-in up to the end of M: the unit of every figure here."""
    t = tenancies
    keep = t["housed_from_homelessness"].astype(bool) & t["moved_in"].notna() & (t["moved_in"] <= month_end(month))
    return t.loc[keep].copy()


def retention_data(tenancies: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """One row per cohort tenancy with ``duration`` (months) and ``event`` (lost the home) for Kaplan–Meier."""
    t = cohort(tenancies, month)
    censor = day_after(month)
    moved = t["moved_out"].notna() & (t["moved_out"] <= month_end(month))
    end = (t["moved_out"] + pd.Timedelta(days=1)).where(moved, censor)
    t["duration"] = elapsed_months(t["moved_in"], end)
    t["event"] = moved & ~t["moveout_category"].isin(CENSORING_MOVEOUTS)
    return t


@dataclass(frozen=True)
class Curve:
    """A fitted retention curve for one group (an empty estimate when the group has no tenancies)."""

    group: str
    n: int
    estimate: survival.KaplanMeier

    def at_risk(self, t: float) -> int:
        return self.estimate.at_risk_at(t)

    def at(self, t: float) -> tuple[float, float, float]:
        """Survival and its 95 % band at t; NaN when nobody is followed that long."""
        if self.at_risk(t) == 0:
            return (np.nan, np.nan, np.nan)
        return self.estimate.value_at(t)


def fit_curves(data: pd.DataFrame, by: str, groups: Iterable[str]) -> dict[str, Curve]:
    """Kaplan–Meier per group (exponential Greenwood log(−log) band, as lifelines); ``ALL`` is the whole cohort."""
    curves: dict[str, Curve] = {}
    for group in (ALL, *groups):
        part = data if group == ALL else data[data[by] == group]
        curves[group] = Curve(group, len(part), survival.kaplan_meier(part["duration"], part["event"]))
    return curves


def logrank_p(data: pd.DataFrame, by: str) -> float:
    """p-value of the log-rank test that retention is the same in every group present (NaN with < 2 groups)."""
    present = data[by].dropna()
    if present.nunique() < 2:
        return np.nan
    part = data.loc[present.index]
    return survival.logrank_p(part["duration"], part[by], part["event"])


def curve_table(curves: Mapping[str, Curve], min_at_risk: int) -> pd.DataFrame:
    """Step data of the curves for charts, cut where fewer than ``min_at_risk`` remain (privacy and precision)."""
    rows = []
    for group, curve in curves.items():
        if curve.n < min_at_risk:
            continue
        km = curve.estimate
        frame = pd.DataFrame(
            {
                "group": group,
                "months": km.timeline,
                "survival": km.survival,
                "lower": km.lower,
                "upper": km.upper,
                "at_risk": km.at_risk,
            }
        )
        rows.append(frame[frame["at_risk"] >= min_at_risk])
    cols = ["group", "months", "survival", "lower", "upper", "at_risk"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def at_risk_table(data: pd.DataFrame, by: str, groups: Iterable[str], times: Iterable[int]) -> pd.DataFrame:
    """Numbers at risk by group (rows) and month (columns), the table printed under a KM chart."""
    times = list(times)
    rows = {}
    for group in (ALL, *groups):
        part = data if group == ALL else data[data[by] == group]
        rows[group or "alle"] = at_risk_counts(part["duration"], times)
    return pd.DataFrame.from_dict(rows, orient="index", columns=times)


# ---------------------------------------------------------------- returns to shelter


def return_data(tenancies: pd.DataFrame, episodes: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Time to the first §110 episode starting after move-in; death (move-out ``doed``) competes.

    Follow-up does not stop at move-out: a return after an eviction is exactly what
    is asked about. ``status`` is 1 = returned, 2 = died first, 0 = censored at the end of M.
    Episodes (not stays) are used so that a transfer between shelters is never a return.
    """
    t = cohort(tenancies, month)
    ep = episodes[["person_id", "start"]].merge(t[["allocation_id", "person_id", "moved_in"]], on="person_id")
    first = ep[ep["start"] > ep["moved_in"]].groupby("allocation_id")["start"].min()
    t["return_date"] = t["allocation_id"].map(first)
    died = (t["moveout_category"] == DEATH) & t["moved_out"].notna()
    death_end = (t["moved_out"] + pd.Timedelta(days=1)).where(died)
    censor = pd.Series(day_after(month), index=t.index)
    returned = t["return_date"].notna() & ~(died & (death_end <= t["return_date"]))
    end = t["return_date"].where(returned, death_end.where(died, censor))
    t["time"] = elapsed_months(t["moved_in"], end)
    t["status"] = np.select([returned, died], [1, 2], 0)
    return t


def cumulative_incidence(time: pd.Series, status: pd.Series, cause: int = 1) -> pd.Series:
    """Aalen–Johansen cumulative incidence of ``cause`` with the other causes competing.

    CIF(t) = Σ_{t_j ≤ t} S(t_j−) · d_cause(t_j) / n(t_j), S the all-cause Kaplan–Meier.
    Written out (rather than lifelines' fitter) because that fitter jitters tied times
    at random, and tied months are common here; exact ties keep results reproducible.
    """
    t = time.to_numpy(dtype=float)
    known = ~np.isnan(t)  # without a time a tenancy has no place on the time axis (groupby dropped it too)
    t, s = t[known], status.to_numpy()[known]
    # return_index: a tied time is labelled by its first occurrence (only -0.0 vs 0.0 can tell).
    _, first, step, leaving = np.unique(t, return_index=True, return_inverse=True, return_counts=True)
    d_all = np.bincount(step[s > 0], minlength=len(first))
    d_cause = np.bincount(step[s == cause], minlength=len(first))
    n = np.cumsum(leaving[::-1])[::-1]
    surv = np.cumprod(1 - d_all / n)
    surv_before = np.concatenate(([1.0], surv))[:-1]
    return pd.Series(np.cumsum(surv_before * d_cause / n), index=pd.Index(t[first], name="time"), name="status")


def incidence_at(cif: pd.Series, t: float) -> float:
    """CIF at t (step function, 0 before the first event)."""
    part = cif.loc[:t]
    return float(part.iloc[-1]) if len(part) else 0.0


# ---------------------------------------------------------------- CTI course view


def cti_courses(tenancies: pd.DataFrame, support: pd.DataFrame, month: pd.Period, params: Mapping) -> pd.DataFrame:
    """The CTI course behind each cohort tenancy with method CTI, with phase, completion and housing status.

    Only courses that began at least the full course length before the end of M are
    kept, so that every one of them had the chance to complete. The course ends at its
    recorded end, or at the nominal end (start + course length) while still open.
    Housed = still in the dwelling, or moved to another ordinary dwelling (``anden_bolig``).
    """
    length = int(params["evaluations.cti_course_months"])
    window = pd.Timedelta(days=int(params["definitions.support_window_days"]))
    t = cohort(tenancies, month)
    t = t[t["support_method"] == "CTI"]
    cti = support[support["method"] == "CTI"][["person_id", "start", "end", "end_reason"]]
    m = t.merge(cti, on="person_id")
    linked = (m["start"] <= m["moved_in"] + window) & (m["end"].isna() | (m["end"] >= m["moved_in"]))
    m = m[linked].sort_values("start").drop_duplicates("allocation_id")
    nominal_end = add_months(m["start"], length)
    m = m[nominal_end <= day_after(month)].copy()
    nominal_end = nominal_end.loc[m.index]
    m["course_end"] = m["end"].fillna(nominal_end - pd.Timedelta(days=1))
    m["course_months"] = elapsed_months(m["start"], m["course_end"] + pd.Timedelta(days=1))
    m["phase"] = np.minimum(m["course_months"] // CTI_PHASE_MONTHS + 1, length // CTI_PHASE_MONTHS).astype(int)
    planned = m["end_reason"].astype("string").str.strip().str.lower() == PLANNED_END
    m["completed"] = planned.fillna(False).astype(bool) | (m["course_months"] >= length)
    # Judged on the day after the course: support often stops on the day of an eviction.
    after = m["course_end"] + pd.Timedelta(days=1)
    m["status_at_end"] = housing_status(m, after)
    later = add_months(after, 12)
    m["status_12m_after"] = housing_status(m, later).where(later <= month_end(month))
    return m


def housing_status(t: pd.DataFrame, on: pd.Series) -> pd.Series:
    """``housed`` / ``lost`` / ``died`` on a given day per tenancy (``anden_bolig`` counts as housed).

    A tenancy whose last day is before ``on`` is over on ``on``.
    """
    gone = t["moved_out"].notna() & (t["moved_out"] < on)
    status = np.where(~gone, "housed", np.where(t["moveout_category"] == DEATH, "died",
                      np.where(t["moveout_category"] == "anden_bolig", "housed", "lost")))
    return pd.Series(status, index=t.index, dtype="object")


def housed_share(status: pd.Series) -> tuple[float, int]:
    """Share housed among the living with a known status, and that base."""
    known = status.dropna()
    base = known[known != "died"]
    return ((base == "housed").mean() if len(base) else np.nan, len(base))


# ---------------------------------------------------------------- indicator rows


def indicator_row(indicator: str, period: str, breakdown: str, value: float) -> dict:
    """One row of the indicator table (docs/architecture.md)."""
    return {"indicator": indicator, "period": period, "breakdown": breakdown, "value": float(value)}


@dataclass(frozen=True)
class RetentionAnalysis:
    """Everything the retention step computes for M, kept together so notebook and indicators agree."""

    month: pd.Period
    horizons: tuple[int, ...]
    data: pd.DataFrame
    by_method: dict[str, Curve]
    by_pathway: dict[str, Curve]
    returns: pd.DataFrame
    incidence: dict[str, pd.Series]
    courses: pd.DataFrame

    def return_times(self, group: str) -> pd.Series:
        """Follow-up times for returns of one method group (``ALL`` = every tenancy)."""
        r = self.returns
        return r["time"] if group == ALL else r.loc[r["support_method"] == group, "time"]

    def indicators(self) -> pd.DataFrame:
        """All retention, return and CTI figures for M as indicator rows; every estimate has its base row beside it."""
        period = period_label(self.month)
        rows: list[dict] = []
        for group, curve in self.by_method.items():
            rows.append(indicator_row("housing_retention_tenancies", period, group, curve.n))
            for h in self.horizons:
                rows.append(indicator_row(f"housing_retention_at_risk_{h}m", period, group, curve.at_risk(h)))
                s, lo, hi = curve.at(h)
                if not np.isnan(s):
                    rows.append(indicator_row(f"housing_retention_{h}m", period, group, s))
                    rows.append(indicator_row(f"housing_retention_{h}m_lower", period, group, lo))
                    rows.append(indicator_row(f"housing_retention_{h}m_upper", period, group, hi))
        for group, curve in self.by_pathway.items():
            rows.append(indicator_row("housing_retention_pathway_at_risk_12m", period, group, curve.at_risk(12)))
            s = curve.at(12)[0]
            if not np.isnan(s):
                rows.append(indicator_row("housing_retention_pathway_12m", period, group, s))
        for by, name in (("support_method", "method"), ("pathway", "pathway")):
            p = logrank_p(self.data, by)
            if not np.isnan(p):
                rows.append(indicator_row("housing_retention_logrank_p", period, name, p))
        for group, cif in self.incidence.items():
            for h, n_h in zip(self.horizons, at_risk_counts(self.return_times(group), self.horizons)):
                rows.append(indicator_row(f"shelter_return_at_risk_{h}m", period, group, n_h))
                if n_h:
                    rows.append(indicator_row(f"shelter_return_{h}m", period, group, incidence_at(cif, h)))
        rows.extend(cti_indicators(self.courses, period))
        return pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"])

    def incidence_table(self, min_at_risk: int) -> pd.DataFrame:
        """Cumulative-incidence steps by method for charts, cut where fewer than ``min_at_risk`` are followed."""
        frames = []
        for group, cif in self.incidence.items():
            frame = pd.DataFrame({"group": group, "months": cif.index.to_numpy(dtype=float), "incidence": cif.to_numpy()})
            # A list as before: a method without returns still makes the concatenated column float, as in past files.
            frame["at_risk"] = at_risk_counts(self.return_times(group), frame["months"]).tolist()
            frames.append(frame[frame["at_risk"] >= min_at_risk])
        return pd.concat(frames, ignore_index=True)

    def curves(self, min_at_risk: int) -> dict[str, pd.DataFrame]:
        """Chart data for the memo and the notebook (aggregates only, small tails cut), by file stem."""
        return {"km_method": curve_table(self.by_method, min_at_risk), "km_pathway": curve_table(self.by_pathway, min_at_risk),
                "returns_incidence": self.incidence_table(min_at_risk)}


def analyse(
    tenancies: pd.DataFrame, episodes: pd.DataFrame, support: pd.DataFrame, month: pd.Period, params: Mapping
) -> RetentionAnalysis:
    """Fit retention curves, returns and the CTI course view for M from the month's processed tables."""
    data = retention_data(tenancies, month)
    returns = return_data(tenancies, episodes, month)
    incidence = {}
    for group in (ALL, *METHODS):
        part = returns if group == ALL else returns[returns["support_method"] == group]
        incidence[group] = cumulative_incidence(part["time"], part["status"])
    return RetentionAnalysis(
        month=month,
        horizons=tuple(int(h) for h in params["definitions.retention_horizons_months"]),
        data=data,
        by_method=fit_curves(data, "support_method", METHODS),
        by_pathway=fit_curves(data, "pathway", PATHWAYS),
        returns=returns,
        incidence=incidence,
        courses=cti_courses(tenancies, support, month, params),
    )


def cti_indicators(courses: pd.DataFrame, period: str) -> list[dict]:
    """Completion, phase reached and housing status of the evaluable CTI courses."""
    rows = [indicator_row("cti_courses", period, ALL, len(courses))]
    if len(courses):
        rows.append(indicator_row("cti_course_completed_share", period, ALL, courses["completed"].mean()))
    for phase in range(1, 4):
        rows.append(indicator_row("cti_phase_reached", period, f"phase_{phase}", (courses["phase"] == phase).sum()))
    for column, name in (("status_at_end", "cti_housed_at_end"), ("status_12m_after", "cti_housed_12m_after")):
        share, base = housed_share(courses[column]) if len(courses) else (np.nan, 0)
        rows.append(indicator_row(f"{name}_base", period, ALL, base))
        if base:
            rows.append(indicator_row(f"{name}_share", period, ALL, share))
    return rows
