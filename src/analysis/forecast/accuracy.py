"""The one source of forecast accuracy figures: benchmark, docs and both reports read it.

Rolling origins on a monthly stock: at each origin every method sees the data up to
and including that month and forecasts 12 months. Per method and horizon: MASE (mean
absolute error over the in-sample seasonal-naive error of the data up to and
including the origin, Hyndman & Koehler 2006), mean absolute error in persons, bias
(mean forecast − actual), the share of actuals inside the 80 % and 95 % bands, and
the number of origins. Horizons 3, 6 and 12 are the error *at* that horizon; "1-12"
is the mean over horizons 1 to 12. Methods: naive, seasonal naive, drift, damped ETS
(AICc, fitted by statsmodels: the external reference) and the project's own forecast, ``model``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.forecast.backtest import Forecaster, default_origins, rolling_backtest
from analysis.forecast.combined import CombinedForecaster, candidate_forecasters
from analysis.forecast.methods import DampedETS, standard_methods
from analysis.forecast.series import WINDOW, flow_forecaster

HORIZONS = (3, 6, 12)
HORIZON = 12
ORIGINS = 60  # the last up to 60 origins with a full year ahead ...
MIN_TRAIN = 36  # ... and at least three years of history
METHOD_DA = {"model": "prognosen", "naive": "sidste måneds niveau", "seasonal_naive": "samme måned sidste år",
             "drift": "den lineære tendens", "damped_ets": "dæmpet eksponentiel udjævning"}
STANDARD = ("naive", "seasonal_naive", "drift", "damped_ets")
TIE_SHARE = 0.05  # in the sentence, errors within 5 % of each other are "about as good"
TIE_MASE = 0.05  # issue 16's judging: MASE differences within 0.05 count as ties


def series_forecasters(y: pd.Series, mean_stay_months: float, inflow: pd.Series | None = None,
                       outflow: pd.Series | None = None) -> dict[str, Forecaster]:
    """The four standard methods and the combined model on one monthly series. The combination's
    candidates are forecast from the first origin with a year of history (``series.WINDOW`` + 1 months)."""
    values = y.to_numpy(dtype=float)
    methods = standard_methods(values, DampedETS(values, statsmodels=True))
    candidates = candidate_forecasters(values, flow_forecaster(y, mean_stay_months, inflow, outflow))
    methods["model"] = CombinedForecaster(values, candidates, first_origin=WINDOW, max_horizon=HORIZON)
    return methods


def evaluate_series(y: pd.Series, mean_stay_months: float, inflow: pd.Series | None = None,
                    outflow: pd.Series | None = None, origins: int = ORIGINS, min_train: int = MIN_TRAIN) -> pd.DataFrame:
    """Per-origin errors of every method (``rolling_backtest``'s rows) on one series."""
    chosen = default_origins(len(y), HORIZON, origins, min_train)
    if len(chosen) == 0:
        raise ValueError(f"{len(y)} months are too few: the evaluation needs {min_train + HORIZON} or more")
    return rolling_backtest(y, series_forecasters(y, mean_stay_months, inflow, outflow), HORIZON, chosen)


def accuracy_table(errors: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS, mean_to: int = HORIZON) -> pd.DataFrame:
    """One row per method × horizon (``"3"``, ``"6"``, ``"12"``, ``"1-12"``): mase, mae, bias,
    coverage80, coverage95 (shares, NaN where a method has no bands) and origins."""
    inside = {lvl: (errors["actual"] >= errors[f"lo{lvl}"]) & (errors["actual"] <= errors[f"hi{lvl}"])
              for lvl in (80, 95)}
    frame = errors.assign(abs_error=errors["error"].abs(), **{
        f"in{lvl}": inside[lvl].where(errors[f"lo{lvl}"].notna()).astype(float) for lvl in (80, 95)})
    parts = [(str(h), frame[frame["h"] == h]) for h in horizons] + [(f"1-{mean_to}", frame[frame["h"] <= mean_to])]
    rows = []
    for label, part in parts:
        g = part.groupby("method", sort=False)
        rows.append(pd.DataFrame({
            "horizon": label, "mase": g["scaled_error"].mean(), "mae": g["abs_error"].mean(), "bias": g["error"].mean(),
            "coverage80": g["in80"].mean(), "coverage95": g["in95"].mean(), "origins": g["origin"].nunique(),
        }))
    return pd.concat(rows).rename_axis("method").reset_index()


def best_standard(table: pd.DataFrame, horizon: str = str(HORIZON)) -> pd.Series:
    """The row of the standard method with the lowest mean absolute error at ``horizon``."""
    at = table[(table["horizon"] == horizon) & table["method"].isin(STANDARD)]
    return at.loc[at["mae"].idxmin()]


def accuracy_sentence(table: pd.DataFrame, horizon: str = str(HORIZON)) -> str:
    """Plain Danish: how far off the forecast was on average, against the best simple method."""
    from analysis.base import fmt

    model = table[(table["horizon"] == horizon) & (table["method"] == "model")]
    if model.empty or not np.isfinite(model["mae"].iloc[0]):
        return ""
    m = model.iloc[0]
    best = best_standard(table, horizon)
    diff = best["mae"] - m["mae"]
    tie = abs(diff) <= max(0.5, TIE_SHARE * best["mae"])
    shown = fmt.rounded(best["mae"], 0) - fmt.rounded(m["mae"], 0)  # the difference the reader can check
    verdict = "ramte de to omtrent lige godt" if tie else "ramte prognosen bedst" if diff > 0 else "ramte den simple metode bedst"
    persons = lambda v: f"{fmt.number(v)} {'person' if round(v) == 1 else 'personer'}"
    months = f"{horizon} måneder" if horizon != "1" else "1 måned"
    return (f"Prøvet bagud på {int(m['origins'])} tidligere prognosestarter har prognosen i gennemsnit ramt "
            f"{persons(m['mae'])} ved siden af {months} frem; den bedste simple fremskrivning "
            f"({METHOD_DA[best['method']]}) {persons(best['mae'])}. Altså {verdict}"
            f"{'' if tie or shown == 0 else f', med {persons(abs(shown))}'}.")


def confirmation_split(errors: pd.DataFrame, last_month: pd.Period, months: int = 24) -> dict[str, pd.DataFrame]:
    """The errors whose target month falls before / within the last ``months`` months of the series
    (docs/forecast.md: rules fixed before the last two years, then confirmed on them)."""
    target = pd.PeriodIndex(errors["origin"].str[:7], freq="M") + errors["h"].to_numpy()
    late = np.asarray(target >= last_month - (months - 1))
    return {"development": errors[~late], "confirmation": errors[late]}


def markdown_table(tables: dict[str, pd.DataFrame]) -> str:
    """Per series (dict key) and method: MASE at 3/6/12 and 1-12, and 12-month bias and coverage."""
    lines = ["| series | method | MASE 3 | MASE 6 | MASE 12 | MASE 1-12 | bias 12 | cover 80 % | cover 95 % | origins |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    pct = lambda v: "–" if pd.isna(v) else f"{100 * v:.0f} %"
    for name, table in tables.items():
        wide = table.pivot(index="method", columns="horizon", values="mase")
        at = table[table["horizon"] == str(HORIZON)].set_index("method")
        for method in at.index:
            r = at.loc[method]
            cells = [f"{wide.loc[method, h]:.2f}" if h in wide else "–" for h in ("3", "6", "12", f"1-{HORIZON}")]
            bold = "**" if method == "model" else ""
            lines.append(f"| {name} | {bold}{method}{bold} | " + " | ".join(cells)
                         + f" | {r['bias']:+,.0f} | {pct(r['coverage80'])} | {pct(r['coverage95'])} | {int(r['origins'])} |")
    return "\n".join(lines)


def read_series(path: Path) -> pd.DataFrame:
    """A monthly series file: ``month`` (YYYY-MM) and ``stock``, optionally ``inflow`` and ``outflow``.

    Errors name the file, the row (as in a spreadsheet, header = row 1) and the column.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = raw.columns.str.strip()
    for col in ("month", "stock"):
        if col not in raw.columns:
            raise ValueError(f"{path}: no column '{col}' (columns: {', '.join(raw.columns)})")
    flows = [c for c in ("inflow", "outflow") if c in raw.columns]
    if len(flows) == 1:
        raise ValueError(f"{path}: '{flows[0]}' given without '{({'inflow', 'outflow'} - set(flows)).pop()}'")
    text = raw["month"].str.strip()
    months = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}")), format="%Y-%m", errors="coerce")
    _fail_at(path, raw, months.isna(), "month", "not a month YYYY-MM")
    out = pd.DataFrame(index=pd.DatetimeIndex(months, name="month"))
    for col in ("stock", *flows):
        values = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        _fail_at(path, raw, values.isna() | (values < 0), col, "not a non-negative number")
        out[col] = values.to_numpy(dtype=float)
    _fail_at(path, raw, months.duplicated(), "month", "repeats an earlier month")
    out = out.sort_index()
    expected = pd.date_range(out.index[0], out.index[-1], freq="MS")
    if len(expected) != len(out):
        missing = expected.difference(out.index)
        raise ValueError(f"{path}: column 'month' skips {len(missing)} month(s), first {missing[0]:%Y-%m}")
    return out


def _fail_at(path: Path, raw: pd.DataFrame, bad: pd.Series, column: str, what: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{path}, row {i + 2}, column '{column}': {what}")  # the cell itself is not quoted


# The public series the method is tried on (docs/forecast.md, "Accuracy"): id -> (monthly file, Danish
# label, whether its inflow and outflow are used). The capacity report shows their table beside its own backtest.
REFERENCE_SERIES = {
    "nyc_counts": ("nyc_dhs_monthly.csv", "New York, kun bestanden", False),
    "toronto_flows": ("toronto_flow_monthly.csv", "Toronto, bestand med til- og afgang", True),
    "toronto_counts": ("toronto_flow_monthly.csv", "Toronto, kun bestanden", False),
}
REFERENCE_FILE = Path(__file__).with_name("reference_accuracy.csv")


def reference_errors(folder: Path, mean_stay_months: float) -> dict[str, tuple[pd.DataFrame, pd.Period, pd.Period]]:
    """Per ``REFERENCE_SERIES`` id: the per-origin errors of every method (``evaluate_series``) on its
    monthly file in ``folder``, with the series' first and last month."""
    out = {}
    for sid, (name, _, with_flows) in REFERENCE_SERIES.items():
        df = read_series(folder / name)
        flows = {"inflow": df["inflow"], "outflow": df["outflow"]} if with_flows else {}
        months = pd.PeriodIndex(df.index, freq="M")
        out[sid] = evaluate_series(df["stock"], mean_stay_months, **flows), months[0], months[-1]
    return out


def reference_accuracy(errors: dict[str, tuple[pd.DataFrame, pd.Period, pd.Period]]) -> pd.DataFrame:
    """``accuracy_table`` of each series of ``reference_errors``, with its id, Danish label and first and
    last month. The monthly run cannot read the public files (nor afford statsmodels), so
    ``benchmarks/bench_forecast.py --record`` writes this to ``REFERENCE_FILE`` and a test recomputes it
    from ``tests/fixtures/realdata``: the report's figures are this module's, never typed in."""
    return pd.concat([accuracy_table(e).assign(series=sid, label_da=REFERENCE_SERIES[sid][1], first=str(first),
                                               last=str(last))
                      for sid, (e, first, last) in errors.items()], ignore_index=True)


def evaluate_file(path: Path, mean_stay_months: float, origins: int = ORIGINS) -> pd.DataFrame:
    """The accuracy table of a series file (the ``forecast-accuracy`` command)."""
    df = read_series(path)
    flows = {"inflow": df["inflow"], "outflow": df["outflow"]} if "inflow" in df else {}
    return accuracy_table(evaluate_series(df["stock"], mean_stay_months, origins=origins, **flows))
