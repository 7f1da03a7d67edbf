"""Danish tables, charts and texts of the capacity-forecast report.

The report notebook only calls these: every figure it prints is read from the
forecast step's outputs or the published indicator table and formatted here,
so the report holds no logic and the same wording is testable.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.base import fmt
from analysis.forecast.accuracy import REFERENCE_FILE, STANDARD, TIE_MASE, accuracy_sentence, accuracy_table
from analysis.forecast.crosschecks import reconciliation
from analysis.forecast.scenarios import KNOBS, load_scenarios
from analysis.report import params_table as danish_params
from analysis.report.budget import SUPPORT_DA, interval, median_band, rules_note, short_labels
from analysis.report import show as out
from analysis.report.published import Figures

if TYPE_CHECKING:  # matplotlib only in the chart functions: the forecast step's notebook draws none
    from matplotlib.figure import Figure

MEASURES_DA = {
    "shelter_stock": "Borgere på § 110-herberg (månedens udgang)",
    "places_110_needed": "Behov for § 110-pladser",
    "places_107_needed": "Behov for § 107-pladser",
    "places_110_gap": "Forskel til nuværende § 110-pladser",
    "places_107_gap": "Forskel til nuværende § 107-pladser",
    "dwellings_needed": "Boliger, der er behov for",
    "housing_exits": "Udflytninger til bolig (inden for boligudbuddet)",
    "arrivals_new": "Nye borgere på herberg",
    "arrivals_returning": "Tilbagevendte borgere",
    "support_starts": "Nye bostøtteforløb",
    "support_active": "Aktive bostøtteforløb (årets udgang)",
}
AREAS_DA = {"110": "§ 110 herberg", "107": "§ 107 botilbud", "85a": "§ 85a bostøtte (Housing First)", "total": "I alt"}
METHODS_BACKTEST_DA = {"model": "Prognosen (kombineret)", "naive": "Naiv (sidste måneds niveau)",
                       "seasonal_naive": "Sæsonnaiv (samme måned sidste år)", "drift": "Lineær tendens (drift)",
                       "damped_ets": "Dæmpet eksponentiel udjævning", "littles_law": "Littles lov (statisk niveau)"}
CHART_METHODS = ("model", "damped_ets", "seasonal_naive")
PARAM_PREFIXES = ("forecast.", "scenarios.", "reimbursement.", "day_rates.", "targets.shelter_occupancy",
                  "definitions.new_arrival_lookback_months")


def scenario_labels(params) -> dict[str, str]:
    return {name: s.label_da for name, s in load_scenarios(params).items()}


def full_years(yearly: pd.DataFrame) -> pd.DataFrame:
    return yearly[yearly["months"] == 12]


def comparison_table(yearly: pd.DataFrame, year: str, params) -> pd.DataFrame:
    """One row per scenario: the year's need for places, dwellings and the gap (median, 80 %)."""
    labels = scenario_labels(params)
    rows = []
    for name, label in labels.items():
        part = yearly[(yearly["scenario"] == name) & (yearly["period"] == year) & (yearly["breakdown"] == "")].set_index("measure")
        if part.empty:
            continue
        cell = lambda m: median_band(*part.loc[m, ["median", "lo80", "hi80"]])
        gap = part.loc["places_110_gap", "median"]
        rows.append({"Scenarie": label, "§ 110-pladser": cell("places_110_needed"), "§ 107-pladser": cell("places_107_needed"),
                     "Boliger": cell("dwellings_needed"),
                     "§ 110-pladser mod i dag": f"{fmt.number(abs(gap))} {'flere' if gap > 0 else 'færre'}"
                     if round(gap) else "det samme"})
    return pd.DataFrame(rows)


YEARLY_MEASURES = ("places_110_needed", "places_110_gap", "places_107_needed", "dwellings_needed", "housing_exits")


def yearly_tables(yearly: pd.DataFrame, params) -> list[tuple[pd.DataFrame, str]]:
    """The per-year table of every scenario with its Danish caption, in the parameter file's order."""
    return [(yearly_table(yearly, name, YEARLY_MEASURES), f"{label}: median og intervaller pr. år")
            for name, label in scenario_labels(params).items()]


