"""One month's run: the steps in order, the checks before publishing, the run log and the scheduler's summary."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from analysis import cpr
from analysis.context import PUBLISHED_TABLE, RunContext, project_root
from analysis.failures import RunFailure
from analysis.fingerprint import code_version, combine
from analysis.months import last_complete_month
from analysis.pipeline.errors import (
    EXIT_CODES, MissingExtract, PipelineError, RenderFailure, ShareStale, StorageFailure, as_pipeline_error, kernel_failure,
)
from analysis.pipeline.files import read_json, utc_stamp
from analysis.pipeline.keys import CacheKeys, Manifest
from analysis.pipeline.publish import Publisher
from analysis.pipeline.schedule import critical_path, file_lock, run_graph
from analysis.pipeline.steps import STEPS, Step, StepResult

log = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """Everything a run needs to know; defaults give the demo run on data/raw."""

    month: str = ""
    raw_dir: Path = Path("data/raw")
    processed_dir: Path = Path("data/processed")
    build_root: Path = Path("build")
    reports_dir: Path = Path("reports")
    publish_dir: Path | None = None
    log_dir: Path = Path("logs")
    param_overrides: list[str] = field(default_factory=list)
    params_files: list[str] = field(default_factory=list)
    force: bool = False
    jobs: int = 2
    only: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """What a run did; ``summary`` is the text for the scheduler's e-mail."""

    month: str
    published: Path | None  # reports/<M>, the month's current reports (None if never published)
    steps: list[StepResult]
    log_file: Path
    summary: str = ""
    published_now: bool = False  # False: the reports were already current (or the run failed)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    share: Path | None = None


