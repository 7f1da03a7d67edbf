"""The status memo's tables and chart data, read from the published indicator table only.

Every figure the memo shows passes through here, so memo and indicator table
cannot disagree: tables come back as Danish-formatted text (suppressed cells
read ``<5``), chart data as long frames with NaN where a value is suppressed.
The only other input is the shelter register, for names and ownership (reference
data, not figures).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from analysis.indicators.common import cell_value
from analysis.months import months_back, period_label
from analysis.params import Params
from analysis.base import fmt
from analysis.report import params_table as danish_params
from analysis.report.narrative import suppressed_mark

RENT_BAND_DA = {"rent_lt_4500": "Under 4.500 kr.", "rent_4500_5000": "4.500–5.000 kr.", "rent_gt_5000": "Over 5.000 kr.",
                "": "I alt"}
PARAGRAPH_DA = {"110": "§ 110 (herberg)", "107": "§ 107 (midlertidigt botilbud)", "108": "§ 108 (længerevarende botilbud)"}
METHOD_DA = {"CTI": "CTI", "ICM": "ICM", "ACT": "ACT", "SEL85": "Almindelig § 85", "": "I alt"}
PROVIDER_DA = {"kommunal": "Kommunal", "selvejende": "Selvejende", "privat": "Privat", "": "I alt"}
DISCHARGE_DA = {
    "egen_bolig": "Egen bolig", "udslusningsbolig": "Udslusningsbolig", "skaev_bolig": "Skæv bolig",
    "botilbud": "Botilbud (§ 107/108)", "andet_herberg": "Andet herberg (§ 110)", "familie_venner": "Familie/venner",
    "behandling": "Behandling (hospital, psykiatri, misbrug)", "faengsel": "Fængsel", "doed": "Død", "gaden": "Gaden",
    "ukendt": "Ukendt", "andet": "Andet", "": "I alt",
}
SYSTEM_SERIES = {
    ("persons_in_shelter", ""): "Borgere på herberg (ultimo)",
    ("inflow", ""): "Tilgang i alt",
    ("inflow", "new"): "Tilgang: nye",
    ("inflow", "returning_from_housing"): "Tilgang: tilbage fra bolig",
    ("inflow", "returning_other"): "Tilgang: øvrige tilbagevendte",
    ("outflow", ""): "Afgang i alt",
    ("outflow", "to_housing"): "Afgang: til bolig",
    ("outflow", "other"): "Afgang: andet",
}


class Memo:
    """Look-ups in the published table for one reference month."""

    def __init__(self, table: pd.DataFrame, month: pd.Period, min_count: int):
        self.table = table.assign(breakdown=table["breakdown"].fillna("").astype(str))
        self.month = month
        self.min_count = min_count
        self.m = period_label(month)
        self.history = [period_label(p) for p in months_back(month, 24)]
        # Row positions per (indicator, period, breakdown), built once: the memo looks up ~800 cells.
        self._positions = self.table.groupby(["indicator", "period", "breakdown"], sort=False, observed=True).indices
        self._none = self.table.iloc[:0]
        self._values = self.table["value"].to_numpy(dtype=float)

    def _rows(self, indicator: str, period: str, breakdown: str) -> pd.DataFrame:
        """The rows of one cell, as the masks (indicator, period, breakdown) == (...) would select them."""
        positions = self._positions.get((indicator, period, breakdown))
        return self._none if positions is None else self.table.iloc[positions]

    def value(self, indicator: str, period: str | None = None, breakdown: str = "") -> float:
        """One cell (NaN when absent or suppressed), read by position: ~800 look-ups, each a frame filter before."""
        period = period or self.m
        positions = self._positions.get((indicator, period, breakdown), [])
        return cell_value(self._values[positions], indicator, period, breakdown)

    def text(self, indicator: str, period: str | None = None, breakdown: str = "", share: bool = False) -> str:
        """Danish text of one cell: ``<5`` / ``·`` when suppressed (see narrative.suppressed_mark), ``–`` when absent."""
        rows = self._rows(indicator, period or self.m, breakdown)
        mark = suppressed_mark(rows.iloc[0], self.min_count) if not rows.empty else None
        if mark is not None:
            return mark
        v = self.value(indicator, period, breakdown)
        return fmt.pct(v, 1) if share else fmt.number(v)

    def series(self, pairs: dict[tuple[str, str], str], periods: Sequence[str] | None = None) -> pd.DataFrame:
        """Long chart data (period, serie, value) for (indicator, breakdown) → label."""
        return pd.DataFrame([
            {"period": p, "serie": label, "value": self.value(ind, p, b)}
            for (ind, b), label in pairs.items() for p in (periods or self.history)
        ])


# ---- system view ---------------------------------------------------------------------------------------


def system_chart(memo: Memo) -> pd.DataFrame:
    """Stock in one chart, the flow components in another (different scales)."""
    stock = {k: v for k, v in SYSTEM_SERIES.items() if k[0] == "persons_in_shelter"}
    flows = {k: v for k, v in SYSTEM_SERIES.items() if k[0] != "persons_in_shelter" and k[1]}
    return pd.concat([memo.series(stock).assign(panel="stock"), memo.series(flows).assign(panel="flow")], ignore_index=True)


def system_alt(memo: Memo) -> str:
    first, last = memo.history[0], memo.m
    return (f"Linjediagram over 24 måneder fra {fmt.period(first)} til {fmt.period(last)}: antal borgere på herberg "
            f"ved månedens udgang (fra {memo.text('persons_in_shelter', first)} til {memo.text('persons_in_shelter')}) "
            f"samt månedlig tilgang fordelt på nye og tilbagevendte og afgang til bolig og andet.")


# ---- spor 1 --------------------------------------------------------------------------------------------


def dwellings_table(memo: Memo) -> pd.DataFrame:
    """Dwellings received by rent band: month, the month before (the status text quotes it), same month last
    year, year to date and the same period last year."""
    last_year, before = period_label(memo.month - 12), period_label(memo.month - 1)
    rows = []
    for band, label in RENT_BAND_DA.items():
        ytd, ytd_before = memo.value("dwellings_received_ytd", None, band), memo.value("dwellings_received_ytd", last_year, band)
        rows.append({
            "Husleje pr. md. (ekskl. forbrug)": label,
            fmt.period(memo.m): memo.text("dwellings_received", None, band),
            fmt.period(before): memo.text("dwellings_received", before, band),
            fmt.period(last_year): memo.text("dwellings_received", last_year, band),
            f"År til dato {memo.month.year}": fmt.number(ytd),
            f"Samme periode {memo.month.year - 1}": fmt.number(ytd_before),
            "Ændring": fmt.change(ytd, ytd_before),
        })
    return pd.DataFrame(rows)


def dwellings_chart(memo: Memo) -> pd.DataFrame:
    return memo.series({("dwellings_received", b): label for b, label in RENT_BAND_DA.items() if b})


def subsidised_table(memo: Memo, params: Params) -> pd.DataFrame:
    target = float(params["targets.subsidised_dwellings"])
    done = memo.value("subsidised_dwellings_allocated")
    return pd.DataFrame([{
        "Indflytninger i alt": memo.text("subsidised_dwellings_allocated"),
        "Mål (tilsagn)": fmt.number(target),
        "Andel af målet": fmt.pct(done / target),
        "Endnu ikke anvendt": fmt.number(target - done),
    }])


def permanent_subsidy_text(memo: Memo, params: Params) -> str:
    """New-build with the permanent subsidy in one sentence; "none yet" instead of an empty table."""
    reduction, ceiling = params["permanent_subsidy.monthly_reduction"], params["permanent_subsidy.rent_ceiling"]
    count = memo.value("permanent_subsidy_dwellings")
    head = (f"**Nybyggeri med permanent huslejetilskud.** Tilskuddet sænker huslejen med ca. {fmt.kr(reduction)} om "
            f"måneden; efter tilskuddet må huslejen højst være {fmt.kr(ceiling)} om måneden.")
    if count == 0:  # NaN (suppressed or absent) is not "none": then the count is shown as published below
        return head + " Der er endnu ikke modtaget boliger med permanent huslejetilskud.\n"
    median = "permanent_subsidy_rent_median"
    return (head + f" Modtaget: {memo.text('permanent_subsidy_dwellings')} boliger; median husleje før tilskud "
            f"{fmt.kr(memo.value(median, None, 'before_reduction'))}, efter {fmt.kr(memo.value(median, None, 'after_reduction'))}; "
            f"{memo.text('permanent_subsidy_above_ceiling')} ligger over loftet efter tilskuddet.\n")


# ---- spor 2 --------------------------------------------------------------------------------------------


def _register_names(shelters: pd.DataFrame) -> pd.DataFrame:
    latest = shelters.sort_values("valid_from").groupby("shelter_id").last()
    return latest[["name", "ownership"]]


def _shelter_label(key: str, names: pd.DataFrame) -> tuple[str, str, str]:
    """(name, Danish ownership, paragraph) of a ``<paragraf>:<herberg_id>`` breakdown."""
    paragraph, shelter_id = key.split(":", 1)
    ownership = names["ownership"].get(shelter_id, "")
    return names["name"].get(shelter_id, shelter_id), PROVIDER_DA.get(ownership, "–"), paragraph


def places_by_shelter(memo: Memo, shelters: pd.DataFrame) -> pd.DataFrame:
    """Places per shelter and paragraph now and a year ago, with name and ownership from the register."""
    year_ago = period_label(memo.month - 12)
    names = _register_names(shelters)
    cells = memo.table[(memo.table["indicator"] == "shelter_places_by_shelter") & (memo.table["breakdown"] != "")
                       & memo.table["period"].isin([memo.m, year_ago])]
    rows = []
    for key in sorted(cells["breakdown"].unique()):
        now, before = memo.value("shelter_places_by_shelter", None, key), memo.value("shelter_places_by_shelter", year_ago, key)
        if now == 0 and before == 0:
            continue
        name, ownership, paragraph = _shelter_label(key, names)
        rows.append({"Herberg/tilbud": name, "Ejerform": ownership,
                     "Paragraf": f"§ {paragraph}", fmt.period(year_ago): fmt.number(before),
                     fmt.period(memo.m): fmt.number(now), "Ændring": fmt.change(now, before)})
    return pd.DataFrame(rows)


def places_chart(memo: Memo) -> pd.DataFrame:
    return memo.series({("shelter_places", p): label for p, label in PARAGRAPH_DA.items()})


def occupancy_text(memo: Memo) -> str:
    """The § 110 occupancy now and a year ago, in a sentence (a chart of one line said no more)."""
    year_ago = period_label(memo.month - 12)
    return (f"Belægningen på § 110-herbergerne (overnatninger i forhold til pladser gange dage) var "
            f"{memo.text('shelter_occupancy', share=True)} i {fmt.period(memo.m)} mod "
            f"{memo.text('shelter_occupancy', year_ago, share=True)} i {fmt.period(year_ago)}.\n")


def conversion_table(memo: Memo, shelters: pd.DataFrame) -> pd.DataFrame:
    """Screened §110 shelters: places and places found convertible to §107."""
    names = _register_names(shelters)
    cells = memo.table[(memo.table["indicator"] == "screened_places") & (memo.table["period"] == memo.m)]
    screened = [k for k in sorted(cells["breakdown"]) if k and memo.value("screened_places", None, k) > 0]
    rows = []
    for key in [*screened, ""]:
        name, ownership, _ = _shelter_label(key, names) if key else ("I alt", "", "")
        rows.append({"Herberg": name, "Ejerform": ownership,
                     "§ 110-pladser screenet": memo.text("screened_places", None, key),
                     "Vurderet egnede til § 107": memo.text("convertible_places", None, key)})
    return pd.DataFrame(rows)


# ---- spor 3 --------------------------------------------------------------------------------------------


def support_table(memo: Memo) -> pd.DataFrame:
    return pd.DataFrame([{"Metode": label, "Aktive ultimo": memo.text("support_active", None, b),
                          "Startet i måneden": memo.text("support_started", None, b),
                          "Afsluttet i måneden": memo.text("support_ended", None, b)}
                         for b, label in METHOD_DA.items()])


def support_provider_text(memo: Memo) -> str:
    """Active support courses by provider in a sentence (a table of four numbers said no more)."""
    plural = {"kommunal": "kommunale", "selvejende": "selvejende", "privat": "private"}
    parts = [f"{memo.text('support_active_by_provider', None, b)} af {plural[b]}" for b in plural]
    return (f"Af de {memo.text('support_active_by_provider')} aktive bostøtteforløb ved månedens udgang leveres "
            f"{', '.join(parts[:-1])} og {parts[-1]} leverandører.\n")


# ---- spor 5 --------------------------------------------------------------------------------------------


def pilot_chart(memo: Memo, params: Params) -> pd.DataFrame:
    """Cumulative referrals and move-ins from the pilot start, with the target as a flat series."""
    start = period_label(pd.Period(pd.Timestamp(str(params["pilot.start_date"])), "M"))
    periods = [p for p in memo.history if p >= start]
    data = memo.series({("pilot_referred", ""): "Indstillet", ("pilot_moved_in", ""): "Flyttet ind"}, periods)
    target = pd.DataFrame({"period": periods, "serie": f"Pladser ad gangen: {params['targets.pilot_places']}",
                           "value": float(params["targets.pilot_places"])})
    return pd.concat([data, target], ignore_index=True)


def pilot_text(memo: Memo, params: Params) -> str:
    """The pilot's target read right: the places are the places in use at once, referrals can exceed them."""
    places = params["targets.pilot_places"]
    return (f"Pilotprojektet har {places} udslusningsboliger ad gangen. Flere borgere end {places} kan derfor være "
            f"indstillet over tid, når nogle flytter videre; {memo.text('pilot_referred')} er indstillet i alt, "
            f"{memo.text('pilot_moved_in')} er flyttet ind.\n")