def yearly_table(yearly: pd.DataFrame, scenario: str, measures: tuple[str, ...]) -> pd.DataFrame:
    """Per year: median with 80 % and 95 % intervals for each measure (rows = measure × year)."""
    part = full_years(yearly)
    part = part[(part["scenario"] == scenario) & part["measure"].isin(measures) & (part["breakdown"] == "")]
    return pd.DataFrame({
        "Mål": part["measure"].map(MEASURES_DA), "År": part["period"], "Median": part["median"].map(fmt.number),
        "80 %-interval": [interval(a, b) for a, b in zip(part["lo80"], part["hi80"])],
        "95 %-interval": [interval(a, b) for a, b in zip(part["lo95"], part["hi95"])],
    })


def scenario_chart(monthly: pd.DataFrame, measure: str, params, title: str, ylabel: str,
                   observed: pd.DataFrame | None = None, band: str = "80",
                   today: tuple[float, str] | None = None) -> Figure:
    """Median per scenario with its interval band; the observed history in black; ``today`` (value, label)
    as a dotted line, e.g. today's places."""
    from analysis.report import charts

    data = monthly[(monthly["measure"] == measure) & (monthly["breakdown"] == "")].copy()
    data["Scenarie"] = data["scenario"].map(short_labels(params))
    return charts.band_chart(data, "period", "median", f"lo{band}", f"hi{band}", hue="Scenarie", title=title,
                             ylabel=ylabel, band_label=f"{band} %-interval", observed=observed, reference=today)


PLACES_CAPTION = {
    "110": "Pladsbehov § 110 ved en belægning på {occupancy}, mod pladserne i dag; tallene ved linjernes ende er "
           "december {year}, tabellerne viser gennemsnittet over året",
    "107": "Pladsbehov § 107 (midlertidigt botilbud), mod pladserne i dag; tallene ved linjernes ende er december {year}",
}


def show_places(monthly: pd.DataFrame, figs: Figures, params, paragraph: str) -> None:
    """The need for places after ``paragraph`` per scenario, against today's places as a dotted line."""
    measure, today = f"places_{paragraph}_needed", figs.value("shelter_places", paragraph)
    out.figure(scenario_chart(monthly, measure, params, f"Behov for § {paragraph}-pladser", "Pladser",
                              today=(today, f"Pladser i dag: {fmt.number(today)}")),
               f"prognose_pladser_{paragraph}",
               alt=scenario_alt(monthly, measure, params, "pladser") + f" Den prikkede linje er de {fmt.number(today)} "
                                                                       "pladser i dag.",
               caption=PLACES_CAPTION[paragraph].format(occupancy=fmt.pct(params["targets.shelter_occupancy"]),
                                                        year=horizon_year(params)))


def observed_stock(flows: pd.DataFrame, months: int = 24) -> pd.DataFrame:
    """The last ``months`` of observed month-end shelter stock, in the chart's columns."""
    tail = flows.tail(months)
    return pd.DataFrame({"period": tail["period"], "median": tail["shelter_stock"].astype(float)})


def scenario_alt(monthly: pd.DataFrame, measure: str, params, unit: str) -> str:
    """Alt text: where each scenario's median ends and its 80 % band there."""
    labels = scenario_labels(params)
    data = monthly[(monthly["measure"] == measure) & (monthly["breakdown"] == "")]
    last = data[data["period"] == data["period"].max()]
    parts = [f"{labels.get(r.scenario, r.scenario)} {fmt.number(r.median)} {unit} (80 %-interval {interval(r.lo80, r.hi80)})"
             for r in last.itertuples()]
    first = fmt.period(data["period"].min())
    return (f"Linjediagram med bånd fra {first} til {fmt.period(data['period'].max())}, ét pr. scenarie. "
            f"I {fmt.period(data['period'].max())}: " + "; ".join(parts) + ".")


