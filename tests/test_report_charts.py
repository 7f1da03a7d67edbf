"""The chart helpers: house style, Danish axes, one figure per call."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.report import charts  # noqa: E402


def _contrast(hex_a: str, hex_b: str) -> float:
    def lum(h: str) -> float:
        rgb = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(h)]
        return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    hi, lo = sorted((lum(hex_a), lum(hex_b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _ticks(ax, axis="y"):
    ax.figure.canvas.draw()
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in labels if t.get_text()]


def test_every_series_colour_has_graphics_contrast_and_text_has_contrast():
    assert all(_contrast(c, "#ffffff") >= 3 for c in charts.PALETTE)  # WCAG 2.1 1.4.11, non-text contrast
    assert _contrast(charts.TEXT_COLOUR, "#ffffff") >= 7  # WCAG AAA for text
    assert _contrast(charts.PALETTE[0], "#ffffff") >= 4.5  # the first series colour even works for text


def test_neighbouring_series_differ_without_colour():
    """WCAG 2.1 1.4.1: the first six series differ pairwise in marker and line style, not only in colour."""
    styles = [charts.series_style(i) for i in range(6)]
    assert len({s["marker"] for s in styles}) == 6
    assert len({str(s["linestyle"]) for s in styles}) == 6


def test_line_chart_names_each_series_at_its_end():
    charts.apply_style()
    df = pd.DataFrame({"period": ["2023-01", "2023-02"] * 2, "value": [10, 12, 10, 12.4],
                       "serie": ["Tilgang: nye"] * 2 + ["Tilgang: tilbage fra bolig"] * 2})
    fig = charts.line_chart(df, "period", "value", hue="serie")
    labels = [t for t in fig.axes[0].texts if t.get_text()]
    assert sorted(t.get_text() for t in labels) == ["nye: 12", "tilbage fra bolig: 12"]
    boxes = _label_boxes(fig)  # equal values: the labels are pushed apart, not drawn on each other
    assert boxes[1].y0 >= boxes[0].y1
    plt.close(fig)


def _label_boxes(fig) -> list:
    """The drawn line-end labels' boxes (display units), bottom first."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return sorted((t.get_bbox_patch().get_window_extent(renderer) for t in fig.axes[0].texts if t.get_text()),
                  key=lambda b: b.y0)


@pytest.mark.parametrize("legend_rows", [0, 12])
def test_end_labels_never_overlap_nor_run_above_the_plot(legend_rows):
    """Four series ending near the top stacked their labels upward into the title (the capacity report's
    backtest chart), and with a long legend below, labels 6 % of the range apart overlapped (its § 107
    chart): labels are spaced in display units once the plot's height is known, and kept inside it."""
    charts.apply_style()
    fig, ax = plt.subplots(figsize=charts.FIGSIZE, layout="constrained")
    ends = [(1, y, name, "#000000") for y, name in zip((99.0, 98.0, 93.0, 60.0), "abcd")]
    for _, y, _, _ in ends:
        ax.plot([0, 1], [50, y])
    for i in range(legend_rows):
        ax.plot([0, 1], [0, 0], label=f"serie {i}")
    if legend_rows:
        charts.legend_below(ax)
    ax.set_ylim(0, 100)
    charts.label_line_ends(ax, ends)
    boxes = _label_boxes(fig)
    assert len(boxes) == 4 and boxes[-1].y1 <= ax.bbox.y1 + 1
    assert all(upper.y0 >= lower.y1 for lower, upper in zip(boxes, boxes[1:]))
    plt.close(fig)


def test_line_chart_has_danish_axes():
    charts.apply_style()
    df = pd.DataFrame({"period": ["2022-11", "2022-12", "2023-01", "2023-02"] * 2,
                       "value": [1000, 1500, 2500, 12000, 10, 20, 30, 40], "method": ["CTI"] * 4 + ["ICM"] * 4})
    fig = charts.line_chart(df, "period", "value", hue="method", title="Titel", ylabel="Personer")
    ax = fig.axes[0]
    assert "12.000" in _ticks(ax)
    assert any(label.startswith(("nov", "dec", "jan", "feb")) for label in _ticks(ax, "x"))
    assert ax.get_xlabel() == "" and ax.get_ylabel() == "Personer"
    plt.close(fig)