def pilot_alt(memo: Memo, params: Params) -> str:
    return (f"Linjediagram: akkumuleret antal borgere indstillet til pilotprojektet og flyttet ind fra "
            f"{fmt.date(params['pilot.start_date'])} til {fmt.period(memo.m)}; ved udgangen af {fmt.period(memo.m)} "
            f"{memo.text('pilot_referred')} indstillet og {memo.text('pilot_moved_in')} flyttet ind; pilotprojektet "
            f"har {params['targets.pilot_places']} pladser ad gangen.")


def discharge_table(memo: Memo) -> pd.DataFrame:
    """Discharge reasons: Copenhagen citizens on the municipality's own shelters (month, 12 months) beside all
    episodes on every shelter (12 months). The two populations differ, so "Andet herberg" can be small in one and
    large in the other: moves between shelters happen mostly on the private and self-governing shelters."""
    own, everyone = "Egne herberger, københavnere", "Alle herberger, alle borgere"
    rows = [{"Udskrivningsgrund": label, f"{own}: {fmt.period(memo.m)}": memo.text("discharges_cph_own_shelters", None, c),
             f"{own}: seneste 12 mdr.": memo.text("discharges_cph_own_shelters_12m", None, c),
             f"{everyone}: seneste 12 mdr.": memo.text("episodes_ended_12m", None, c)}
            for c, label in DISCHARGE_DA.items()]
    return pd.DataFrame(rows)


