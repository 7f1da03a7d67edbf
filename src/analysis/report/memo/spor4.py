"""Spor 4 of the status memo: do people keep their homes, and can they pay?

Every number printed here comes from the indicator table the memo is given (so the
published, suppressed figures are the ones management reads); the curves come from
the aggregated chart data the retention step wrote, already cut where few remain.
A hidden or missing figure prints its mark (``<5``, ``·``, ``–``, see
:mod:`analysis.report.published`); curves or a projection not yet there say "endnu ikke
tilgængelig": nothing is ever filled in.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from analysis.base import fmt
from analysis.report import show as out
from analysis.report.budget import SUPPORT_DA
from analysis.report.memo import Memo
from analysis.report.published import NOT_YET, Figures
from analysis.retention.subsidy import scenario_label

if TYPE_CHECKING:  # matplotlib only in the functions that draw: the forecast step shows Spor 7 without charts
    from matplotlib.figure import Figure

METHOD_LABELS = {"": "Alle", **SUPPORT_DA, "none": "Ingen bostøtte"}
PATHWAY_LABELS = {"": "Alle", "shelter": "Indstillet fra herberg", "other": "Anden vej"}
EVALUATED = ("CTI", "ICM", "ACT")
CURVES_FILE = Path("retention") / "km_method.parquet"
CURVE_MIN_AT_RISK = 30  # a curve is drawn only while at least this many tenancies are still followed
CURVE_MONTHS = 48  # and up to four years: the memo reads 6, 12 and 24 months


def verdict(local: float, band: tuple[float, float] | None, evaluation: float) -> str:
    """"på niveau med" when the evaluation lies in the local 95 % band, else "højere end" / "lavere end"."""
    if band is not None and band[0] <= evaluation <= band[1]:
        return "på niveau med"
    return "højere end" if local > evaluation else "lavere end"


def wilson_band(share: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a share of n: the uncertainty of a published share from its published base."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def band95(figs: Figures, indicator: str, method: str) -> tuple[float, float] | None:
    """The published 95 % band of a retention figure; None unless both ends are shown."""
    lo, hi = figs.value(f"{indicator}_lower", method), figs.value(f"{indicator}_upper", method)
    return None if math.isnan(lo) or math.isnan(hi) else (lo, hi)


def pct_with_band(figs: Figures, horizon: int, method: str) -> str:
    """Retention at a horizon with its 95 % band, e.g. ``87 % (80 %–92 %)``."""
    indicator = f"housing_retention_{horizon}m"
    band = band95(figs, indicator, method)
    shown = f" ({fmt.pct(band[0])}–{fmt.pct(band[1])})" if band and not math.isnan(figs.value(indicator, method)) else ""
    return figs.pct(indicator, method) + shown


def comparison(figs: Figures, method: str, evaluation: float) -> str:
    """Plain-Danish verdict on the local 12-month retention against the evaluation figure."""
    local = figs.value("housing_retention_12m", method)
    if math.isnan(local):
        return f"kan endnu ikke sammenlignes med evalueringerne ({figs.text('housing_retention_12m', method)})"
    band = band95(figs, "housing_retention_12m", method)
    return f"{fmt.pct(local)}, {verdict(local, band, evaluation)} de danske evalueringer ({fmt.pct(evaluation, 1)})"


def takeaway(figs: Figures, evaluations: Mapping[str, float]) -> str:
    """One sentence for management: do the local methods deliver what the evaluations promise?"""
    judged = {}
    for method in EVALUATED:
        local = figs.value("housing_retention_12m", method)
        if not math.isnan(local):
            judged[method] = verdict(local, band95(figs, "housing_retention_12m", method), float(evaluations[method]))
    if not judged:
        return f"En sammenligning med evalueringerne er {NOT_YET}."
    below = [m for m, v in judged.items() if v == "lavere end"]
    if below:
        return (f"{' og '.join(below)} fastholder færre i boligen end evalueringerne viser er muligt; det bør undersøges, "
                "om målgruppen, indsatsens intensitet eller boligerne forklarer forskellen.")
    return ("Bostøtten holder lokalt mindst det niveau, evalueringerne viser er muligt, for de metoder der kan "
            f"sammenlignes ({', '.join(judged)}).")


def retention_reading(figs: Figures, params: Mapping) -> str:
    """What the retention figures mean for management, compared with the Danish evaluations."""
    evaluations = params["evaluations.housed_share"]
    lines = [
        f"Af de lejemål, som borgere fra hjemløshed har fået, er {figs.text('housing_retention_tenancies')} "
        f"fulgt i analysen; {figs.pct('housing_retention_12m')} af borgerne bor stadig i boligen efter 12 måneder.",
        "",
    ]
    for method in EVALUATED:
        lines.append(f"- **{METHOD_LABELS[method]}:** {comparison(figs, method, float(evaluations[method]))}.")
    lines += ["", takeaway(figs, evaluations)]
    p = figs.value("housing_retention_logrank_p", "method")
    if not math.isnan(p):
        sure = ("er for stor til at være tilfældig" if p < 0.05
                else "kan være tilfældig; den er ikke statistisk sikker")
        shown = "under 1 promille" if p < 0.001 else fmt.pct(p, 1)
        lines += ["", f"Forskellen mellem bostøttemetoderne {sure} (sandsynligheden for at se så stor en forskel, "
                      f"hvis metoderne var lige gode, er {shown})."]
    lines += [
        "",
        f"Inden for 12 måneder efter indflytning er {figs.pct('shelter_return_12m')} vendt tilbage til et § 110-herberg "
        f"(CTI: {figs.pct('shelter_return_12m', 'CTI')}). Dødsfald er regnet som en konkurrerende hændelse, "
        "ikke som en tilbagevenden.",
        "",
        "Evalueringerne måler, hvor mange der bor i egen bolig ved forløbets afslutning, her måles, hvor mange der "
        "stadig bor i den anviste bolig efter 12 måneder: målene ligner hinanden, men er ikke ens. »På niveau med« "
        "betyder, at evalueringens tal ligger inden for usikkerheden på det lokale tal.",
    ]
    return "\n".join(lines)


def cti_reading(figs: Figures, params: Mapping) -> str:
    """The CTI course view in a few sentences, with the housed share held against the evaluations."""
    evaluation = float(params["evaluations.housed_share"]["CTI"])
    months = int(params["evaluations.cti_course_months"])
    share, base = figs.value("cti_housed_at_end_share"), figs.value("cti_housed_at_end_base")
    if math.isnan(share) or math.isnan(base) or base == 0:
        compared = f"evalueringerne fandt {fmt.pct(evaluation, 1)}"
    else:
        compared = f"{verdict(share, wilson_band(share, base), evaluation)} evalueringernes {fmt.pct(evaluation, 1)}"
    return (
        f"Af {figs.text('cti_courses')} CTI-forløb, der kunne nå at løbe de {months} måneder, blev "
        f"{figs.pct('cti_course_completed_share')} gennemført. Ved forløbets afslutning boede "
        f"{figs.pct('cti_housed_at_end_share')} i egen bolig ({compared}), "
        f"og 12 måneder senere {figs.pct('cti_housed_12m_after_share')}."
    )


def payment_reading(figs: Figures, params: Mapping) -> str:
    """Payment capacity at move-in, after 6 and 12 months, and arrears now."""
    norm = fmt.kr(float(params["payment.disposable_norm"]))
    return (
        f"Betalingsevnen måles som rådighedsbeløbet efter husleje og forbrug. Ved indflytning havde "
        f"{figs.pct('payment_sufficient_share', 'at_move_in')} mindst normen på {norm} om måneden "
        f"(median {figs.kr('payment_disposable_median', 'at_move_in')}); efter 6 måneder "
        f"{figs.pct('payment_sufficient_share', 'after_6m')} og efter 12 måneder "
        f"{figs.pct('payment_sufficient_share', 'after_12m')} (median {figs.kr('payment_disposable_median', 'after_12m')}). "
        f"{figs.pct('income_source_changed_share')} har skiftet forsørgelsesgrundlag det første år. "
        f"Ved udgangen af måneden var {figs.pct('arrears_share')} af de nuværende lejere i huslejerestance."
    )


def projection_years(figs: Figures) -> list[str]:
    t = figs.table
    return sorted(t.loc[t["indicator"] == "subsidy_projection_below_norm_share", "period"].unique())


def projection_reading(figs: Figures, params: Mapping) -> str:
    """The step-down projection: what the subsidy's end does to today's subsidised tenants' disposable amount.

    The share below the norm moves only for tenants whose margin to the norm is smaller than the subsidy
    they lose; where nobody is that close, the share is the same in every year and scenario, and the text
    says so and why, and shows the step-down in the median disposable amount instead.
    """
    years = projection_years(figs)
    growths = [float(g) for g in params["payment.income_growth_scenarios"]]
    scenarios = [scenario_label(g) for g in growths]
    first_cut = pd.Period(params["state_subsidy.usable_from"], freq="M").year + int(params["state_subsidy.full_years"])
    head = (f"I dag bor {figs.text('subsidy_tenants')} lejere i boliger med midlertidigt statsligt huslejetilskud "
            f"(af de {figs.text('subsidised_dwellings_allocated')} boliger, der er taget i brug siden ordningen "
            "begyndte; de øvrige lejere er flyttet igen). Tilskuddet er fuldt i "
            f"{fmt.number(int(params['state_subsidy.full_years']))} år og trappes derefter ned; de første nedtrapninger kommer tidligst "
            f"i {first_cut}.")
    if figs.value("subsidy_tenants") == 0:  # before the scheme's first month: nothing to project yet
        return (f"Ordningen med midlertidigt statsligt huslejetilskud kan bruges fra "
                f"{fmt.date(params['state_subsidy.usable_from'])}; endnu bor ingen lejere i en bolig med tilskuddet, "
                "så der er ingen betalingsevne at fremskrive.")
    if not years:
        return head + f" Fremskrivningen af deres betalingsevne er {NOT_YET}."
    now, end = years[0], years[-1]
    flat, best = scenarios[0], scenarios[-1]
    best_growth = fmt.pct(growths[-1])
    base = figs.text("subsidy_projection_base", flat, now)
    shares = pd.Series([figs.value("subsidy_projection_below_norm_share", sc, y) for sc in scenarios for y in years])
    known = f" Fremskrivningen omfatter de {base}, hvis indkomst er registreret i måneden."
    if shares.nunique(dropna=False) == 1:
        share = f"{figs.pct('subsidy_projection_below_norm_share', flat, now)}"
        step = (f"Andelen under normen er {share} i alle år og med alle tre antagelser om indkomsten: de lejere, der er "
                "under normen, er det allerede med fuldt tilskud, og de øvrige har mere end tilskuddet "
                f"({figs.kr('state_subsidy_full_monthly', period=now)} om måneden) til overs, så nedtrapningen flytter "
                "ingen under normen.")
    else:
        step = (f"Med deres nuværende indkomst er {figs.pct('subsidy_projection_below_norm_share', flat, now)} under "
                f"normen i {now}. Når tilskuddet er udfaset ({end}), er det "
                f"{figs.pct('subsidy_projection_below_norm_share', flat, end)}, hvis indkomsterne ikke stiger, og "
                f"{figs.pct('subsidy_projection_below_norm_share', best, end)} med {best_growth} årlig realvækst.")
    median = (f" Nedtrapningen ses i rådighedsbeløbet: medianen er "
              f"{figs.kr('subsidy_projection_disposable_median', flat, now)} om måneden i {now} og "
              f"{figs.kr('subsidy_projection_disposable_median', flat, end)} i {end}, når tilskuddet er udfaset, hvis "
              f"indkomsterne ikke stiger ({figs.kr('subsidy_projection_disposable_median', best, end)} med {best_growth} "
              "årlig realvækst).")
    return head + known + " " + step + median


def step_figure(curves: pd.DataFrame, value: str = "survival", ylabel: str = "Andel der stadig bor i boligen",
                labels: Mapping[str, str] = METHOD_LABELS) -> Figure:
    """Step curves per group (Kaplan–Meier or cumulative incidence), with 95 % bands when the data has them."""
    import matplotlib.pyplot as plt

    from analysis.report import charts

    charts.apply_style()
    fig, ax = plt.subplots(figsize=charts.FIGSIZE, layout="constrained")
    if "at_risk" in curves:  # a tail followed by a handful drops in steps that say nothing: stop before it
        curves = curves[(curves["at_risk"] >= CURVE_MIN_AT_RISK) & (curves["months"] <= CURVE_MONTHS)]
    for i, (group, part) in enumerate(curves.groupby("group", sort=False)):
        style = charts.series_style(i)
        colour = style["color"]
        ax.step(part["months"], part[value], where="post", color=colour, label=labels.get(group, group),
                linestyle=style["linestyle"], marker=style["marker"], markevery=max(1, len(part) // 6), markersize=5)
        if {"lower", "upper"} <= set(part.columns):
            ax.fill_between(part["months"], part["lower"], part["upper"], step="post", color=colour, alpha=0.15)
    for h in (6, 12, 24):
        ax.axvline(h, color="grey", linewidth=0.6, linestyle=":")
    longest = int(curves["months"].max())
    ax.set_xticks(range(0, longest + 1, 6 if longest <= 48 else 12))
    ax.set_xlabel("Måneder efter indflytning")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02 if value == "survival" else None)
    charts.format_axis(ax, "y", percent=True)
    charts.legend_below(ax)
    return fig


def km_alt_text(figs: Figures, groups: list[str]) -> str:
    at12 = ", ".join(f"{METHOD_LABELS.get(g, g)} {figs.pct('housing_retention_12m', g)}" for g in groups)
    return ("Kurver: andelen af lejemål, der stadig er beboet af borgeren, måned for måned efter "
            f"indflytning, for hver bostøttemetode med 95 %-konfidensbånd. Efter 12 måneder: {at12}.")


def projection_figure(figs: Figures, params: Mapping) -> Figure:
    """Median disposable amount of today's subsidised tenants per future year, one line per income-growth
    scenario, against the norm (a dotted line): the step-down shows even when nobody crosses the norm."""
    import matplotlib.pyplot as plt

    from analysis.report import charts

    charts.apply_style()
    fig, ax = plt.subplots(figsize=charts.FIGSIZE, layout="constrained")
    t = figs.table[figs.table["indicator"] == "subsidy_projection_disposable_median"]
    for i, growth in enumerate(params["payment.income_growth_scenarios"]):
        part = t[t["breakdown"] == scenario_label(float(growth))].dropna(subset=["value"]).sort_values("period")
        ax.plot(part["period"].astype(int), part["value"], **charts.series_style(i),
                label=f"Realvækst i indkomst {fmt.pct(float(growth))} om året")
    norm = float(params["payment.disposable_norm"])
    ax.axhline(norm, color=charts.TEXT_COLOUR, linewidth=1.2, linestyle=(0, (1, 2)), label=f"Normen: {fmt.kr(norm)}")
    ax.set_xlabel("År")
    ax.set_ylabel("Rådighedsbeløb, median (kr./md.)")
    ax.set_ylim(bottom=0)
    charts.format_axis(ax, "y")
    charts.legend_below(ax)
    return fig


def retention_table(figs: Figures, params: Mapping) -> pd.DataFrame:
    """Headline retention by support method, with the numbers followed and the evaluation figure."""
    evaluations = params["evaluations.housed_share"]
    rows = []
    for method, label in METHOD_LABELS.items():
        rows.append({
            "Bostøtte": label,
            "Lejemål": figs.text("housing_retention_tenancies", method),
            "6 mdr.": figs.pct("housing_retention_6m", method),
            "12 mdr. (95 %-interval)": pct_with_band(figs, 12, method),
            "24 mdr.": figs.pct("housing_retention_24m", method),
            "Fulgt 12 mdr.": figs.text("housing_retention_at_risk_12m", method),
            "Evaluering": fmt.pct(float(evaluations[method]), 1) if method in evaluations else "–",
        })
    return pd.DataFrame(rows)


def indicator_table(indicators: pd.DataFrame, prefixes: tuple[str, ...]) -> pd.DataFrame:
    """Indicator rows whose id starts with one of ``prefixes``, values formatted for display (analysts' view)."""
    rows = indicators[indicators["indicator"].str.startswith(prefixes)]
    return rows.assign(value=rows["value"].map(lambda v: fmt.number(v, 3) if pd.notna(v) else "–"))[
        ["indicator", "period", "breakdown", "value"]]


def schedule_view(yearly: pd.DataFrame) -> pd.DataFrame:
    """The subsidy per subsidy year (analysis.retention.subsidy.yearly) in Danish."""
    return pd.DataFrame({
        "Tilskudsår": yearly["subsidy_year"].map(fmt.number),
        "Første måned": yearly["first_month"].map(fmt.period),
        "Andel af fuldt tilskud": yearly["share"].map(lambda v: fmt.pct(v, 1)),
        "Tilskud i året": yearly["amount"].map(fmt.kr),
    })


def projection_view(projection: pd.DataFrame) -> pd.DataFrame:
    """The step-down projection (analysis.retention.subsidy.projection) in Danish, one row per year and scenario."""
    return pd.DataFrame({
        "År": projection["year"],
        "Realvækst i indkomst": projection["growth"].map(lambda g: fmt.pct(g, 1)),
        "Lejere": projection["tenants"].map(fmt.number),
        "Under normen": projection["below_norm"].map(fmt.number),
        "Andel under normen": projection["share_below_norm"].map(fmt.pct),
    })


def show(memo: Memo) -> None:
    """The Spor 4 section of the status memo; the retention step previews it from its own figures."""
    figs, params = memo.figures, memo.params
    memo.show_status(4)
    out.md("### Fastholdelse i egen bolig")
    out.md(retention_reading(figs, params))
    out.table(retention_table(figs, params),
              caption=f"Andel der stadig bor i boligen, borgere fra hjemløshed, {fmt.period(figs.m)}")
    curves_path = memo.ctx.build_dir / CURVES_FILE
    curves = pd.read_parquet(curves_path) if curves_path.exists() else pd.DataFrame()
    if curves.empty:
        out.md(f"*Fastholdelseskurverne er {NOT_YET}.*")
    else:
        groups = [g for g in curves["group"].unique() if g != ""]
        out.figure(step_figure(curves), "spor4_fastholdelse", alt=km_alt_text(figs, groups),
                   caption=f"Andel der stadig bor i boligen efter indflytning, efter bostøttemetode (95 %-bånd); hver kurve "
                           f"stopper, hvor færre end {CURVE_MIN_AT_RISK} lejemål stadig følges")
    out.md("### CTI-forløbet")
    out.md(cti_reading(figs, params))
    out.md("### Betalingsevne")
    out.md(payment_reading(figs, params))
    out.md(projection_reading(figs, params))
    if projection_years(figs) and figs.value("subsidy_tenants") > 0:
        out.figure(projection_figure(figs, params), "spor4_betalingsevne",
                   alt="Linjer for rådighedsbeløbet (median) for lejere med midlertidigt statsligt huslejetilskud "
                       "år for år, mens tilskuddet trappes ned, for hver antagelse om "
                       "indkomstvækst, med normen som vandret linje.",
                   caption="Fremskrevet rådighedsbeløb (median) for lejere med statsligt tilskud, mens tilskuddet trappes ned")
