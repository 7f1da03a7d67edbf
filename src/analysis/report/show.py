"""Notebook display that both renderers understand: Markdown outputs only.

Every helper emits a single ``text/markdown`` output. A ``text/html`` output (a
DataFrame's default display) makes Quarto fetch require.js from a CDN, which
breaks the self-contained report on an offline server; Markdown is read the
same way by Quarto and by the nbconvert + pandoc fallback. The helpers return
``None`` on purpose: a returned value in a cell's last line would add a second,
plain-text output.

Table cells, column names, captions and alt texts are data, not Markdown: they
pass through :mod:`analysis.base.escape` here, so a shelter name or label
holding Markdown or HTML is shown as typed. ``md`` takes Markdown the package
wrote; a caller that puts outside text into it escapes that text first.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import pandas as pd
from IPython.display import display

if TYPE_CHECKING:  # matplotlib (~0.5 s to import) only for notebooks that draw: they import it themselves
    from matplotlib.figure import Figure

from analysis.base import escape
from analysis.base.fmt import MISSING, number

FIGURE_DIR = "figures"
FIGURE_DPI = 150
FIGURE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # a figure's name becomes its file name
_ESCAPED = re.compile(r"\\.")
_NUMERIC_TEXT = re.compile(r"^[−\-+▲▼ ]*[\d.]+(,\d+)?( ?(%|kr\.))?$|^<\d+$|^·$|^–$")


def md(text: str) -> None:
    """Display Markdown (dedented, so triple-quoted text can be indented in the cell)."""
    display({"text/markdown": textwrap.dedent(text).strip() + "\n"}, raw=True)


def _cell(value: object) -> str:
    """Cell text; a number the caller left unformatted still gets Danish separators (1 decimal at most)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return number(value, 0 if float(value).is_integer() else 1)
    return escape.text(value)


def _shown_length(cell: str) -> int:
    """Characters a reader sees: an escape (``\\<``) is one, so escaping leaves the relative column widths as they were."""
    return len(_ESCAPED.sub("_", cell))


def _alignment(column: pd.Series) -> str:
    """Right-align numbers and formatted numbers ("1.234", "45 %", "<5"); left-align text."""
    if pd.api.types.is_numeric_dtype(column):
        return "r"
    texts = [str(v).strip() for v in column if isinstance(v, str) and v.strip()]
    return "r" if texts and all(_NUMERIC_TEXT.match(t) for t in texts) else "l"


def markdown_table(df: pd.DataFrame, caption: str | None = None, align: str | Sequence[str] | None = None) -> str:
    """A pandoc/Quarto pipe table of ``df`` (columns only; put labels in a column, not the index).

    ``align`` is one letter per column (``l``, ``r``, ``c``); by default numbers
    and formatted numbers are right-aligned. Dash counts follow the content
    width, which is what both renderers use for relative column widths.
    """
    header = [_cell(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    letters = list(align) if align is not None else [_alignment(df.iloc[:, i]) for i in range(df.shape[1])]
    if len(letters) != len(header):
        raise ValueError(f"align has {len(letters)} letters for {len(header)} columns")
    rules = []
    for i, letter in enumerate(letters):
        width = max([3, _shown_length(header[i]), *(_shown_length(r[i]) for r in rows)])
        dashes = "-" * width
        rules.append({"l": f":{dashes}", "r": f"{dashes}:", "c": f":{dashes}:"}[letter])
    lines = ["| " + " | ".join(cells) + " |" for cells in (header, rules, *rows)]
    if caption:
        lines += ["", f": {escape.text(caption)}"]
    return "\n".join(lines) + "\n"


def table(df: pd.DataFrame, caption: str | None = None, align: str | Sequence[str] | None = None) -> None:
    """Display ``df`` as a Markdown table; format numbers first with :mod:`analysis.base.fmt` (units, decimals)."""
    md(markdown_table(df, caption, align))


def tables(items: Iterable[tuple[pd.DataFrame, str]]) -> None:
    """Several captioned tables in a row (e.g. one per scenario), so notebooks need no loop."""
    md("\n".join(markdown_table(df, caption) for df, caption in items))


def figure_markdown(src: str, alt: str, caption: str) -> str:
    """``![caption](src){fig-alt="alt"}``: Quarto's alt-text attribute, which the fallback's Lua filter maps too."""
    if not alt or not alt.strip():
        raise ValueError(f"figure {src}: alt text is required (describe what the chart shows)")
    return f'![{escape.text(caption)}]({src}){{fig-alt="{escape.attribute(alt)}"}}\n'


def figure(fig: Figure, name: str, alt: str, caption: str) -> None:
    """Save ``fig`` as ``figures/<name>.png`` in the step's build folder, display it, close it.

    The step's build folder is the kernel's working directory, which the runner
    sets for this kernel alone (never with a process-wide ``chdir``); the path is
    made absolute once, here, so the file lands there whatever happens later.
    The renderer inlines the file and refuses to publish a report whose figure
    is missing. ``alt`` describes what the chart shows for readers who cannot
    see it; it is required. The figure is closed so that Jupyter does not
    display it a second time as an image output without alt text.
    """
    if not FIGURE_NAME.match(name):
        raise ValueError(f"figure name {name!r}: use letters, digits, '-' and '_' (it becomes a file name)")
    markdown = figure_markdown(f"{FIGURE_DIR}/{name}.png", alt, caption)
    path = Path.cwd().resolve() / FIGURE_DIR / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    import matplotlib.pyplot as plt

    from analysis.report.charts import save_png

    try:
        save_png(fig, path, FIGURE_DPI)
    finally:
        plt.close(fig)
    md(markdown)