def discharge_text(memo: Memo) -> str:
    """What a reader must know to read the discharge table: the unknown share and the median episode length."""
    unknown, total = memo.value("episodes_ended_12m", None, "ukendt"), memo.value("episodes_ended_12m")
    share = fmt.pct(unknown / total) if total and total > 0 and unknown == unknown else fmt.MISSING
    return (f"»Ukendt« er udskrivninger, hvor herberget ikke har registreret en grund ({share} af alle afsluttede "
            "forløb de seneste 12 måneder). Andelen er for høj til, at fordelingen på de øvrige grunde kan læses som "
            "sikker; forvaltningen følger op med herbergerne om registreringen. Et afsluttet forløb varede i median "
            f"{memo.text('episode_length_median_12m')} døgn. De to første kolonner tæller udskrivninger fra "
            "kommunens egne herberger; den sidste tæller forløb, og et forløb, der fortsætter på et andet herberg, er "
            "ikke afsluttet. Derfor er »Andet herberg« stor i de første kolonner og næsten nul i den sidste.\n")


def frequent_users_text(memo: Memo) -> str:
    """The frequent users this month and a year ago in a sentence (a 12-row table repeated the same three figures)."""
    year_ago = period_label(memo.month - 12)
    return (f"**Borgere med mange forløb.** {memo.text('frequent_users')} borgere har haft mindst tre herbergsforløb det "
            f"seneste år ({memo.text('frequent_users', year_ago)} for et år siden). I {fmt.period(memo.m)} stod de for "
            f"{memo.text('frequent_user_admissions')} af {memo.text('inflow')} indskrivninger og "
            f"{memo.text('frequent_user_discharges')} af {memo.text('outflow')} udskrivninger.\n")


# ---- appendix ------------------------------------------------------------------------------------------


def quality_table(memo: Memo) -> pd.DataFrame:
    extracts = sorted(memo.table.loc[(memo.table["indicator"] == "rows_read") & (memo.table["period"] == memo.m), "breakdown"])
    return pd.DataFrame([{"Udtræk": e, "Rækker indlæst": memo.text("rows_read", None, e),
                          "Godkendt": memo.text("rows_clean", None, e), "I karantæne": memo.text("rows_quarantined", None, e)}
                         for e in extracts])


def params_table(params: Params) -> pd.DataFrame:
    """Every parameter in Danish: label, value, unit, assumption/override remark and source."""
    return danish_params.params_table(params)