def test_bar_and_band_charts():
    charts.apply_style()
    bars = pd.DataFrame({"band": ["< 4.500", "4.500–5.000"], "share": [0.453, 0.25]})
    fig = charts.bar_chart(bars, "band", "share", title="Andel", ylabel="Andel", percent=True)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["45 %", "25 %"]
    plt.close(fig)
    fc = pd.DataFrame({"period": ["2024-01", "2024-02", "2024-03"] * 2, "need": [100, 110, 120, 90, 95, 100],
                       "lo": [90, 95, 100, 80, 85, 88], "hi": [110, 125, 140, 100, 105, 112],
                       "scenario": ["Høj"] * 3 + ["Lav"] * 3})
    obs = pd.DataFrame({"period": ["2023-11", "2023-12"], "need": [95, 98]})
    fig = charts.band_chart(fc, "period", "need", "lo", "hi", hue="scenario", ylabel="Pladser", observed=obs)
    assert _legend(fig)[:2] == ["Usikkerhedsinterval (Høj)", "Høj"] and "Observeret" in _legend(fig)
    plt.close(fig)


def _legend(fig) -> list[str]:
    """The texts of the one legend under the plot (no legend inside the axes)."""
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_line_chart_legend_is_under_the_plot():
    charts.apply_style()
    df = pd.DataFrame({"period": ["2023-01", "2023-02"] * 2, "value": [1, 2, 3, 4],
                       "serie": ["Nye"] * 2 + ["Tilbage"] * 2})
    fig = charts.line_chart(df, "period", "value", hue="serie")
    assert _legend(fig) == ["Nye", "Tilbage"]
    plt.close(fig)


def test_house_style_is_seaborn_whitegrid_theme_with_house_settings():
    """The written-out style equals what ``sns.set_theme`` set before it was written out."""
    import seaborn as sns
    from matplotlib.colors import to_rgba

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        sns.set_theme(context="notebook", style="whitegrid", palette=charts.PALETTE, font="DejaVu Sans",
                      font_scale=1.05, rc={
                          "figure.figsize": charts.FIGSIZE, "figure.dpi": 100, "axes.edgecolor": charts.GRID_COLOUR,
                          "axes.labelcolor": charts.TEXT_COLOUR, "axes.titlesize": "large",
                          "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.spines.right": False,
                          "axes.spines.top": False, "grid.color": charts.GRID_COLOUR, "text.color": charts.TEXT_COLOUR,
                          "xtick.color": charts.TEXT_COLOUR, "ytick.color": charts.TEXT_COLOUR,
                          "legend.frameon": False, "axes.formatter.use_locale": False, "axes.unicode_minus": False})
        seaborn_theme = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        charts.apply_style()
        house = dict(matplotlib.rcParams)

    def same(key: str) -> bool:
        a, b = seaborn_theme[key], house[key]
        if key == "axes.prop_cycle":
            return [to_rgba(c["color"]) for c in a] == [to_rgba(c["color"]) for c in b]
        if isinstance(a, float):
            return abs(a - b) < 1e-9
        return a == b or (key.endswith("color") and to_rgba(a) == to_rgba(b))

    differ = sorted(k for k in seaborn_theme if k != "image.cmap" and not same(k))  # seaborn's own colormap
    assert differ == []


