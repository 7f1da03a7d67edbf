"""The colophon: what a reader needs to trace a report back to its data and code.

The notebook is executed before it is rendered, so at execution time nobody
knows which renderer will turn it into HTML and Word. The notebook therefore
writes :data:`RENDERER_PLACEHOLDER`, and :func:`analysis.report.render.render_report`
replaces it in the notebook's Markdown outputs before either renderer sees
them: one mechanism for Quarto and the fallback, for HTML and docx alike.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from analysis.base import escape, fmt

if TYPE_CHECKING:
    from analysis.context import RunContext

RENDERER_PLACEHOLDER = "@@RENDERER@@"


def colophon_markdown(
    ctx: "RunContext",
    renderer: str,
    fingerprint: str,
    code_version: str,
    run_time: dt.datetime | pd.Timestamp | str,
) -> str:
    """Danish colophon section; pass ``renderer=RENDERER_PLACEHOLDER`` from a report notebook."""
    extract = fmt.date(ctx.extract_date)
    if ctx.extract_date_source == "file_mtime":
        extract += " (udledt af fildato; udtræksdato mangler i udtraek.yml)"
    ts = pd.Timestamp(run_time)
    rows = [
        ("Referencemåned", fmt.period(ctx.month)),
        ("Udtræksdato", extract),
        ("Datafingeraftryk", fingerprint),
        ("Kodeversion", code_version),
        ("Renderet med", renderer),
        ("Kørselstidspunkt", f"{fmt.date(ts)} {fmt.time_of_day(ts)}"),
    ]
    if ctx.overrides:
        rows.append(("Ændrede parametre", ", ".join(escape.text(o) for o in ctx.overrides)))  # typed by a user
    lines = ["## Kolofon {.unnumbered}", ""] + [f"- **{label}:** {value}" for label, value in rows]
    return "\n".join(lines) + "\n"
