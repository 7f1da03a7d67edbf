"""The chart helpers: house style, Danish axes, one figure per call."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

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


def test_palette_is_okabe_ito_and_text_has_contrast():
    assert len(charts.PALETTE) == 8 and charts.PALETTE[0] == "#0072B2"
    assert _contrast(charts.TEXT_COLOUR, "#ffffff") >= 7  # WCAG AAA for text
    assert _contrast(charts.PALETTE[0], "#ffffff") >= 4.5  # the first series colour even works for text


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
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Observeret" in legend and "Høj" in legend
    plt.close(fig)
