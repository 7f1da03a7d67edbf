"""The memo's closing pages: »Sådan læses tallene« in plain Danish, and the data-quality table the
technical appendix prints beside the memo."""
from __future__ import annotations

from importlib import resources

import pandas as pd
import yaml

from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import Figures


def plain_definitions(min_count: int) -> str:
    """The definitions a reader needs, in plain Danish, grouped by track."""
    entries = yaml.safe_load(resources.files("analysis.report").joinpath("texts/definitions_da.yml").read_text("utf-8"))
    body = "\n".join(f"**{e['titel']}.** {e['tekst'].format(min_count=min_count)}\n" for e in entries)
    return f"::: {{.definitions}}\n{body}\n:::\n"  # a class the print style sets in two columns


def quality_table(figs: Figures) -> pd.DataFrame:
    """Rows read, accepted and quarantined per extract in the reference month."""
    extracts = sorted(figs.cells("rows_read")["breakdown"])
    return pd.DataFrame([{"Udtræk": e, "Rækker indlæst": figs.text("rows_read", e),
                          "Godkendt": figs.text("rows_clean", e), "I karantæne": figs.text("rows_quarantined", e)}
                         for e in extracts])


def show(memo: Memo) -> None:
    out.md(plain_definitions(memo.min_count))
