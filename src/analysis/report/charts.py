"""One chart style and the recurring chart types of the reports.

Notebooks call these instead of repeating matplotlib code, so every figure has
the same colour-blind-safe palette, readable type, dark text on white and
Danish separators and month names on the axes. Charts meet WCAG 2.1 AA for
graphics: every series colour has at least 3:1 contrast against the white
background (1.4.11), and no series is told apart by colour alone (1.4.1): each
has its own marker and line style, and line charts name each series at its
last point as well as in the legend. Each helper returns the Figure; pass it to
:func:`analysis.report.show.figure` with an alt text.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Affine2D

from analysis.base import fmt

# Okabe & Ito (2008) hues, the light ones (orange, sky blue, yellow, pink) darkened until each has
# at least 3:1 contrast against white (WCAG 2.1 1.4.11); tests/test_report_charts.py checks it.
PALETTE = ["#0072B2", "#D55E00", "#007A5A", "#9E4FA0", "#A6711F", "#4D4D4D", "#000000", "#005A8C"]
# Shape and dash per series, so a series is known without its colour (WCAG 2.1 1.4.1).
BAND_HATCHES = ["", "//", "\\\\", "..", "xx", "--"]
BAR_HATCHES = ["", "///", "...", "xxx", "\\\\\\", "---"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--"]
TEXT_COLOUR = "#1a1a1a"
GRID_COLOUR = "#d9d9d9"
FIGSIZE = (8.0, 4.5)


# seaborn's "whitegrid" style at "notebook" scale (font_scale 1.05), written out as matplotlib
# settings, with the house palette, type and colours on top. Written out so that a notebook whose
# charts are plain matplotlib (the retention curves, the memo's line charts) does not import seaborn
# and, through it, scipy.stats: ~0.6 s per kernel. tests/test_report_charts.py checks it against ``sns.set_theme``.
_BODY, _SMALL = 12.6, 11.55  # seaborn's notebook sizes (12 and 11) times 1.05
HOUSE_STYLE: dict[str, object] = {
    "figure.facecolor": "white",
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "axes.facecolor": "white",
    "axes.edgecolor": GRID_COLOUR,
    "axes.labelcolor": TEXT_COLOUR,
    "axes.axisbelow": True,
    "axes.grid": True,
    "axes.linewidth": 1.25,
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": False,
    "axes.spines.top": False,
    "axes.labelsize": _BODY,
    "axes.titlesize": "large",
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.formatter.use_locale": False,
    "axes.unicode_minus": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "grid.color": GRID_COLOUR,
    "grid.linestyle": "-",
    "grid.linewidth": 1,
    "text.color": TEXT_COLOUR,
    "font.family": ["DejaVu Sans"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": _BODY,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "lines.solid_capstyle": "round",
    "patch.linewidth": 1,
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "legend.frameon": False,
    "legend.fontsize": _SMALL,
    "legend.title_fontsize": _BODY,
    **{f"{axis}tick.{key}": value for axis in "xy" for key, value in {
        "color": TEXT_COLOUR, "direction": "out", "labelsize": _SMALL,
        "major.width": 1.25, "minor.width": 1, "major.size": 6, "minor.size": 4}.items()},
    "xtick.top": False,
    "xtick.bottom": False,
    "ytick.right": False,
    "ytick.left": False,
}


def apply_style() -> None:
    """Set the house style for every later figure (call once at the top of a report)."""
    mpl.rcParams.update(HOUSE_STYLE)


def save_png(fig: Figure, path: Path, dpi: int) -> None:
    """Draw ``fig`` once at ``dpi`` and write it as a 256-colour PNG.

    A chart is a few flat colours plus their anti-aliased edges, so 256 colours
    lose nothing visible, and the house colours (palette, text, grid, white) are
    kept exact. The file is a third of matplotlib's RGBA PNG, which matters in a
    self-contained report sent by e-mail, and is written ~40 ms faster. A figure
    without a layout engine gets constrained layout, which keeps every label on
    the canvas, so no second, "tight" drawing pass is needed.
    """
    import numpy as np
    from PIL import Image

    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    fig.set_dpi(dpi)
    fig.canvas.draw()
    rgba = Image.frombuffer("RGBA", fig.canvas.get_width_height(physical=True), fig.canvas.buffer_rgba())
    if rgba.getextrema()[3][0] < 255:  # a see-through background: show it on white, as a page would
        rgba = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    image = rgba.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    palette = np.asarray(image.getpalette(), dtype=np.int16).reshape(-1, 3)
    house = np.rint(np.array([mcolors.to_rgb(c) for c in (*PALETTE, TEXT_COLOUR, GRID_COLOUR, "white")]) * 255)
    distance = np.abs(palette[:, None, :] - house[None, :, :]).max(axis=2)
    snap = distance.min(axis=1) <= 3  # the quantiser's rounding of a house colour, never a different colour
    palette[snap] = house[distance.argmin(axis=1)[snap]]
    image.putpalette(palette.astype(np.uint8).reshape(-1).tolist())
    image.save(path, format="png", dpi=(dpi, dpi))


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


def series_style(i: int) -> dict[str, object]:
    """Colour, marker and line style of the ``i``-th series: each differs from its neighbours in all three."""
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def label_line_ends(ax: Axes, ends: list[tuple[object, float, str, str]], decimals: int = 0,
                    percent: bool = False) -> None:
    """Name each series at its last point (x, y, label, colour), nudged apart so labels never overlap.

    A direct label lets a reader who cannot tell the colours apart read the
    chart without matching legend symbols; the value is written with it. The
    labels are placed when the figure is drawn, in display units: only then is the
    plot's height known (a long legend below shrinks it), so one label height apart
    is really one label apart, and a stack that would run above the plot, into the
    title, is moved down instead.
    """
    if not ends:
        return
    ends = sorted(ends, key=lambda e: e[1])
    size = FontProperties(size="small").get_size_in_points()

    def stacked(renderer) -> list[float]:
        """Display y of each label: at its line's end, at least a label's height above the one below."""
        gap = renderer.points_to_pixels(size) * 1.5  # a line of text in its box, and a hair of air
        ys: list[float] = []
        for x, y, _, _ in ends:
            at = ax.transData.transform((ax.convert_xunits(x), y))[1]
            ys.append(max(at, ys[-1] + gap) if ys else at)
        over = ys[-1] - (ax.bbox.y1 - gap / 2)
        return [v - over for v in ys] if over > 0 else ys

    for i, (x, y, label, colour) in enumerate(ends):
        def place(renderer, i: int = i, x: object = x) -> Affine2D:
            return Affine2D().translate(ax.transData.transform((ax.convert_xunits(x), 0))[0], stacked(renderer)[i])

        value = fmt.pct(y, decimals) if percent else fmt.number(y, decimals)
        ax.annotate(f"{label}: {value}", xy=(x, y), xytext=(0, 0), textcoords=place, xycoords="data",
                    fontsize="small", color=TEXT_COLOUR, va="center", ha="left", annotation_clip=False,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": colour, "linewidth": 0.8})
    ax.margins(x=0.02)


def _new_axes() -> tuple[Figure, Axes]:
    return plt.subplots(figsize=FIGSIZE, layout="constrained")


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool) -> None:
    """Labels last: seaborn names the axes after the data columns, which are English ids."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        legend_below(ax)


