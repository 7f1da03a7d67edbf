"""Cost and capacity tables a budget can use: budget year plus three outlook years, one price level.

A finance controller needs the net cost and the extra cost of the new
reimbursement rules for the budget year (the year after the reference month)
and three outlook years, for every scenario, in one stated price level, with the
current year complete (registers for the months behind us, the forecast for the
rest) and the unit prices that are assumptions named as such. Costs are
linear in the unit prices (nights × price, reimbursement a share of that), so
the ±20 % sensitivity is the baseline scaled, stated as such.
"""
from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from analysis.base import fmt
from analysis.forecast.scenarios import load_scenarios
from analysis.report.published import Figures
from analysis.retention.subsidy import price_index

OUTLOOK_YEARS = 3
SENSITIVITY = 0.20
MEASURES = {"cost_net_new": "Nettoudgift", "cost_extra_cost": "Meromkostning"}
HISTORY_COLUMNS = {"cost_gross": "gross", "cost_net_old": "net_old", "cost_net_new": "net_new",
                   "cost_extra_cost": "extra_cost"}
UNIT_PRICES = {
    "day_rates.shelter_110_per_night": "§ 110-herberg, pr. overnatning",
    "day_rates.s107_per_day": "§ 107 midlertidigt botilbud, pr. døgn",
}
# The support methods in Danish: the one vocabulary of the reports (memo spor 3 and 4, the forecast report)
SUPPORT_DA = {"CTI": "CTI", "ICM": "ICM", "ACT": "ACT", "SEL85": "Almindelig § 85"}


def budget_years(month: pd.Period) -> list[int]:
    """The budget year (the year after the reference month) and the three outlook years."""
    first = month.year + 1
    return list(range(first, first + 1 + OUTLOOK_YEARS))


def price_factor(params: Mapping, year: int) -> float:
    """From the unit prices' price level (``day_rates.price_year``) to ``year``'s (pl index)."""
    return price_index(year, params) / price_index(int(params["day_rates.price_year"]), params)


def budget_prices(params: Mapping, month: pd.Period) -> tuple[float, str]:
    """The factor from the unit prices' level to the budget year's, and that level's name ("faste 2027-priser"):
    every cost the reports print is in the budget year's prices."""
    year = budget_years(month)[0]
    return price_factor(params, year), f"faste {year}-priser"


def price_note(params: Mapping, month: pd.Period) -> str:
    """The sentence that states the price level and what is an assumption."""
    budget = budget_years(month)[0]
    return (f"Alle beløb er i mio. kr., faste {budget}-priser (budgetårets pris- og lønniveau). Enhedspriserne er "
            f"antagelser ({int(params['day_rates.price_year'])}-takster, ingen offentlig takst fundet) og er omregnet med "
            "pl-indekset, der også er en antagelse. Et positivt tal for meromkostningen er en ekstra udgift for kommunen.")


def _yearly(costs: pd.DataFrame, history: pd.DataFrame, scenario: str, measure: str, month: pd.Period) -> dict[int, float]:
    """One scenario's yearly total of ``measure``; the current year = registers so far + forecast for the rest."""
    total = costs[(costs["scenario"] == scenario) & (costs["breakdown"] == "total") & (costs["measure"] == measure)]
    years = {int(p): float(v) for p, v in zip(total["period"], total["median"])}
    done = history[history["year"] == month.year][HISTORY_COLUMNS[measure]].sum()
    if month.year in years or done:
        years[month.year] = years.get(month.year, 0.0) + float(done)
    return years


def short_labels(params: Mapping) -> dict[str, str]:
    """Scenario names in tables and chart legends: the label up to its colon ("Reform: kortere ophold …" -> "Reform")."""
    return {name: s.label_da.split(":")[0] for name, s in load_scenarios(params).items()}


def _mio(v: float | None) -> str:
    return fmt.MISSING if v is None or pd.isna(v) else fmt.number(v / 1e6, 1)


def _partial_label(month: pd.Period) -> str:
    if month.month == 12:
        return str(month.year)
    return (f"{month.year} (jan.–{fmt.month_name(month.month)[:3]}. registre, "
            f"{fmt.month_name(month.month + 1)[:3]}.–dec. prognose)")


