"""Markdown outputs that Quarto and the fallback both read."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.report import show  # noqa: E402


def test_markdown_table_aligns_escapes_and_captions():
    df = pd.DataFrame({"Interval": ["Under 4.500 kr.", "A | B", None], "Boliger": ["1.234", "<5", "·"],
                       "Andel": ["45 %", "3,5 %", "–"]})
    text = show.markdown_table(df, caption="Boliger  efter\nhusleje")
    lines = text.splitlines()
    assert lines[0] == "| Interval | Boliger | Andel |"
    assert lines[1].startswith("| :---") and lines[1].endswith("---: |") and lines[1].count(":") == 3
    assert lines[3] == r"| A \| B | \<5 | 3,5 % |"
    assert lines[4] == "| – | · | – |"
    assert lines[-1] == ": Boliger efter husleje"


def test_unformatted_numbers_still_get_danish_separators():
    df = pd.DataFrame({"Antal": [1234, 0], "Gennemsnit": [1234.56, float("nan")]})
    assert show.markdown_table(df).splitlines()[2:] == ["| 1.234 | 1.234,6 |", "| 0 | – |"]


def test_markdown_table_explicit_alignment_checked():
    df = pd.DataFrame({"a": ["x"], "b": ["y"]})
    assert "| :---: | ---: |" in show.markdown_table(df, align="cr")
    with pytest.raises(ValueError):
        show.markdown_table(df, align="l")


def test_outputs_are_markdown_only(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw: shown.append(obj))
    show.md("""
        # Overskrift
        Tekst
    """)
    show.table(pd.DataFrame({"a": [1]}))
    assert [list(o) for o in shown] == [["text/markdown"], ["text/markdown"]]
    assert shown[0]["text/markdown"] == "# Overskrift\nTekst\n"


def test_figure_saves_png_closes_figure_and_requires_alt(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw: shown.append(obj))
    monkeypatch.chdir(tmp_path)
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    with pytest.raises(ValueError, match="alt"):
        show.figure(fig, "x", alt=" ", caption="c")
    assert show.figure(fig, "boliger_2023", alt='Linje "op"', caption="Boliger [alle]") is None
    assert (tmp_path / "figures" / "boliger_2023.png").stat().st_size > 1000
    assert not plt.fignum_exists(fig.number)
    assert shown[-1]["text/markdown"] == (
        r'![Boliger \[alle\]](figures/boliger_2023.png){fig-alt="Linje \"op\""}' + "\n")
    with pytest.raises(ValueError, match="name"):
        show.figure(plt.figure(), "../ud", alt="a", caption="c")