def legend_below(ax: Axes) -> None:
    """The legend under the plot, in as many columns (up to three) as fit the width; nothing if nothing is labelled.

    Below, because a legend at the side takes a third of the width on a laptop or A4
    page; at a fixed place, because matplotlib's "best" place is searched on every
    draw (~0.13 s per chart with bands).
    """
    if ax.get_legend() is not None:  # seaborn's own, inside the plot and titled with the column name
        ax.get_legend().remove()
    handles, labels = ax.get_legend_handles_labels()
    fig = ax.figure
    for ncol in range(min(len(handles), 3), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)
        if ncol == 1 or legend.get_window_extent(fig.canvas.get_renderer()).width <= fig.bbox.width:
            return
        legend.remove()


def line_chart(
    df: pd.DataFrame, x: str, y: str, hue: str | None = None, title: str = "", ylabel: str = "",
    decimals: int = 0, percent: bool = False,
) -> Figure:
    """Monthly series (``x`` holds ``YYYY-MM`` periods or dates), one line per ``hue`` value.

    Drawn as seaborn's ``lineplot`` draws them (levels in order of appearance and
    coloured in palette order, a missing value left out so the line joins its
    neighbours, white-edged markers), but with matplotlib alone: the series are
    monthly figures already, with nothing to aggregate, and importing seaborn
    costs the memo ~0.6 s (it loads scipy.stats). A month given twice in one
    series is an error, not averaged.
    """
    fig, ax = _new_axes()
    _draw_lines(ax, df, x, y, hue, decimals, percent)
    _finish(ax, title, "", ylabel, legend=hue is not None)
    return fig


