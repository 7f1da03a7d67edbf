"""The step graph: what each step runs, needs, writes and renders.

A step is a notebook (executed by papermill in its own kernel) or a function
the runner calls in its own process. Indicator steps (``indicators=True``)
write their rows to ``INDICATOR_FILE`` under their own name; the assemble step
unions the rows of the steps it needs. Each file name is spelled once, in
``analysis.context``, for the runner, the step modules and the notebooks alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from analysis.context import INDICATOR_FILE, PUBLISHED_TABLE, UNSUPPRESSED_TABLE, RunContext, indicator_file

Scope = Literal["extract", "month"]


@dataclass(frozen=True)
class Step:
    """One node of the step graph."""

    name: str
    notebook: str = ""  # relative to the project root; empty for a step run in the runner's process (``function``)
    needs: tuple[str, ...] = ()
    scope: Scope = "month"
    outputs: tuple[str, ...] = ()  # globs; {processed}, {month_dir} and {build} are substituted
    report: str | None = None  # rendered document name, for report steps
    formats: tuple[str, ...] = ()
    reads_status: bool = False  # the analysts' narrative YAML is an input
    indicators: bool = False  # writes indicator rows to INDICATOR_FILE under its name (an output like the others)
    function: Callable[[RunContext, Step], None] | None = None  # run in the runner's process instead of a notebook

    @property
    def patterns(self) -> tuple[str, ...]:
        """Every output the step declares, its indicator rows included."""
        rows = ("{build}/" + INDICATOR_FILE.format(step=self.name),) if self.indicators else ()
        return rows + self.outputs


@dataclass
class StepResult:
    name: str
    status: Literal["ran", "reused"]
    reason: str  # "first run", "inputs changed: code, upstream clean", "outputs missing or altered …", …
    key: str
    seconds: float
    outputs: dict[str, str]
    inputs: dict[str, str] = field(default_factory=dict)  # digest per input (see keys.CacheKeys.inputs)


def assemble(ctx: RunContext, step: Step) -> None:
    """Union the indicator rows of the steps it needs and apply suppression (the one published table)."""
    import pandas as pd

    from analysis.indicators.build import assemble as union_and_suppress
    from analysis.indicators.catalogue import load_catalogue

    frames = [pd.read_parquet(indicator_file(ctx.build_dir, name)) for name in step.needs]
    full, published = union_and_suppress(frames, load_catalogue(), ctx.params)
    full.to_parquet(ctx.build_dir / UNSUPPRESSED_TABLE, index=False)
    published.to_parquet(ctx.build_dir / PUBLISHED_TABLE, index=False)


STEPS: tuple[Step, ...] = (
    Step("ingest", "notebooks/10_ingest.ipynb", scope="extract",
         outputs=("{processed}/*.parquet", "{processed}/quality.json")),
    Step("clean", "notebooks/20_clean.ipynb", ("ingest",), outputs=("{month_dir}/*.parquet",)),
    # The data-quality report is about the extract (what ingest read, quarantined and could not map), so it
    # runs beside clean, on the core that would otherwise wait, not among the reports at the end.
    Step("data_quality", "reports/data_quality.ipynb", ("ingest",), outputs=("{build}/out/data_quality.html",),
         report="data_quality", formats=("html",)),
    # The forecast, the longest analysis, leads among equals: a cold run (no timings yet) starts it first.
    Step("forecast", "notebooks/50_forecast.ipynb", ("clean",), indicators=True, outputs=("{build}/forecast/*",)),
    Step("indicators", "notebooks/30_indicators.ipynb", ("clean",), indicators=True),
    Step("retention", "notebooks/40_retention_payment.ipynb", ("clean",), indicators=True,
         outputs=("{build}/retention/*",)),
    Step("assemble", needs=("indicators", "retention", "forecast"), function=assemble,
         outputs=("{build}/" + UNSUPPRESSED_TABLE, "{build}/" + PUBLISHED_TABLE)),
    Step("status_memo", "reports/status_memo.ipynb", ("assemble",), reads_status=True,
         outputs=("{build}/out/status_memo.html", "{build}/out/status_memo.docx"),
         report="status_memo", formats=("html", "docx")),
    Step("capacity_forecast", "reports/capacity_forecast.ipynb", ("assemble",),
         outputs=("{build}/out/capacity_forecast.html",), report="capacity_forecast", formats=("html",)),
    # The analysts' document beside the two management reports: catalogue, parameters, method notes.
    Step("technical_appendix", "reports/technical_appendix.ipynb", ("assemble",),
         outputs=("{build}/out/technical_appendix.html",), report="technical_appendix", formats=("html",)),
)