def cost_by_area(costs: pd.DataFrame, scenario: str, year: str, factor: float = 1.0) -> pd.DataFrame:
    """One year's gross, reimbursement and net cost per area under both rules (mio. kr.), times ``factor``
    (to the budget table's price level)."""
    part = costs[(costs["scenario"] == scenario) & (costs["period"] == year)]
    wide = part.pivot(index="breakdown", columns="measure", values="median")
    if "total" in wide.index:  # the total carries gross and net only: its reimbursement is the difference
        wide.loc["total", "cost_reimbursement_old"] = wide.loc["total", "cost_gross"] - wide.loc["total", "cost_net_old"]
        wide.loc["total", "cost_reimbursement_new"] = wide.loc["total", "cost_gross"] - wide.loc["total", "cost_net_new"]
    mio = lambda v: fmt.number(v * factor / 1e6, 1) if pd.notna(v) else fmt.MISSING
    return pd.DataFrame([{
        "Område": AREAS_DA.get(area, area), "Brutto": mio(r.get("cost_gross")),
        "Refusion, gammel regel": mio(r.get("cost_reimbursement_old")), "Refusion, nye regler": mio(r.get("cost_reimbursement_new")),
        "Meromkostning": mio(r.get("cost_extra_cost")),
    } for area, r in wide.reindex(list(AREAS_DA)).dropna(how="all").iterrows()])


def _lever_text(label: str, key: str, value) -> str:
    """One lever in words: factors as "× 0,7 af basis", switches as "ja", counts as they are."""
    if isinstance(value, bool):
        return f"{label}: {'ja' if value else 'nej'}"
    if key.endswith("_factor"):
        return f"{label}: {fmt.number(value, 2 if round(value, 1) != value else 1)} gange basis"
    if value is None:
        return f"{label}: som estimeret"
    return f"{label}: {danish_params.value_text(value)}"


def scenario_levers(params, with_ids: bool = False) -> pd.DataFrame:
    """The scenarios as the parameter file defines them, with the levers' Danish names (``scenarios.levers_da``).

    ``with_ids`` adds the scenario id and the parameter names, for the analysts' appendix.
    """
    names = params["scenarios.levers_da"]
    rows = []
    for name, s in load_scenarios(params).items():
        given = {k: v for k, v in (params["scenarios.definitions"][name] or {}).items() if k != "label_da"}
        levers = [_lever_text(names.get(key, key), key, value) for key, value in given.items()]
        row = {"Scenarie": s.label_da, "Ændringer i forhold til basis": "; ".join(levers) or "ingen"}
        if with_ids:
            row |= {"Id": name, "Parametre": "; ".join(f"{k} = {danish_params.value_text(v)}" for k, v in given.items())}
        rows.append(row)
    return pd.DataFrame(rows)


def levers_glossary() -> pd.DataFrame:
    return pd.DataFrame({"Parameter": list(KNOBS), "Betydning": list(KNOBS.values())})


def assumptions_table(params) -> pd.DataFrame:
    """Every parameter the forecast and cost model use, in Danish (the scenarios have their own table)."""
    return danish_params.params_table(
        params, include=lambda p: p.key.startswith(PARAM_PREFIXES) and p.key != "scenarios.definitions")