def cost_table(costs: pd.DataFrame, history: pd.DataFrame, params: Mapping, month: pd.Period) -> pd.DataFrame:
    """Per scenario and measure: the current year (marked partial), budget year and three outlook years, fixed prices."""
    years = budget_years(month)
    labels = short_labels(params)
    header = {month.year: _partial_label(month), years[0]: f"Budget {years[0]}",
              **{y: f"Overslag {y}" for y in years[1:]}}
    factor = price_factor(params, years[0])
    rows = []
    for measure, measure_label in MEASURES.items():
        for name, label in labels.items():
            values = _yearly(costs, history, name, measure, month)
            rows.append({"Beløb og scenarie": f"{measure_label}, {label.lower()}",
                         **{header[y]: _mio(values.get(y, float("nan")) * factor) for y in header}})
        if measure == "cost_net_new":
            base = _yearly(costs, history, "baseline", measure, month)
            for sign, word in ((-1, "20 % lavere"), (1, "20 % højere")):
                rows.append({"Beløb og scenarie": f"{measure_label}, basis med {word} enhedspriser",
                             **{header[y]: _mio(base.get(y, float("nan")) * factor * (1 + sign * SENSITIVITY))
                                for y in header}})
    return pd.DataFrame(rows)


def unit_price_table(params: Mapping, month: pd.Period) -> pd.DataFrame:
    """The unit prices behind the costs, at their own price level and the budget year's, flagged as assumptions."""
    budget = budget_years(month)[0]
    factor = price_factor(params, budget)
    flag = lambda key: "antagelse" if params.entry(key).assumption else "offentlig kilde"
    rows = [{"Enhedspris": label, f"{int(params['day_rates.price_year'])}-priser": fmt.kr(float(params[key])),
             f"{budget}-priser": fmt.kr(float(params[key]) * factor), "Grundlag": flag(key)}
            for key, label in UNIT_PRICES.items()]
    support = params["day_rates.support_per_month"]
    rows += [{"Enhedspris": f"Bostøtte {SUPPORT_DA.get(m, m)}, pr. måned",
              f"{int(params['day_rates.price_year'])}-priser": fmt.kr(float(v)),
              f"{budget}-priser": fmt.kr(float(v) * factor), "Grundlag": flag("day_rates.support_per_month")}
             for m, v in support.items()]
    return pd.DataFrame(rows)


def interval(lo: float, hi: float, decimals: int = 0) -> str:
    """``109–129``: an interval's bounds, as every table and text of the reports writes them."""
    return f"{fmt.number(lo, decimals)}–{fmt.number(hi, decimals)}"


def median_band(median: float, lo: float, hi: float, label: str = "") -> str:
    """``118 (109–129)``: a forecast median with its interval (``label`` before it; none without bounds)."""
    band = "" if math.isnan(lo) or math.isnan(hi) else f" ({label}{interval(lo, hi)})"
    return fmt.number(median) + band


def with_band(figs: Figures, indicator: str, scenario: str, year: str, label: str = "") -> str:
    """A published forecast median with its 80 % interval (``median_band``); the cell's mark when the
    median is not published."""
    v = figs.value(indicator, scenario, year)
    if math.isnan(v):
        return figs.text(indicator, scenario, year)
    return median_band(v, figs.value(indicator, f"{scenario}_lo80", year), figs.value(indicator, f"{scenario}_hi80", year),
                       label)


