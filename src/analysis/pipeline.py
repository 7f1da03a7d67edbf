"""The monthly run: step graph, cache keys, build folder and atomic publishing.

Each step is a notebook executed by papermill (design decision 2) into the
month's build folder. A step is reused when its cache key (inputs' content
fingerprints, code version, notebook, parameters, reference month) matches the
manifest *and* its recorded outputs are still intact; otherwise it reruns,
together with everything downstream. Reports are published only after every
step succeeded and every rendered file passed its checks, by swapping one
symlink, so a failed or interrupted run never replaces a good report.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal

import papermill

from analysis.context import RunContext, project_root
from analysis.fingerprint import code_version, combine, file_sha256, files_fingerprint

log = logging.getLogger(__name__)

Scope = Literal["extract", "month"]


class PipelineError(RuntimeError):
    """A run that cannot complete; ``exit_code`` tells a scheduler what kind of failure."""

    exit_code = 6


class MissingExtract(PipelineError):
    exit_code = 3


class BadData(PipelineError):
    exit_code = 4


class RenderFailure(PipelineError):
    exit_code = 5


class RunLocked(PipelineError):
    exit_code = 7


EXIT_CODES = {
    0: "ok: reports built (or already current) and published",
    2: "usage: bad command-line arguments or parameters",
    3: "missing extract: a required raw file or udtraek.yml is absent; previous reports stand",
    4: "bad data: an extract broke a structural rule or reconciliation failed; previous reports stand",
    5: "render failure: a report could not be rendered or failed its checks; previous reports stand",
    6: "step failure: a notebook failed for another reason; previous reports stand",
    7: "locked: another run of the same month is in progress",
}

# Exceptions raised inside notebooks arrive as papermill errors carrying the class
# name only; these names (defined in analysis.ingest / analysis.report.render)
# decide the exit code.
_ENAME_CLASS: dict[str, type[PipelineError]] = {
    "MissingExtractError": MissingExtract,
    "SchemaError": BadData,
    "IngestError": BadData,
    "ReconciliationError": BadData,
    "EncodingError": BadData,
    "RenderError": RenderFailure,
}


@dataclass(frozen=True)
class Step:
    """One node of the step graph."""

    name: str
    notebook: str  # relative to the project root
    needs: tuple[str, ...] = ()
    scope: Scope = "month"
    outputs: tuple[str, ...] = ()  # globs; {processed}, {month_dir} and {build} are substituted
    report: str | None = None  # rendered document name, for report steps
    formats: tuple[str, ...] = ()
    reads_status: bool = False  # the analysts' narrative YAML is an input


STEPS: tuple[Step, ...] = (
    Step("ingest", "notebooks/10_ingest.ipynb", scope="extract",
         outputs=("{processed}/*.parquet", "{processed}/quality.json")),
    Step("clean", "notebooks/20_clean.ipynb", ("ingest",), outputs=("{month_dir}/*.parquet",)),
    Step("indicators", "notebooks/30_indicators.ipynb", ("clean",), outputs=("{build}/indicators/core.parquet",)),
    Step("retention", "notebooks/40_retention_payment.ipynb", ("clean",),
         outputs=("{build}/indicators/retention.parquet", "{build}/retention/*")),
    Step("forecast", "notebooks/50_forecast.ipynb", ("clean",),
         outputs=("{build}/indicators/forecast.parquet", "{build}/forecast/*")),
    Step("assemble", "", ("indicators", "retention", "forecast"),
         outputs=("{build}/indicators/unsuppressed.parquet", "{build}/indicators/published.parquet")),
    Step("data_quality", "reports/data_quality.ipynb", ("clean",), outputs=("{build}/out/data_quality.html",),
         report="data_quality", formats=("html",)),
    Step("status_memo", "reports/status_memo.ipynb", ("assemble",), reads_status=True,
         outputs=("{build}/out/status_memo.html", "{build}/out/status_memo.docx"),
         report="status_memo", formats=("html", "docx")),
    Step("capacity_forecast", "reports/capacity_forecast.ipynb", ("assemble",),
         outputs=("{build}/out/capacity_forecast.html",), report="capacity_forecast", formats=("html",)),
)


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
class StepResult:
    name: str
    status: Literal["ran", "reused"]
    reason: str
    key: str
    seconds: float
    outputs: dict[str, str]


@dataclass
class RunResult:
    month: str
    published: Path | None
    steps: list[StepResult]
    log_file: Path
    summary: str


def _utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """Exclusive non-blocking lock; a second run of the same month stops at once instead of waiting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{what} is already running (lock {path})") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
        self.step_by_name = {s.name: s for s in steps}
        self.required_extracts = required_extracts
        abs_ = lambda p: p if p.is_absolute() else self.root / p  # noqa: E731
        self.raw = abs_(cfg.raw_dir)
        self.processed = abs_(cfg.processed_dir)
        self.reports = abs_(cfg.reports_dir)
        self.ctx = RunContext.from_parameters(
            cfg.month, str(self.raw), str(self.processed), str(abs_(cfg.build_root) / "_tmp"),
            cfg.param_overrides, cfg.params_files,
        )
        self.month = self.ctx.month_label
        self.build = abs_(cfg.build_root) / self.month
        self.build.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(abs_(cfg.build_root) / "_tmp", ignore_errors=True)
        self.manifest_path = self.build / "manifest.json"
        self.ingest_manifest_path = self.processed / "_manifest.json"
        self.code = code_version()
        self.results: dict[str, StepResult] = {}

    # ----- fingerprints and keys -------------------------------------------------
    def _raw_fingerprint(self) -> dict[str, str]:
        files = [p for p in self.raw.iterdir() if p.is_file() and not p.name.startswith(".")]
        return files_fingerprint(files, self.raw)

    def _status_fingerprint(self) -> dict[str, str]:
        status = self.raw / "status"
        return files_fingerprint(status.glob("*.yml"), self.raw) if status.exists() else {}

    def _expand(self, pattern: str) -> str:
        return pattern.format(processed=self.processed, month_dir=self.ctx.month_dir, build=self.build)

    def _outputs(self, step: Step) -> dict[str, str]:
        files: list[Path] = []
        for pattern in step.outputs:
            expanded = Path(self._expand(pattern))
            files.extend(p for p in expanded.parent.glob(expanded.name) if p.is_file())
        return {str(p.relative_to(self.root) if p.is_relative_to(self.root) else p): file_sha256(p) for p in sorted(set(files))}

    def _key(self, step: Step) -> str:
        nb = file_sha256(self.root / step.notebook) if step.notebook else ""
        upstream = {n: self.results[n].outputs for n in step.needs}
        if step.scope == "extract":
            return combine(step.name, nb, self.code, self._raw_fingerprint())
        status = self._status_fingerprint() if step.reads_status else {}
        return combine(step.name, nb, self.code, self.ctx.params.fingerprint(), self.month, upstream, status)

    def _recorded(self, step: Step) -> dict:
        book = _read_json(self.ingest_manifest_path if step.scope == "extract" else self.manifest_path)
        return book.get("steps", {}).get(step.name, {})

    def _record(self, result: StepResult, scope: Scope) -> None:
        path = self.ingest_manifest_path if scope == "extract" else self.manifest_path
        book = _read_json(path)
        book.setdefault("steps", {})[result.name] = {
            "key": result.key, "outputs": result.outputs, "reason": result.reason,
            "seconds": round(result.seconds, 2), "finished": _utc_stamp(),
        }
        book.update({"month": self.month, "code_version": self.code})
        _write_json_atomic(path, book)

    def _why_rerun(self, step: Step, key: str) -> str | None:
        """None when the step can be reused, else the reason it must run."""
        if self.cfg.force:
            return "forced (--force)"
        if self.cfg.only and step.name in self.cfg.only:
            return "requested (--only)"
        rec = self._recorded(step)
        if not rec:
            return "first run"
        if rec.get("key") != key:
            return "inputs changed"
        now = self._outputs(step)
        if not now or now != rec.get("outputs"):
            return "outputs missing or altered since last run"
        return None

    # ----- execution ---------------------------------------------------------------
    def _nb_parameters(self) -> dict:
        return {
            "month": self.month, "raw_dir": str(self.raw), "processed_dir": str(self.processed),
            "build_dir": str(self.build), "param_overrides": list(self.cfg.param_overrides),
            "params_files": [str(self.root / f) for f in self.cfg.params_files],
        }

    def _execute(self, step: Step) -> None:
        if step.name == "assemble":
            self._assemble()
            return
        work = self.build / "work" / step.name
        work.mkdir(parents=True, exist_ok=True)
        executed = work / f"{step.name}.ipynb"
        try:
            papermill.execute_notebook(
                str(self.root / step.notebook), str(executed), parameters=self._nb_parameters(),
                kernel_name="python3", cwd=str(work), progress_bar=False, log_output=False,
                report_mode=step.report is not None,
            )
        except papermill.PapermillExecutionError as exc:
            cls = _ENAME_CLASS.get(exc.ename, PipelineError)
            raise cls(f"step '{step.name}' failed in {step.notebook}: {exc.ename}: {exc.evalue} "
                      f"(executed notebook: {executed})") from None
        if step.report:
            self._render(step, executed)

    def _render(self, step: Step, executed: Path) -> None:
        from analysis.report.render import check_html, render_report

        out = self.build / "out"
        try:
            result = render_report(executed, out, formats=step.formats)
        except Exception as exc:  # noqa: BLE001 - any renderer failure is a render failure
            raise RenderFailure(f"rendering {step.report} failed: {exc}") from exc
        log.info("rendered %s with %s", step.report, result.renderer)
        problems = check_html(result.files["html"])
        if problems:
            raise RenderFailure(f"{step.report}.html failed its checks: {'; '.join(problems)}")

    def _assemble(self) -> None:
        """Union the steps' indicator rows and apply suppression (the one published table)."""
        import pandas as pd

        from analysis.indicators.build import assemble
        from analysis.indicators.catalogue import load_catalogue

        folder = self.build / "indicators"
        frames = [pd.read_parquet(folder / f"{n}.parquet") for n in ("core", "retention", "forecast")]
        full, published = assemble(frames, load_catalogue(), self.ctx.params)
        full.to_parquet(folder / "unsuppressed.parquet", index=False)
        published.to_parquet(folder / "published.parquet", index=False)

    def _run_step(self, step: Step) -> StepResult:
        key = self._key(step)
        reason = self._why_rerun(step, key)
        if reason is None:
            rec = self._recorded(step)
            log.info("step %-18s reused (inputs unchanged)", step.name)
            return StepResult(step.name, "reused", "inputs unchanged", key, 0.0, rec["outputs"])
        log.info("step %-18s running (%s)", step.name, reason)
        started = time.perf_counter()
        self._execute(step)
        result = StepResult(step.name, "ran", reason, key, time.perf_counter() - started, self._outputs(step))
        self._record(result, step.scope)
        log.info("step %-18s done in %.1f s", step.name, result.seconds)
        return result

    def _schedule(self) -> None:
        """Run steps as their dependencies finish, up to ``jobs`` at once."""
        pending = {s.name: s for s in self.steps}
        running: dict[Future, Step] = {}
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=max(1, self.cfg.jobs)) as pool:
            while pending or running:
                if failure is None:
                    ready = [s for s in pending.values() if all(n in self.results for n in s.needs)]
                    for step in ready:
                        del pending[step.name]
                        running[pool.submit(self._run_step_locked, step)] = step
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    step = running.pop(fut)
                    try:
                        self.results[step.name] = fut.result()
                    except BaseException as exc:  # noqa: BLE001 - first failure wins, the rest finish
                        failure = failure or exc
        if failure is not None:
            raise failure

    def _run_step_locked(self, step: Step) -> StepResult:
        if step.scope == "extract":  # processed/ is shared by all months
            with file_lock(self.processed / ".ingest.lock", "ingest of the extract"):
                return self._run_step(step)
        return self._run_step(step)

    # ----- publishing --------------------------------------------------------------
    def _publish(self) -> Path:
        """Copy the month's outputs into a new version folder and swap the symlink to it."""
        import pandas as pd

        versions = self.reports / ".versions" / self.month
        stamp = _utc_stamp()
        staging = versions / f".staging-{stamp}"
        staging.mkdir(parents=True, exist_ok=True)
        for f in sorted((self.build / "out").glob("*")):
            if f.suffix in {".html", ".docx"}:
                shutil.copy2(f, staging / f.name)
        table = self.build / "indicators" / "published.parquet"
        if table.exists():  # only the suppressed table is ever published
            published = pd.read_parquet(table)
            published.to_parquet(staging / "indicators.parquet", index=False)
            published.to_csv(staging / "indicators.csv", index=False, encoding="utf-8")
        shutil.copy2(self.manifest_path, staging / "manifest.json")
        final = versions / stamp
        os.replace(staging, final)
        link = self.reports / self.month
        if link.exists() and not link.is_symlink():
            # A plain folder from elsewhere is archived, never overwritten silently.
            os.replace(link, versions / f"archived-{stamp}")
        tmp_link = self.reports / f".{self.month}.link{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(final.relative_to(self.reports))
        os.replace(tmp_link, link)
        if self.cfg.publish_dir:
            self._copy_to_share(final)
        return link

    def _copy_to_share(self, folder: Path) -> None:
        """Each file lands complete (temp name, then rename) in the shared folder's month folder."""
        target = self.cfg.publish_dir / self.month
        target.mkdir(parents=True, exist_ok=True)
        for f in folder.iterdir():
            tmp = target / f".{f.name}.part"
            shutil.copy2(f, tmp)
            os.replace(tmp, target / f.name)

    def _current_published_key(self) -> str | None:
        link = self.reports / self.month
        return _read_json(link / "manifest.json").get("publish_key") if link.exists() else None

    def run(self) -> RunResult:
        log_dir = self.cfg.log_dir if self.cfg.log_dir.is_absolute() else self.root / self.cfg.log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / f"run-{self.month}-{_utc_stamp()}.log"
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("analysis").addHandler(handler)
        try:
            with file_lock(self.reports / ".locks" / f"{self.month}.lock", f"a run of {self.month}"):
                log.info("run of %s (code %s, extract date %s from %s)", self.month, self.code,
                         self.ctx.extract_date.date(), self.ctx.extract_date_source)
                self._preflight()
                self._schedule()
                publish_key = combine({n: r.outputs for n, r in self.results.items() if self.step_by_name[n].report})
                book = _read_json(self.manifest_path)
                book["publish_key"] = publish_key
                _write_json_atomic(self.manifest_path, book)
                if self._current_published_key() == publish_key:
                    published = self.reports / self.month
                    log.info("reports unchanged; %s is already current", published)
                else:
                    published = self._publish()
                    log.info("published %s", published)
            steps = [self.results[s.name] for s in self.steps]
            summary = run_summary(self.month, steps, published, self.ctx)
            return RunResult(self.month, published, steps, log_file, summary)
        finally:
            logging.getLogger("analysis").removeHandler(handler)
            handler.close()

    def _preflight(self) -> None:
        """Fail fast, before any kernel starts, when the delivery is incomplete."""
        if self.required_extracts is None:
            from analysis.ingest.schemas import EXTRACTS

            self.required_extracts = tuple(EXTRACTS)
        missing = [name for name in self.required_extracts if not any((self.raw / f"{name}{ext}").exists() for ext in (".csv", ".xlsx"))]
        if missing:
            raise MissingExtract(f"{self.raw}: missing extract(s): {', '.join(missing)} (expected <name>.csv or <name>.xlsx)")


def run_summary(month: str, steps: list[StepResult], published: Path | None, ctx: RunContext) -> str:
    """A few lines for the scheduler's e-mail: what ran, what was reused, where the reports are."""
    ran = [s.name for s in steps if s.status == "ran"]
    reused = [s.name for s in steps if s.status == "reused"]
    lines = [
        f"Monthly run {month}: OK",
        f"Extract date: {ctx.extract_date.date()} ({ctx.extract_date_source})",
        f"Steps run: {', '.join(ran) or 'none'}",
        f"Steps reused: {', '.join(reused) or 'none'}",
        f"Reports: {published}",
    ]
    return "\n".join(lines)


def run_month(cfg: RunConfig) -> RunResult:
    return Runner(cfg).run()
