"""The status memo, one module per section, in the order the memo prints them.

``overview`` (title and page 1), ``system`` (Systemoverblik), ``spor1`` … ``spor7`` and
``appendix`` (»Sådan læses tallene«) each expose ``show(memo)``, the one call the notebook
``reports/status_memo.ipynb`` makes for that section: the analysts' status text first, then the
section's tables, charts and alt texts. Every figure is read through
:class:`analysis.report.published.Figures`. How to add a section: docs/contributing.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.context import PUBLISHED_TABLE, RunContext
from analysis.indicators.catalogue import load_catalogue
from analysis.params import Params
from analysis.report import narrative
from analysis.report import show as out
from analysis.report.published import Figures


@dataclass(frozen=True)
class Memo:
    """What the sections read: the run, the published figures and, for the memo itself, the analysts'
    status file and the shelter register (names and ownership). The retention and forecast steps show
    their memo section from their own figures, without a status file."""

    ctx: RunContext
    figures: Figures
    texts: narrative.StatusTexts | None = None
    status_month: pd.Period | None = None
    shelters: pd.DataFrame | None = None

    @property
    def params(self) -> Params:
        return self.ctx.params

    @property
    def min_count(self) -> int:
        return self.figures.min_count

    def show_status(self, track: int) -> None:
        """Show the analysts' text of a track with its figures filled in (a step's preview has none)."""
        if self.texts is not None:
            out.md(self.texts.markdown(track))


def of_step(ctx: RunContext, indicators: pd.DataFrame) -> Memo:
    """A step's own (unpublished) indicators as a memo without status texts, to preview its section."""
    return Memo(ctx, Figures(indicators, ctx.month, int(ctx.params["disclosure.min_count"])))


def load(ctx: RunContext) -> Memo:
    """The memo's inputs for the run's reference month: the published table, the status file, the register."""
    min_count = int(ctx.params["disclosure.min_count"])
    table = pd.read_parquet(ctx.build_dir / PUBLISHED_TABLE)  # the memo is never rendered without it
    status, status_month, _ = narrative.load_status(ctx.raw_dir, ctx.month)
    texts = narrative.StatusTexts(status, table, ctx.month, min_count, load_catalogue())
    return Memo(ctx, Figures(table, ctx.month, min_count), texts, status_month,
                pd.read_parquet(ctx.month_dir / "shelters.parquet"))