def needs_table(figs: Figures, horizon: str, scenario: str = "baseline") -> pd.DataFrame:
    """Need per year (median, 80 % interval) against today's capacity and last year's supply, per measure.

    Places needed are the year's average (today: places at the month's end); dwellings and support starts
    are per year, set against the dwellings received and the support courses started in the last full calendar year.
    """
    month = figs.month
    last = str(month.year - 1)
    years = sorted({str(budget_years(month)[0]), horizon})
    support_starts = lambda year: sum(v for v in (figs.value("forecast_support_starts", f"{scenario}_{k}", year)
                                                  for k in SUPPORT_DA) if not math.isnan(v))
    received_all = figs.value("dwellings_received", period=last)
    received_band = figs.value("dwellings_received", "rent_4500_5000", last)
    started = [figs.value("support_started", period=f"{month.year - 1}-{k:02d}") for k in range(1, 13)]
    rows = [
        {"Behov": "§ 110-pladser (gennemsnit over året)", "I dag": fmt.number(figs.value("shelter_places", "110")),
         **{f"Behov {y}": with_band(figs, "forecast_places_110", scenario, y) for y in years}},
        {"Behov": "§ 107-pladser (gennemsnit over året)", "I dag": fmt.number(figs.value("shelter_places", "107")),
         **{f"Behov {y}": with_band(figs, "forecast_places_107", scenario, y) for y in years}},
        {"Behov": "Boliger til borgere fra herberg, pr. år",
         "I dag": f"{fmt.number(received_all)} modtaget i {last}, heraf {fmt.number(received_band)} til 4.500–5.000 kr.",
         **{f"Behov {y}": with_band(figs, "forecast_dwellings_needed", scenario, y) for y in years}},
        {"Behov": "Nye bostøtteforløb, pr. år",
         "I dag": (f"{fmt.number(sum(started))} startet i {last}" if not any(map(math.isnan, started)) else fmt.MISSING),
         **{f"Behov {y}": fmt.number(support_starts(y)) for y in years}},
    ]
    return pd.DataFrame(rows)


NEED_MEASURES = {
    "places_110_needed": "Behov for § 110-pladser (gennemsnit over året)",
    "places_107_needed": "Behov for § 107-pladser (gennemsnit over året)",
    "dwellings_needed": "Boliger til borgere fra herberg i løbet af året",
}


def yearly_needs(yearly: pd.DataFrame, params: Mapping, month: pd.Period, measure: str) -> pd.DataFrame:
    """One measure: a row per scenario, a column per budget and outlook year, median (80 % interval)."""
    labels = short_labels(params)
    years = [str(y) for y in budget_years(month)]
    part = yearly[(yearly["measure"] == measure) & (yearly["breakdown"] == "") & (yearly["months"] == 12)]
    rows = []
    for name, label in labels.items():
        cells = part[part["scenario"] == name].set_index("period")
        rows.append({"Scenarie": label, **{y: (median_band(*cells.loc[y, ["median", "lo80", "hi80"]])
                                               if y in cells.index else fmt.MISSING) for y in years}})
    return pd.DataFrame(rows)


def support_needs(yearly: pd.DataFrame, month: pd.Period, scenario: str = "baseline") -> pd.DataFrame:
    """New support courses per method and year (median) in the budget and outlook years."""
    years = [str(y) for y in budget_years(month)]
    part = yearly[(yearly["scenario"] == scenario) & (yearly["measure"] == "support_starts") & (yearly["months"] == 12)]
    rows = [{"Metode": label, **{y: fmt.number(part.loc[(part["breakdown"] == m) & (part["period"] == y), "median"].sum())
                                 for y in years}} for m, label in SUPPORT_DA.items()]
    rows.append({"Metode": "I alt", **{y: fmt.number(part.loc[part["period"] == y, "median"].sum()) for y in years}})
    return pd.DataFrame(rows)


def rules_note(month: pd.Period, params: Mapping) -> str:
    """How to name the new reimbursement rules as of the reference month: a bill until the law was adopted."""
    adopted = pd.Period(str(params["reimbursement.law_adopted"]), freq="M")
    if month < adopted:
        return (f" Reglerne er lagt ind, som de står i lovforslaget pr. {fmt.period(month)}; "
                "de kan ændre sig, før loven vedtages.")
    return ""


def need_tables(yearly: pd.DataFrame, params: Mapping, month: pd.Period) -> list[tuple[pd.DataFrame, str]]:
    """:func:`yearly_needs` for every measure of :data:`NEED_MEASURES`, with its caption."""
    return [(yearly_needs(yearly, params, month, measure), f"{label}: median (80 %-interval)")
            for measure, label in NEED_MEASURES.items()]