def test_save_png_writes_a_small_palette_png_with_exact_house_colours(tmp_path):
    from PIL import Image

    charts.apply_style()
    df = pd.DataFrame({"period": ["2023-01", "2023-02", "2023-03"] * 2, "value": [5, 9, 7, 2, 3, 8],
                       "serie": ["Nye"] * 3 + ["Tilbage"] * 3})
    fig = charts.line_chart(df, "period", "value", hue="serie", title="Titel", ylabel="Borgere")
    charts.save_png(fig, tmp_path / "a.png", dpi=150)
    plt.close(fig)
    image = Image.open(tmp_path / "a.png")
    assert image.mode == "P" and image.size == (1200, 675)  # FIGSIZE at 150 dpi: nothing cropped or added
    assert tuple(round(v) for v in image.info["dpi"]) == (150, 150)  # pandoc sizes the Word figure from it
    palette = image.getpalette()
    used = {tuple(palette[3 * i:3 * i + 3]) for _, i in image.getcolors()}
    house = {tuple(round(255 * v) for v in mcolors.to_rgb(c))
             for c in ("white", charts.TEXT_COLOUR, charts.PALETTE[0], charts.PALETTE[1])}
    assert house <= used


def test_save_png_puts_a_see_through_figure_on_white(tmp_path):
    from PIL import Image

    fig = plt.figure(figsize=(2, 1))
    fig.patch.set_alpha(0)
    charts.save_png(fig, tmp_path / "b.png", dpi=100)
    plt.close(fig)
    assert Image.open(tmp_path / "b.png").convert("RGB").getpixel((5, 5)) == (255, 255, 255)


def test_legend_takes_fewer_columns_when_three_would_not_fit():
    charts.apply_style()
    long = [f"Realvækst i indkomsten på {g} % om året i hele perioden" for g in (0, 1, 2)]
    df = pd.DataFrame({"period": ["2023-01", "2023-02"] * 3, "value": [1, 2, 3, 4, 5, 6], "serie": sorted(long * 2)})
    fig = charts.line_chart(df, "period", "value", hue="serie")
    renderer = fig.canvas.get_renderer()
    assert fig.legends[0].get_window_extent(renderer).width <= fig.bbox.width
    handles, labels = fig.axes[0].get_legend_handles_labels()
    three = fig.legend(handles, labels, ncol=3)  # what a fixed three columns would have given
    assert three.get_window_extent(renderer).width > fig.bbox.width
    plt.close(fig)


def test_line_chart_joins_over_a_missing_month_and_sorts_months():
    """A missing value is left out (the line joins its neighbours); months out of order are drawn in order."""
    charts.apply_style()
    df = pd.DataFrame({"period": ["2023-01", "2023-02", "2023-04", "2023-03"] * 2,
                       "value": [5, None, 7, 4, 2, 3, 8, 1], "serie": ["Nye"] * 4 + ["Tilbage"] * 4})
    fig = charts.line_chart(df, "period", "value", hue="serie", title="Titel", ylabel="Borgere")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    months = lambda line: [f"{pd.Timestamp(v):%Y-%m}" for v in line.get_xdata()]
    assert months(lines["Nye"]) == ["2023-01", "2023-03", "2023-04"] and list(lines["Nye"].get_ydata()) == [5, 4, 7]
    assert list(lines["Tilbage"].get_ydata()) == [2, 3, 1, 8]
    assert lines["Nye"].get_marker() != lines["Tilbage"].get_marker()
    assert lines["Nye"].get_linestyle() != lines["Tilbage"].get_linestyle()
    plt.close(fig)


def test_line_chart_refuses_a_month_given_twice():
    df = pd.DataFrame({"period": ["2023-01", "2023-01"], "value": [1, 2], "serie": ["Nye", "Nye"]})
    with pytest.raises(ValueError, match="more than one 'value' for 2023-01 in serie 'Nye'"):
        charts.line_chart(df, "period", "value", hue="serie")


def test_band_chart_draws_todays_capacity_as_a_dotted_line_and_skips_an_unknown_one():
    charts.apply_style()
    fc = pd.DataFrame({"period": ["2027-01", "2027-02"], "need": [100, 110], "lo": [90, 95], "hi": [110, 125]})
    fig = charts.band_chart(fc, "period", "need", "lo", "hi", reference=(92.0, "Pladser i dag: 92"))
    assert "Pladser i dag: 92" in _legend(fig)
    plt.close(fig)
    fig = charts.band_chart(fc, "period", "need", "lo", "hi", reference=(None, "Pladser i dag: –"))
    assert "Pladser i dag: –" not in _legend(fig)
    plt.close(fig)