def backtest_table(backtest: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Accuracy per method at ``horizon`` months (from ``analysis.forecast.accuracy``)."""
    s = accuracy_table(backtest, horizons=(horizon,), mean_to=horizon)
    at, mean = s[s["horizon"] == str(horizon)].set_index("method"), s[s["horizon"] != str(horizon)].set_index("method")
    return pd.DataFrame({
        "Metode": [METHODS_BACKTEST_DA.get(m, m) for m in at.index],
        f"MASE ved {horizon} måneder": [fmt.number(v, 2) for v in at["mase"]],
        f"MASE, gennemsnit 1–{horizon} måneder": [fmt.number(v, 2) for v in mean.loc[at.index, "mase"]],
        f"Gns. fejl ved {horizon} måneder (personer)": [fmt.number(v) for v in at["mae"]],
        "Inden for 80 %-interval": [fmt.pct(v) for v in at["coverage80"]],
        "Prognosestarter": at["origins"].astype(int).tolist(),
    })


def accuracy_text(backtest: pd.DataFrame, horizon: int) -> str:
    """The plain-Danish accuracy sentence of the report (the memo's comes from the same function)."""
    return accuracy_sentence(accuracy_table(backtest, horizons=(horizon,), mean_to=horizon), str(horizon))


def read_reference(path=REFERENCE_FILE) -> pd.DataFrame:
    """The accuracy table on the public series (``accuracy.reference_accuracy``, recorded by the benchmark)."""
    return pd.read_csv(path, dtype={"horizon": str, "first": str, "last": str})


def _reference_rows(reference: pd.DataFrame, horizon: int) -> list[tuple[pd.Series, pd.Series]]:
    """Per series: the forecast's row at ``horizon`` and the standard method with the lowest MASE there."""
    rows = []
    for _, part in reference[reference["horizon"] == str(horizon)].groupby("series", sort=False):
        standard = part[part["method"].isin(STANDARD)]
        rows.append((part[part["method"] == "model"].iloc[0], standard.loc[standard["mase"].idxmin()]))
    return rows


def reference_table(reference: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The method tried on public series: the forecast's MASE at ``horizon`` months against the best standard
    method's, and the share of actuals inside its 80 % and 95 % intervals."""
    return pd.DataFrame([{
        "Serie": f"{m['label_da']}, {m['first'][:4]}–{m['last'][:4]}",
        "Prognosestarter": int(m["origins"]),
        "MASE, prognosen": fmt.number(m["mase"], 2),
        "Bedste standardmetode": METHODS_BACKTEST_DA[best["method"]],
        "MASE, bedste": fmt.number(best["mase"], 2),
        "I 80 %-interval": fmt.pct(m["coverage80"]),
        "I 95 %-interval": fmt.pct(m["coverage95"]),
    } for m, best in _reference_rows(reference, horizon)])


def _on_how_many(good: int, n: int) -> str:
    """"på alle tre serier", "på begge serier", "på én af de tre serier", "på ingen af serierne"; one: "på serien"."""
    if n == 1:
        return "på serien" if good else "ikke på serien"
    if good == n:
        return "på begge serier" if n == 2 else f"på alle {fmt.count_word(n)} serier"
    return "på ingen af serierne" if good == 0 else f"på {'én' if good == 1 else fmt.count_word(good)} af de {fmt.count_word(n)} serier"


def reference_text(reference: pd.DataFrame, horizon: int) -> str:
    """Plain Danish: on how many public series the forecast did as well as the best standard method, and how
    often the actual number fell inside its 80 % interval (the figures of ``reference_table``)."""
    rows = _reference_rows(reference, horizon)
    good = sum(m["mase"] <= best["mase"] + TIE_MASE for m, best in rows)
    cover = [m["coverage80"] for m, _ in rows]
    short = [m["label_da"] for m, _ in rows if m["coverage80"] < 0.7]
    span = fmt.pct(min(cover)) if min(cover) == max(cover) else f"{fmt.number(100 * min(cover))}–{fmt.pct(max(cover))}"
    text = (f"Metoden er også prøvet bagud på offentlige tal for antallet af borgere på herberg i New York og "
            f"Toronto. Med {horizon} måneders horisont ramte prognosen mindst lige så godt som den bedste af fire "
            f"standardmetoder {_on_how_many(good, len(rows))} "
            f"(en forskel i MASE på højst {fmt.number(TIE_MASE, 2)} regnes som lige god). De faktiske tal lå inden for "
            f"80 %-intervallet i {span} af tilfældene; det skulle være omkring 80 %.")
    if short:
        text += (f" Hvor det skete langt sjældnere ({', '.join(short)}), ændrede tallene sig mere, end nogen "
                 "tidligere prognosefejl havde vist: intervallet afspejler den usikkerhed, der har været før, og "
                 "dækker ikke et brud, der er større end de tidligere.")
    return text


def backtest_intro_markdown(horizon: int) -> str:
    """How the backtest works, in a sentence a reader without statistics can follow."""
    return (f"Ved hver prognosestart ser modellen kun data op til den måned og fremskriver {horizon} måneder. Fejlen "
            "måles som MASE: gennemsnitlig absolut fejl divideret med fejlen ved at gentage samme måned sidste år. "
            "Under 1 er bedre end den sæsonnaive prognose.")


def backtest_alt(horizon: int) -> str:
    """Alt text of ``backtest_chart``."""
    return ("Linjediagram: det faktiske antal borgere på herberg og de prognoser, den kombinerede prognose, dæmpet "
            f"eksponentiel udjævning og den sæsonnaive metode gav {horizon} måneder før.")


def backtest_chart(backtest: pd.DataFrame, horizon: int) -> Figure:
    """The forecasts for each target month made ``horizon`` months earlier, against the actual."""
    from analysis.report import charts

    at = backtest[(backtest["h"] == horizon) & backtest["method"].isin(CHART_METHODS)].copy()
    at["period"] = (pd.PeriodIndex(at["origin"], freq="M") + horizon).strftime("%Y-%m")
    actual = at.drop_duplicates("period").assign(Metode="Faktisk", forecast=lambda d: d["actual"])
    data = pd.concat([at.assign(Metode=at["method"].map(METHODS_BACKTEST_DA)), actual])
    return charts.line_chart(data, "period", "forecast", hue="Metode",
                             title=f"Prognoser lavet {horizon} måneder før, mod det faktiske antal", ylabel="Borgere på herberg")


def littles_table(littles: pd.DataFrame, params) -> pd.DataFrame:
    labels = {"history": "Historik", **scenario_labels(params)}
    return pd.DataFrame({
        "Kilde": littles["scenario"].map(labels), "År": littles["period"],
        "Tilgang pr. måned": littles["inflow"].map(fmt.number),
        "Middelopholdstid (mdr.)": littles["mean_stay_months"].map(lambda v: fmt.number(v, 2)),
        "Littles lov: tilgang × opholdstid": littles["littles_law_stock"].map(fmt.number),
        "Bestand (gennemsnit)": littles["stock"].map(fmt.number),
        "Forhold": littles["ratio"].map(lambda v: fmt.number(v, 2)),
    })


def reconciliation_text(flows: pd.DataFrame) -> str:
    rec = reconciliation(flows.set_index("period"))
    worst = int(np.abs(rec["difference"]).max()) if len(rec) else 0
    ok = bool(rec["reconciles"].all())
    verdict = "går op i alle måneder" if ok else f"går ikke op: største afvigelse {fmt.number(worst)} borgere"
    return (f"Bestand og strømme for § 110 er afstemt måned for måned for {fmt.number(len(rec))} måneder "
            f"({fmt.period(rec['period'].iloc[0])}–{fmt.period(rec['period'].iloc[-1])}): bestand ved månedens start "
            f"+ tilgang − afgang = bestand ved månedens udgang {verdict}.")


def reconciliation_table(flows: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    rec = reconciliation(flows.set_index("period")).tail(months)
    return pd.DataFrame({
        "Måned": rec["period"].map(fmt.period), "Primo": rec["stock_start"].map(fmt.number),
        "Tilgang": rec["inflow"].map(fmt.number), "Afgang": rec["outflow"].map(fmt.number),
        "Ultimo": rec["stock"].map(fmt.number), "Afvigelse": rec["difference"].map(fmt.number),
    })


RATES_DA = {
    "new_arrivals_per_month": "Nye borgere pr. måned (sæsonkorrigeret, ved M)",
    "new_arrivals_trend_per_year": "Årlig tendens i nye borgere",
    "housing_supply_per_month": "Boligudbud til herbergsborgere pr. måned",
    "tenancy_share": "Andel af udflytninger til bolig, der bliver registrerede lejemål",
    "s107_exit_per_month": "Afgang fra § 107 pr. måned",
    "s107_return_per_month": "Tilbagevenden fra § 107 pr. måned",
    "exit_first_month": "Udskrives i indskrivningsmåneden",
    "exit_hazard_month_1_3": "Afgangsrisiko pr. måned, måned 1–3",
    "exit_hazard_month_12_plus": "Afgangsrisiko pr. måned, efter 12 måneder",
    "to_housing_share": "Andel af udskrivninger til bolig",
    "to_s107_share": "Andel af udskrivninger til botilbud",
    "return_same_month": "Vender tilbage samme måned",
    "return_first_month": "Vender tilbage måneden efter",
    "return_month_6_24": "Tilbagevenden pr. måned, måned 6–24",
    "new_arrival_share": "Andel af nye borgere",
    "stock_at_m": "Borgere på herberg ved M",
    "method_share": "Andel af nye lejemål med metoden",
    "support_end_per_month": "Afslutning af bostøtte pr. måned",
    "housed_return_per_month": "Tilbage på herberg fra bolig pr. måned",
    "housed_leave_per_month": "Anden fraflytning pr. måned",
}
SEGMENTS_DA = {"transitional": "Kortvarige", "episodic": "Episodiske", "chronic": "Langvarige"}


def rates_view(rates: pd.DataFrame) -> pd.DataFrame:
    whole = {"stock_at_m": 0, "new_arrivals_per_month": 1, "housing_supply_per_month": 1}
    decimals = lambda name: whole.get(name, 3)
    return pd.DataFrame({
        "Størrelse": rates["rate"].map(lambda r: RATES_DA.get(r, r)),
        "Gruppe": rates["breakdown"].map(lambda b: SEGMENTS_DA.get(b, SUPPORT_DA.get(b, "Ingen bostøtte" if b == "none" else b))),
        "Værdi": [fmt.number(v, decimals(r)) for r, v in zip(rates["rate"], rates["value"])],
    })


def day_limits_text(params) -> str:
    """The § 110 reimbursement day limits from ``reimbursement.shelter_day_limits``, the values the cost model
    uses: "120 dage pr. løbende år fra 1. oktober 2023 og 90 dage fra 1. april 2026"."""
    parts = [f"{fmt.number(int(limit['days']))} dage{' pr. løbende år' if i == 0 else ''} fra {fmt.date(limit['from'])}"
             for i, limit in enumerate(params["reimbursement.shelter_day_limits"])]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} og {parts[-1]}"


def reimbursement_markdown(params) -> str:
    """The technical appendix's paragraph on how reimbursed nights are decided."""
    return ("**Refusion.** For historikken afgøres hvert døgn efter reglerne: et døgn refunderes, hvis færre end "
            "grænsen døgn er refunderet i de foregående 364 dage; grænsen er "
            f"{day_limits_text(params)}. I scenarierne tilnærmes det med opholdets varighed.")


def intro_markdown(month: pd.Period, params) -> str:
    """The report's opening paragraph: what it forecasts, to when, in how many scenarios (counted from the
    parameter file, so the text cannot fall behind it) and under which reimbursement rules."""
    scenarios = fmt.count_word(len(load_scenarios(params)))
    return (f"Rapporten fremskriver behovet for herbergspladser (§ 110), midlertidige botilbud (§ 107), boliger og\n"
            f"bostøtte fra **{fmt.period(month)}** til udgangen af {horizon_year(params)} i {scenarios} scenarier, med "
            f"usikkerhed, og\nberegner kommunens udgifter under de nye refusionsregler (§ 110-ophold refunderes i højst "
            f"{day_limits_text(params)}).{rules_note(month, params)} "
            f"Den uddyber Spor 7 i\nstatusnotatet.")


def method_markdown(params) -> str:
    """"Metode i korte træk": how the figures were made, with the number of simulations from the parameter
    file (an analyst's ``--param forecast.paths=…`` shows here too)."""
    return ("Modellen følger borgerne måned for måned: hvor mange kommer til herberg, hvor længe de bliver, hvor "
            "mange flytter i bolig (højst så mange, som der er boliger til), og hvor mange vender tilbage. "
            "Sandsynlighederne er målt på de seneste års forløb. Hvert scenarie er beregnet "
            f"{fmt.number(int(params['forecast.paths']))} gange med tilfældig variation; tallene er medianen. For "
            "antallet på herberg og § 110-pladserne er basis gennemsnittet af modellen og en dæmpet eksponentiel "
            "udjævning, og 80 %-intervallet bygger på, hvor langt tidligere prognoser ramte ved siden af; det bliver "
            "bredere, når de seneste prognoser har ramt uden for det. For de øvrige tal er 80 %-intervallet det "
            "spænd, otte ud af ti beregninger lå inden for, og det dækker ikke, at selve forudsætningerne kan være "
            "forkerte.")


def horizon_year(params) -> str:
    """The forecast's last year (``forecast.horizon_end``)."""
    return str(pd.Period(str(params["forecast.horizon_end"]), freq="M").year)


def next_year(month: pd.Period) -> str:
    return str(month.year + 1)
