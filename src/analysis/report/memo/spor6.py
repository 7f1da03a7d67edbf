"""Spor 6, involvement and cooperation: the analysts' status text only; the indicator table holds no figure
for it yet, so page 1 quotes the text's first sentence."""
from __future__ import annotations

from analysis.report.memo import Memo


def show(memo: Memo) -> None:
    memo.show_status(6)
