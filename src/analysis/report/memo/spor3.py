"""Spor 3, housing support: active, started and ended support courses by method, and who provides them."""
from __future__ import annotations

import pandas as pd

from analysis.base import fmt
from analysis.report import show as out
from analysis.report.budget import SUPPORT_DA
from analysis.report.memo import Memo
from analysis.report.published import Figures

METHOD_DA = {**SUPPORT_DA, "": "I alt"}


def support_table(figs: Figures) -> pd.DataFrame:
    return pd.DataFrame([{"Metode": label, "Aktive ultimo": figs.text("support_active", b),
                          "Startet i måneden": figs.text("support_started", b),
                          "Afsluttet i måneden": figs.text("support_ended", b)}
                         for b, label in METHOD_DA.items()])


def support_provider_text(figs: Figures) -> str:
    """Active support courses by provider in a sentence (a table of four numbers said no more)."""
    plural = {"kommunal": "kommunale", "selvejende": "selvejende", "privat": "private"}
    parts = [f"{figs.text('support_active_by_provider', b)} af {plural[b]}" for b in plural]
    return (f"Af de {figs.text('support_active_by_provider')} aktive bostøtteforløb ved månedens udgang leveres "
            f"{', '.join(parts[:-1])} og {parts[-1]} leverandører.\n")


def show(memo: Memo) -> None:
    figs = memo.figures
    memo.show_status(3)
    out.table(support_table(figs), caption=f"Bostøtteforløb efter metode, {fmt.period(figs.month)}")
    out.md(support_provider_text(figs))