class Runner:
    """Executes the step graph for one reference month."""

    def __init__(
        self,
        cfg: RunConfig,
        root: Path | None = None,
        steps: tuple[Step, ...] = STEPS,
        required_extracts: tuple[str, ...] | None = None,
    ):
        self.root = root or project_root()
        self.cfg = cfg
        self.steps = steps
        step_names = [s.name for s in steps]
        unknown = sorted(set(cfg.only) - set(step_names))
        if unknown:  # ValueError: the CLI's usage error (exit 2)
            raise ValueError(f"--only: unknown step(s) {', '.join(unknown)}; steps are {', '.join(step_names)}")
        self.required_extracts = required_extracts
        abs_ = lambda p: p if p.is_absolute() else self.root / p  # noqa: E731
        self.raw = abs_(cfg.raw_dir)
        self.processed = abs_(cfg.processed_dir)
        self.reports = abs_(cfg.reports_dir)
        self.share = abs_(cfg.publish_dir) if cfg.publish_dir else None
        self.log_dir = abs_(cfg.log_dir)
        self.ctx = RunContext.from_parameters(
            cfg.month, str(self.raw), str(self.processed), "", cfg.param_overrides, cfg.params_files,
            build_root=str(abs_(cfg.build_root)),
        )
        self.month = self.ctx.month_label
        self.build = self.ctx.build_dir
        self.manifest_path = self.build / "manifest.json"
        self.code = code_version()
        self.results: dict[str, StepResult] = {}
        self.manifest = Manifest(self.manifest_path, self.processed / "_manifest.json", self.month, self.code)
        self.keys = CacheKeys(self.root, self.ctx, self.code, self.manifest, cfg.force, frozenset(cfg.only))
        self.publisher = Publisher(self.root, self.build, self.reports, self.month, self.manifest_path)

    # ----- the run -----------------------------------------------------------------
    def run(self) -> RunResult:
        """Run the graph, publish if the reports changed, and tell the log, the manifest and the summary.

        A PipelineError leaves the published reports as they were and carries the
        failure summary in its ``summary`` attribute.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        result = RunResult(self.month, None, [], self.log_dir / f"run-{self.month}-{utc_stamp()}.log")
        started = time.perf_counter()
        try:
            with _run_log(result.log_file) as warnings:
                with file_lock(self.reports / ".locks" / f"{self.month}.lock", f"a run of {self.month}"):
                    try:
                        self._run_locked(result)
                    except RunFailure as exc:  # a domain failure raised in this process ends the run the same way
                        error = as_pipeline_error(exc)
                        self._record_run(outcome=f"failed (exit {error.exit_code}): {error}", finished=utc_stamp())
                        if error is exc:
                            raise
                        raise error from None
        except PipelineError as exc:
            link = self.reports / self.month
            result.published = link if link.exists() else None
            exc.summary = self._finish(result, started, warnings, exc)
            raise
        self._finish(result, started, warnings)
        return result

    def _record_run(self, publish_key: str | None = None, **facts: object) -> None:
        self.manifest.record_run(self.results, publish_key, **facts)

    def _run_locked(self, result: RunResult) -> None:
        log.info("run of %s (code %s, extract date %s from %s)", self.month, self.code,
                 self.ctx.extract_date.date(), self.ctx.extract_date_source)
        self._check_freshness()
        self._preflight()
        self._record_run(started=utc_stamp(), outcome="running")
        self._schedule()
        self._check_quality()
        self._check_key_figures()
        files = self.publisher.published_files(self.results)
        key = combine({p.name: sha for p, sha in files.items()})
        self._record_run(publish_key=key)
        link = self.reports / self.month
        if self.publisher.current_key() == key:
            log.info("reports unchanged; %s is already current", link)
        else:
            try:
                self.publisher.publish(files)
            except OSError as exc:  # the staging folder is swept by the next run; reports/<M> is untouched
                raise StorageFailure(f"could not write the new version under {self.reports / '.versions' / self.month}: "
                                     f"{exc.strerror or type(exc).__name__}; the previous reports stand") from None
            result.published_now = True
            log.info("published %s -> %s", link, os.readlink(link))
        result.published = link
        if self.share:
            try:
                result.share = self.publisher.copy_to_share(self.share, link.resolve(), key)
            except OSError as exc:  # the reports are published locally; the next run completes the copy
                raise ShareStale(f"the shared folder {self.share / self.month} could not be updated "
                                 f"({exc.strerror or type(exc).__name__}); it still shows the previous version, "
                                 "and the next run tries again") from None
        self._record_run(outcome="ok", finished=utc_stamp(), published=str(link.resolve()))

    def _finish(self, result: RunResult, started: float, warnings: list[str], error: PipelineError | None = None) -> str:
        result.seconds = time.perf_counter() - started
        result.steps = [self.results[s.name] for s in self.steps if s.name in self.results]
        result.warnings = warnings
        result.summary = run_summary(result, self.ctx, error)
        with open(result.log_file, "a", encoding="utf-8") as fh:
            fh.write(result.summary + "\n")
        return result.summary

    # ----- the steps ---------------------------------------------------------------
    def _critical_path(self) -> dict[str, float]:
        """Per step, its longest chain to the end of the run by the last run's timings (1 s where unknown)."""
        return critical_path(self.steps, lambda step: self.manifest.recorded(step).get("seconds") or 1.0)

    def _schedule(self) -> None:
        run_graph(self.steps, self.cfg.jobs, self._critical_path(), self._run_step_locked, self.results)

    def _run_step_locked(self, step: Step) -> StepResult:
        try:
            if step.scope == "extract":  # processed/ is shared by all months
                with file_lock(self.processed / ".ingest.lock", "ingest of the extract", wait=True):
                    return self._run_step(step)
            return self._run_step(step)
        except PipelineError:
            raise
        except RunFailure as exc:  # a step run in this process (Step.function) keeps its failure's exit code
            raise as_pipeline_error(exc) from None
        except Exception as exc:  # noqa: BLE001 - a dead kernel, a missing notebook: still a step failure (exit 6)
            raise PipelineError(f"step '{step.name}' could not run: {type(exc).__name__}: {exc}") from exc

    def _run_step(self, step: Step) -> StepResult:
        inputs = self.keys.inputs(step, self.results)
        key = combine(step.name, inputs)
        reason = self.keys.why_rerun(step, key, inputs)
        if reason is None:
            rec = self.manifest.recorded(step)
            log.info("step %-18s reused (inputs unchanged)", step.name)
            return StepResult(step.name, "reused", "inputs unchanged", key, 0.0, rec["outputs"], inputs)
        log.info("step %-18s running (%s)", step.name, reason)
        started = time.perf_counter()
        self._execute(step)
        result = StepResult(step.name, "ran", reason, key, time.perf_counter() - started, self.keys.outputs(step), inputs)
        self.manifest.record(result, step.scope)
        log.info("step %-18s done in %.1f s", step.name, result.seconds)
        return result

    def _nb_parameters(self) -> dict:
        """The values for every notebook's ``parameters`` cell.

        Parameter files and ``--param`` overrides are resolved once, here, and
        passed as ``key=value`` overrides (JSON is YAML): the notebooks have no
        ``params_files`` parameter, and each step must see the values its cache key holds.
        """
        params = self.ctx.params
        overrides = [f"{key}={json.dumps(params[key], default=str)}" for key in sorted(params.overridden)]
        return {
            "month": self.month, "raw_dir": str(self.raw), "processed_dir": str(self.processed),
            "build_dir": str(self.build), "param_overrides": overrides,
        }

    def _execute(self, step: Step) -> None:
        if step.function is not None:
            step.function(self.ctx, step)
            return
        from analysis import notebook_run  # here, not at the top: papermill costs a warm rerun more than the rest

        work = self.build / "work" / step.name
        work.mkdir(parents=True, exist_ok=True)
        executed = work / f"{step.name}.ipynb"
        executed.unlink(missing_ok=True)  # so that only this execution's warnings are read back
        try:
            notebook_run.execute(self.root / step.notebook, executed, self._nb_parameters(), work,
                                 report=step.report is not None)
        except notebook_run.PapermillExecutionError as exc:
            raise kernel_failure(exc.ename, exc.evalue, f"step '{step.name}' failed in {step.notebook} "
                                                        f"(executed notebook: {executed})") from None
        finally:  # the kernel's warnings, also those it gave before failing, reach the run log and the summary
            for warning in notebook_run.kernel_warnings(executed):
                log.warning("step %s: %s", step.name, warning)
        if step.report:
            self._render(step, executed)
        if step.patterns and not self.keys.outputs(step):
            log.warning("step %s wrote none of its declared outputs (%s); it will run again next time",
                        step.name, ", ".join(step.patterns))

    def _render(self, step: Step, executed: Path) -> None:
        from analysis.report.render import render_report

        out = self.build / "out"
        try:
            result = render_report(executed, out, formats=step.formats)
        except Exception as exc:  # noqa: BLE001 - any renderer failure is a render failure
            raise RenderFailure(f"rendering {step.report} failed: {exc}") from exc
        log.info("rendered %s with %s", step.report, result.renderer)
        if result.problems:  # render_report checked every format it wrote
            raise RenderFailure(f"{step.report} failed its checks: {'; '.join(result.problems)}")

    # ----- checks before and after the steps ------------------------------------------
    def _preflight(self) -> None:
        """Fail fast, before any kernel starts, when the delivery is incomplete."""
        if self.required_extracts is None:
            from analysis.ingest.schemas import EXTRACTS

            self.required_extracts = tuple(EXTRACTS)
        missing = [name for name in self.required_extracts if not any((self.raw / f"{name}{ext}").exists() for ext in (".csv", ".xlsx"))]
        if missing:
            raise MissingExtract(f"{self.raw}: missing extract(s): {', '.join(missing)} (expected <name>.csv or <name>.xlsx)")
        self._check_narrative()

    def _check_narrative(self) -> None:
        """The status file the memo will print, checked before any kernel starts (CPR numbers, unsafe Markdown)."""
        if not any(s.reads_status for s in self.steps):
            return
        from analysis.report.narrative import check_status_file, status_file

        try:
            path, _ = status_file(self.raw, self.ctx.month)
        except FileNotFoundError:
            return  # the memo step says which file is missing
        check_status_file(path)

    def _check_freshness(self) -> None:
        """Late data: when the default month is older than the last complete month, the e-mail should say so."""
        expected = last_complete_month(datetime.now().date())
        if not self.cfg.month and self.ctx.month < expected:
            log.warning("the extract is dated %s, so the reference month is %s, not %s: the new delivery may be late",
                        self.ctx.extract_date.date(), self.month, expected)

    def _previous_published(self) -> tuple[str, Path] | None:
        """The latest month before M with a published indicator table."""
        months = sorted(p.name for p in self.reports.glob("????-??")
                        if p.name < self.month and (p / "indicators.parquet").is_file()) if self.reports.exists() else []
        return (months[-1], self.reports / months[-1] / "indicators.parquet") if months else None

    def _check_key_figures(self) -> None:
        """The last gate before publishing: key figures against the previous published month (exit 4 unless the
        analysts acknowledged the change for M in godkendelser.yml beside the extract)."""
        table, previous = self.build / PUBLISHED_TABLE, self._previous_published()
        if not table.is_file() or previous is None:
            return
        import pandas as pd

        from analysis.ingest.plausibility import Acknowledgements, gate, key_figure_findings

        findings = key_figure_findings(pd.read_parquet(table), self.month, pd.read_parquet(previous[1]), previous[0],
                                       self.ctx.params)
        gate(findings, Acknowledgements.load(self.raw), self.month)

    def _check_quality(self) -> None:
        quality = read_json(self.processed / "quality.json")
        for check, reason in quality.get("acknowledged", {}).items():  # ingest's own warning stays in its kernel
            log.warning("%s acknowledged in godkendelser.yml: %s", check, reason)
        extracts = quality.get("extracts", {})
        quarantined = sum(e.get("rows_quarantined", 0) for e in extracts.values())
        if quarantined:
            log.warning("%d rows of the extract are in quarantine; the data-quality report lists them", quarantined)


