"""One chart style and the recurring chart types of the reports.

Notebooks call these instead of repeating matplotlib code, so every figure has
the same colour-blind-safe palette (Okabe–Ito), readable type, dark text on
white (contrast well above WCAG AA) and Danish separators and month names on
the axes. Each helper returns the Figure; pass it to
:func:`analysis.report.show.figure` with an alt text.
"""
from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.report import fmt

# Okabe & Ito (2008), ordered so that the first colours have the most contrast
# against white; the yellow comes last because thin yellow lines are hard to see.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"]
TEXT_COLOUR = "#1a1a1a"
GRID_COLOUR = "#d9d9d9"
FIGSIZE = (8.0, 4.5)


def apply_style() -> None:
    """Set the house style for every later figure (call once at the top of a report)."""
    import seaborn as sns  # seaborn (~1.6 s to import, via scipy) only where a report styles or draws a chart

    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font="DejaVu Sans",
        font_scale=1.05,
        rc={
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "axes.edgecolor": GRID_COLOUR,
            "axes.labelcolor": TEXT_COLOUR,
            "axes.titlesize": "large",
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.right": False,
            "axes.spines.top": False,
            "grid.color": GRID_COLOUR,
            "text.color": TEXT_COLOUR,
            "xtick.color": TEXT_COLOUR,
            "ytick.color": TEXT_COLOUR,
            "legend.frameon": False,
            "axes.formatter.use_locale": False,
            "axes.unicode_minus": False,
        },
    )


def format_axis(ax: Axes, axis: str = "y", decimals: int = 0, percent: bool = False) -> None:
    """Danish tick labels (``1.234``, ``45 %``) on one axis."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(fmt.tick_formatter(decimals, percent))


def _as_dates(values: pd.Series) -> pd.Series:
    """Indicator periods (``YYYY-MM``) become month-start dates so the axis spaces months evenly."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.to_timestamp()
    return pd.PeriodIndex(values.astype(str), freq="M").to_timestamp().to_series(index=values.index)


def _month_axis(ax: Axes, span_months: int) -> None:
    """Danish month ticks: ``jan 2023`` for short spans, years only for long ones."""
    step = 1 if span_months <= 6 else 3 if span_months <= 18 else 6 if span_months <= 42 else 12
    if step == 12:
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: str(mdates.num2date(v).year)))
        return
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=step))

    def label(v: float, _pos: int) -> str:
        d = mdates.num2date(v)
        return f"{fmt.month_name(d.month)[:3]}\n{d.year}"

    ax.xaxis.set_major_formatter(FuncFormatter(label))


def _new_axes() -> tuple[Figure, Axes]:
    return plt.subplots(figsize=FIGSIZE, layout="constrained")


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool) -> None:
    """Labels last: seaborn names the axes after the data columns, which are English ids."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        # Below the plot: a legend at the side takes a third of the width on a laptop or A4 page.
        n = len(ax.get_legend_handles_labels()[0])
        ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(n, 3), frameon=False)


def line_chart(
    df: pd.DataFrame, x: str, y: str, hue: str | None = None, title: str = "", ylabel: str = "",
    decimals: int = 0, percent: bool = False,
) -> Figure:
    """Monthly series (``x`` holds ``YYYY-MM`` periods or dates), one line per ``hue`` value."""
    import seaborn as sns

    data = df.assign(**{x: _as_dates(df[x])})
    fig, ax = _new_axes()
    sns.lineplot(data=data, x=x, y=y, hue=hue, marker="o", markersize=4, linewidth=2, ax=ax)
    _month_axis(ax, len(data[x].unique()))
    format_axis(ax, "y", decimals, percent)
    ax.set_ylim(bottom=0)
    _finish(ax, title, "", ylabel, legend=hue is not None)
    return fig


def bar_chart(
    df: pd.DataFrame, x: str, y: str, hue: str | None = None, title: str = "", ylabel: str = "",
    decimals: int = 0, percent: bool = False, horizontal: bool = False, labels: bool = True,
) -> Figure:
    """Bars per category ``x`` (values ``y``), grouped by ``hue``; values written on the bars by default."""
    import seaborn as sns

    fig, ax = _new_axes()
    if horizontal:
        sns.barplot(data=df, y=x, x=y, hue=hue, orient="h", ax=ax)
    else:
        sns.barplot(data=df, x=x, y=y, hue=hue, ax=ax)
    format_axis(ax, "x" if horizontal else "y", decimals, percent)
    if labels:
        text = (lambda v: fmt.pct(v, decimals)) if percent else (lambda v: fmt.number(v, decimals))
        for bars in ax.containers:
            ax.bar_label(bars, labels=[text(v) for v in bars.datavalues], padding=2, color=TEXT_COLOUR, fontsize="small")
    _finish(ax, title, ylabel if horizontal else "", "" if horizontal else ylabel, legend=hue is not None)
    return fig


def band_chart(
    df: pd.DataFrame, x: str, y: str, lower: str, upper: str, hue: str | None = None, title: str = "",
    ylabel: str = "", band_label: str = "Usikkerhedsinterval", decimals: int = 0,
    observed: pd.DataFrame | None = None,
) -> Figure:
    """Forecast lines with shaded intervals (``lower``–``upper``) per ``hue``; ``observed`` (same x, y) in black."""
    data = df.assign(**{x: _as_dates(df[x])})
    fig, ax = _new_axes()
    groups = data.groupby(hue, sort=False) if hue else [(None, data)]
    for i, (key, part) in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        ax.fill_between(part[x], part[lower], part[upper], color=colour, alpha=0.2, linewidth=0,
                        label=f"{band_label} ({key})" if key is not None else band_label)
        ax.plot(part[x], part[y], color=colour, linewidth=2, label=str(key) if key is not None else y)
    span = data[x]
    if observed is not None:
        obs = observed.assign(**{x: _as_dates(observed[x])})
        ax.plot(obs[x], obs[y], color=TEXT_COLOUR, linewidth=2, label="Observeret")
        span = pd.concat([span, obs[x]])
    _month_axis(ax, len(span.unique()))
    format_axis(ax, "y", decimals)
    ax.set_ylim(bottom=0)
    _finish(ax, title, "", ylabel, legend=True)
    return fig