def _draw_lines(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str | None, decimals: int = 0,
                percent: bool = False) -> None:
    """The lines of :func:`line_chart` on ``ax``: style per series, Danish month axis, line ends labelled."""
    data = df.assign(**{x: _as_dates(df[x])})
    repeated = data[data.duplicated([x] if hue is None else [x, hue])]
    if len(repeated):
        raise ValueError(f"line_chart: more than one {y!r} for {repeated.iloc[0][x]:%Y-%m}"
                         + ("" if hue is None else f" in {hue} {repeated.iloc[0][hue]!r}"))
    levels = [None] if hue is None else list(data[hue].dropna().unique())
    ends = []
    for i, level in enumerate(levels):
        part = (data if level is None else data[data[hue] == level]).dropna(subset=[x, y]).sort_values(x)
        style = series_style(i)
        ax.plot(part[x], part[y], label=None if level is None else str(level), markersize=5, linewidth=2,
                markeredgewidth=0.75, markeredgecolor="w", markevery=_marker_step(len(part)), **style)
        if level is not None and len(part):
            ends.append((part[x].iloc[-1], float(part[y].iloc[-1]), str(level), str(style["color"])))
    _month_axis(ax, len(data[x].unique()))
    format_axis(ax, "y", decimals, percent)
    ax.set_ylim(bottom=0)
    if len(ends) > 1:
        label_line_ends(ax, _short(ends), decimals, percent)


def _marker_step(points: int) -> int:
    """Every point marked on short series, every third on long ones (markers must not hide the line)."""
    return 1 if points <= 13 else 3


def _short(ends: list[tuple[object, float, str, str]]) -> list[tuple[object, float, str, str]]:
    """Direct labels use the legend text up to its colon ("Tilgang: nye" -> "nye") or parenthesis."""
    def short(label: str) -> str:
        text = label.split(":", 1)[1] if ":" in label else label
        return text.split(" (")[0].strip()
    return [(x, y, short(label), colour) for x, y, label, colour in ends]


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
    if hue is not None:  # groups differ by hatching as well as colour
        for i, bars in enumerate(ax.containers):
            for bar in bars:
                bar.set_hatch(BAR_HATCHES[i % len(BAR_HATCHES)])
                bar.set_edgecolor("white")
    if labels:
        text = (lambda v: fmt.pct(v, decimals)) if percent else (lambda v: fmt.number(v, decimals))
        for bars in ax.containers:
            ax.bar_label(bars, labels=[text(v) for v in bars.datavalues], padding=2, color=TEXT_COLOUR, fontsize="small")
    _finish(ax, title, ylabel if horizontal else "", "" if horizontal else ylabel, legend=hue is not None)
    return fig


def band_chart(
    df: pd.DataFrame, x: str, y: str, lower: str, upper: str, hue: str | None = None, title: str = "",
    ylabel: str = "", band_label: str = "Usikkerhedsinterval", decimals: int = 0,
    observed: pd.DataFrame | None = None, reference: tuple[float, str] | None = None,
) -> Figure:
    """Forecast lines with shaded intervals (``lower``–``upper``) per ``hue``; ``observed`` (same x, y) in black.

    ``reference`` (value, label) draws a dotted horizontal line, e.g. today's capacity. Bands are
    hatched differently per series, so overlapping bands stay apart without colour.
    """
    data = df.assign(**{x: _as_dates(df[x])})
    fig, ax = _new_axes()
    groups = data.groupby(hue, sort=False) if hue else [(None, data)]
    ends = []
    for i, (key, part) in enumerate(groups):
        style = series_style(i)
        ax.fill_between(part[x], part[lower], part[upper], color=style["color"], alpha=0.15, linewidth=0,
                        hatch=BAND_HATCHES[i % len(BAND_HATCHES)],
                        label=f"{band_label} ({key})" if key is not None else band_label)
        ax.plot(part[x], part[y], linewidth=2, markersize=5, markevery=max(1, len(part) // 8), markeredgecolor="w",
                label=str(key) if key is not None else y, **style)
        if key is not None and len(part):
            ends.append((part[x].iloc[-1], float(part[y].iloc[-1]), str(key), str(style["color"])))
    span = data[x]
    if observed is not None:
        obs = observed.assign(**{x: _as_dates(observed[x])})
        ax.plot(obs[x], obs[y], color=TEXT_COLOUR, linewidth=2.5, label="Observeret")
        span = pd.concat([span, obs[x]])
    if reference is not None and reference[0] is not None and not pd.isna(reference[0]):  # unknown: no line
        value, text = reference
        ax.axhline(value, color=TEXT_COLOUR, linewidth=1.2, linestyle=(0, (1, 2)), label=text)
    _month_axis(ax, len(span.unique()))
    format_axis(ax, "y", decimals)
    ax.set_ylim(bottom=0)
    if len(ends) > 1:
        label_line_ends(ax, _short(ends), decimals)
    _finish(ax, title, "", ylabel, legend=True)
    return fig