class _Warnings(logging.Handler):
    """Keeps the run's warnings for the summary e-mail, CPR-shaped numbers masked as in the log file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(cpr.mask(record.getMessage()))


@contextmanager
def _run_log(log_file: Path) -> Iterator[list[str]]:
    """The package's log lines (INFO and up, whatever the caller configured) go to the run's own file."""
    logger = logging.getLogger("analysis")
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(cpr.MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    warnings = _Warnings()
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.addHandler(warnings)
    try:
        yield warnings.messages
    except PipelineError:
        raise
    except Exception:  # the traceback goes to the run's log file only: stderr gets the one-line summary
        handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, "the run crashed", (), sys.exc_info()))
        raise
    finally:
        logger.removeHandler(warnings)
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def run_summary(result: RunResult, ctx: RunContext, error: PipelineError | None = None) -> str:
    """A few lines for the scheduler's e-mail: outcome, data, what ran and why, where the reports are, warnings."""
    if error is None:
        head = "OK, reports published" if result.published_now else "OK, nothing changed; the published reports are current"
    elif isinstance(error, ShareStale):
        head = f"PUBLISHED LOCALLY, SHARED FOLDER STALE (exit {error.exit_code})"
    else:
        head = f"FAILED (exit {error.exit_code}, {EXIT_CODES[error.exit_code].split(':')[0]})"
    lines = [f"Monthly run {result.month}: {head}"]
    if error is not None:
        lines.append(f"Error: {error}")
        if isinstance(error, ShareStale):
            lines.append(f"Reports: {result.published} -> {result.published.resolve()}")
        else:
            lines.append(f"Previous reports stand: {result.published} -> {result.published.resolve()}"
                         if result.published else "No reports have been published for this month yet.")
    ran = [s for s in result.steps if s.status == "ran"]
    reused = [s.name for s in result.steps if s.status == "reused"]
    lines += [
        f"Extract date: {ctx.extract_date.date()} ({ctx.extract_date_source})",
        "Steps run: " + ("; ".join(f"{s.name} ({s.reason}, {s.seconds:.1f} s)" for s in ran) or "none"),
        "Steps reused: " + (", ".join(reused) or "none"),
    ]
    if error is None and result.published:
        lines.append(f"Reports: {result.published} -> {result.published.resolve()}")
    if result.share:
        lines.append(f"Shared folder: {result.share}")
    lines.append(f"Run time: {result.seconds:.1f} s. Log: {result.log_file}")
    if result.warnings:
        lines += ["Warnings:", *(f"  - {w}" for w in result.warnings)]
    return "\n".join(lines)


def run_month(cfg: RunConfig) -> RunResult:
    return Runner(cfg).run()
