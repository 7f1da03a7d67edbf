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
import hashlib
import hmac
import json
import logging
import os
import shutil
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal

from analysis import cpr
from analysis.context import RunContext, project_root
from analysis.fingerprint import code_version, combine, file_sha256, files_fingerprint
from analysis.months import last_complete_month

log = logging.getLogger(__name__)

Scope = Literal["extract", "month"]


class PipelineError(RuntimeError):
    """A run that cannot complete; ``exit_code`` tells a scheduler what kind of failure.

    ``Runner.run`` sets ``summary`` to the failure's e-mail text. The message
    goes to stderr, the run log and the manifest, so anything in it shaped like
    a CPR number is masked (a notebook's error may quote a cell).
    """

    exit_code = 6
    summary = ""

    def __init__(self, message: object = "") -> None:
        super().__init__(cpr.mask(str(message)))


class MissingExtract(PipelineError):
    exit_code = 3


class BadData(PipelineError):
    exit_code = 4


class RenderFailure(PipelineError):
    exit_code = 5


class ConfigurationError(PipelineError):
    exit_code = 2


class RunLocked(PipelineError):
    exit_code = 7


class ShareStale(PipelineError):
    """The reports are published locally, but the shared folder could not be brought up to date."""

    exit_code = 8


class StorageFailure(PipelineError):
    """A folder the runner writes (reports, logs, manifests) is full, read-only or gone."""

    exit_code = 9


EXIT_CODES = {
    0: "ok: reports built (or already current) and published",
    2: "usage or configuration: bad arguments or parameters, or no usable pseudonymisation key",
    3: "missing extract: a required raw file or udtraek.yml is absent; previous reports stand",
    4: "bad data: an extract broke a structural rule or reconciliation failed; previous reports stand",
    5: "render failure: a report could not be rendered or failed its checks; previous reports stand",
    6: "step failure: a notebook failed for another reason; previous reports stand",
    7: "locked: another run of the same month is in progress",
    8: "share stale: reports published locally, but the shared folder could not be written; it still shows the previous version",
    9: "storage: a disk the run writes (reports, logs, manifests) is full or not writable; previous reports stand",
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
    "AmbiguousExtractError": BadData,
    "PseudonymKeyError": ConfigurationError,
    "DeliveryError": BadData,
    "ExtractTooLargeError": BadData,
    "PlausibilityError": BadData,
    "NarrativeError": BadData,
    "RenderError": RenderFailure,
}


def exit_code_for(exc: BaseException) -> int:
    """The table's exit code for any failure that reaches the command line, so none ends in a traceback."""
    from analysis.params import ParameterError

    if isinstance(exc, PipelineError):
        return exc.exit_code
    for cls in type(exc).__mro__:  # the ingest errors, raised in this process (the extract date, say)
        if cls.__name__ in _ENAME_CLASS:
            return _ENAME_CLASS[cls.__name__].exit_code
    if isinstance(exc, (ParameterError, ValueError)):
        return ConfigurationError.exit_code
    if isinstance(exc, OSError):
        return StorageFailure.exit_code
    return PipelineError.exit_code


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
    # The data-quality report is about the extract (what ingest read, quarantined and could not map), so it
    # runs beside clean, on the core that would otherwise wait, not among the reports at the end.
    Step("data_quality", "reports/data_quality.ipynb", ("ingest",), outputs=("{build}/out/data_quality.html",),
         report="data_quality", formats=("html",)),
    # The forecast, the longest analysis, leads among equals: a cold run (no timings yet) starts it first.
    Step("forecast", "notebooks/50_forecast.ipynb", ("clean",),
         outputs=("{build}/indicators/forecast.parquet", "{build}/forecast/*")),
    Step("indicators", "notebooks/30_indicators.ipynb", ("clean",), outputs=("{build}/indicators/core.parquet",)),
    Step("retention", "notebooks/40_retention_payment.ipynb", ("clean",),
         outputs=("{build}/indicators/retention.parquet", "{build}/retention/*")),
    Step("assemble", "", ("indicators", "retention", "forecast"),
         outputs=("{build}/indicators/unsuppressed.parquet", "{build}/indicators/published.parquet")),
    Step("status_memo", "reports/status_memo.ipynb", ("assemble",), reads_status=True,
         outputs=("{build}/out/status_memo.html", "{build}/out/status_memo.docx"),
         report="status_memo", formats=("html", "docx")),
    Step("capacity_forecast", "reports/capacity_forecast.ipynb", ("assemble",),
         outputs=("{build}/out/capacity_forecast.html",), report="capacity_forecast", formats=("html",)),
    # The analysts' document beside the two management reports: catalogue, parameters, method notes.
    Step("technical_appendix", "reports/technical_appendix.ipynb", ("assemble",),
         outputs=("{build}/out/technical_appendix.html",), report="technical_appendix", formats=("html",)),
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
    reason: str  # "first run", "inputs changed: code, upstream clean", "outputs missing or altered …", …
    key: str
    seconds: float
    outputs: dict[str, str]
    inputs: dict[str, str] = field(default_factory=dict)  # digest per input (see Runner._inputs)


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


def _fsync_folder(folder: Path) -> None:
    """Flush files and names to disk before a rename makes them visible, so a power cut cannot publish empty files."""
    for f in folder.iterdir():
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _share_copy(source: Path, target: Path) -> None:
    """One file onto the share (a seam for the kill tests: the run may die after any file)."""
    shutil.copyfile(source, target)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def file_lock(path: Path, what: str, wait: bool = False) -> Iterator[None]:
    """Exclusive lock, released by the kernel even if the process is killed.

    Without ``wait`` a second run of the same month stops at once (RunLocked)
    instead of queueing behind the first; with ``wait`` (the shared ingest) it
    waits, then finds the other run's fresh outputs and reuses them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise RunLocked(f"{what} is already running (lock {path})") from None
            log.info("waiting for %s (lock %s)", what, path)
            fcntl.flock(fh, fcntl.LOCK_EX)
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
        unknown = sorted(set(cfg.only) - set(self.step_by_name))
        if unknown:  # ValueError: the CLI's usage error (exit 2)
            raise ValueError(f"--only: unknown step(s) {', '.join(unknown)}; steps are {', '.join(self.step_by_name)}")
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
        self.ingest_manifest_path = self.processed / "_manifest.json"
        self.code = code_version()
        self.results: dict[str, StepResult] = {}
        self._book_lock = threading.Lock()  # parallel steps update the same manifest

    # ----- fingerprints and keys -------------------------------------------------
    def _raw_fingerprint(self) -> dict[str, str]:
        files = [p for p in self.raw.iterdir() if p.is_file() and not p.name.startswith(".")]
        return files_fingerprint(files, self.raw)

    def _key_fingerprint(self) -> str:
        """One-way digest of the pseudonymisation key: a new key re-pseudonymises, and the key is never stored."""
        from analysis.ingest.errors import PseudonymKeyError
        from analysis.ingest.pseudonym import load_key

        try:
            key, _source = load_key(self.raw, self.root)
        except PseudonymKeyError as exc:
            raise ConfigurationError(str(exc)) from None
        return hmac.new(key, b"analysis cache key", hashlib.sha256).hexdigest()[:16]

    def _status_fingerprint(self) -> dict[str, str]:
        """The narrative files the memo of M can read: its own month's, or an earlier one as fallback."""
        status = self.raw / "status"
        files = [f for f in status.glob("*.yml") if f.stem <= self.month] if status.exists() else []
        return files_fingerprint(files, self.raw)

    def _expand(self, pattern: str) -> str:
        return pattern.format(processed=self.processed, month_dir=self.ctx.month_dir, build=self.build)

    def _outputs(self, step: Step) -> dict[str, str]:
        files: list[Path] = []
        for pattern in step.outputs:
            expanded = Path(self._expand(pattern))
            files.extend(p for p in expanded.parent.glob(expanded.name) if p.is_file())
        return {str(p.relative_to(self.root) if p.is_relative_to(self.root) else p): file_sha256(p) for p in sorted(set(files))}

    def _inputs(self, step: Step) -> dict[str, str]:
        """A digest per input; the cache key combines them, the manifest keeps them to say which one changed."""
        inputs = {"notebook": file_sha256(self.root / step.notebook) if step.notebook else "", "code": self.code}
        if step.scope == "extract":  # ingest reads only its own parameters (size limits, quarantine share)
            ingest_params = {k: v for k, v in self.ctx.params.values().items() if k.startswith("ingest.")}
            return inputs | {"raw extract": combine(self._raw_fingerprint()), "pseudonym key": self._key_fingerprint(),
                             "parameters": combine(ingest_params)}
        inputs |= {"parameters": self.ctx.params.fingerprint(), "month": self.month}
        inputs |= {f"upstream {n}": combine(self.results[n].outputs) for n in step.needs}
        if step.reads_status:
            inputs["narrative"] = combine(self._status_fingerprint())
        return inputs

    def _recorded(self, step: Step) -> dict:
        book = _read_json(self.ingest_manifest_path if step.scope == "extract" else self.manifest_path)
        return book.get("steps", {}).get(step.name, {})

    def _record(self, result: StepResult, scope: Scope) -> None:
        path = self.ingest_manifest_path if scope == "extract" else self.manifest_path
        with self._book_lock:
            book = _read_json(path)
            book.setdefault("steps", {})[result.name] = {
                "key": result.key, "inputs": result.inputs, "outputs": result.outputs, "reason": result.reason,
                "seconds": round(result.seconds, 2), "finished": _utc_stamp(),
            }
            if scope == "month":
                book.update({"month": self.month, "code_version": self.code})
            _write_json_atomic(path, book)

    def _record_run(self, publish_key: str | None = None, **facts: object) -> None:
        """The last run's story in the month's manifest: each step ran or reused, why, and how long."""
        with self._book_lock:
            book = _read_json(self.manifest_path)
            if publish_key:  # what reports/<M> shows once published; compared by the next run
                book["publish_key"] = publish_key
            run = book.setdefault("last_run", {})
            run.update(facts)
            run["steps"] = {r.name: {"status": r.status, "reason": r.reason, "seconds": round(r.seconds, 2)}
                            for r in self.results.values()}
            _write_json_atomic(self.manifest_path, book)

    def _why_rerun(self, step: Step, key: str, inputs: dict[str, str]) -> str | None:
        """None when the step can be reused, else the reason it must run."""
        if self.cfg.force:
            return "forced (--force)"
        if self.cfg.only and step.name in self.cfg.only:
            return "requested (--only)"
        rec = self._recorded(step)
        if not rec:
            return "first run"
        if rec.get("key") != key:
            before = rec.get("inputs", {})
            changed = [name for name in sorted(inputs.keys() | before.keys()) if before.get(name) != inputs.get(name)]
            return f"inputs changed: {', '.join(changed)}" if before and changed else "inputs changed"
        now = self._outputs(step)
        if not now or now != rec.get("outputs"):
            return "outputs missing or altered since last run"
        return None

    # ----- execution ---------------------------------------------------------------
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
        if step.name == "assemble":
            self._assemble()
            return
        from analysis import notebook_run  # here, not at the top: papermill costs a warm rerun more than the rest

        work = self.build / "work" / step.name
        work.mkdir(parents=True, exist_ok=True)
        executed = work / f"{step.name}.ipynb"
        try:
            notebook_run.execute(self.root / step.notebook, executed, self._nb_parameters(), work,
                                 report=step.report is not None)
        except notebook_run.PapermillExecutionError as exc:
            cls = _ENAME_CLASS.get(exc.ename, PipelineError)
            raise cls(f"step '{step.name}' failed in {step.notebook}: {exc.ename}: {exc.evalue} "
                      f"(executed notebook: {executed})") from None
        if step.report:
            self._render(step, executed)
        if step.outputs and not self._outputs(step):
            log.warning("step %s wrote none of its declared outputs (%s); it will run again next time",
                        step.name, ", ".join(step.outputs))

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
        inputs = self._inputs(step)
        key = combine(step.name, inputs)
        reason = self._why_rerun(step, key, inputs)
        if reason is None:
            rec = self._recorded(step)
            log.info("step %-18s reused (inputs unchanged)", step.name)
            return StepResult(step.name, "reused", "inputs unchanged", key, 0.0, rec["outputs"], inputs)
        log.info("step %-18s running (%s)", step.name, reason)
        started = time.perf_counter()
        self._execute(step)
        result = StepResult(step.name, "ran", reason, key, time.perf_counter() - started, self._outputs(step), inputs)
        self._record(result, step.scope)
        log.info("step %-18s done in %.1f s", step.name, result.seconds)
        return result

    def _critical_path(self) -> dict[str, float]:
        """Per step, the seconds of its longest chain to the end of the run (last run's timings; 1 s if unknown)."""
        rank: dict[str, float] = {}

        def chain(step: Step) -> float:
            if step.name not in rank:
                own = self._recorded(step).get("seconds") or 1.0
                rank[step.name] = own + max((chain(d) for d in self.steps if step.name in d.needs), default=0.0)
            return rank[step.name]

        for step in self.steps:
            chain(step)
        return rank

    def _schedule(self) -> None:
        """Run steps as their dependencies finish, up to ``jobs`` at once, the longest remaining chain first.

        Steps are handed to the pool only when a worker is free, so a step that
        becomes ready later but heads a longer chain does not queue behind short ones.
        """
        jobs = max(1, self.cfg.jobs)
        rank = self._critical_path()
        pending = {s.name: s for s in self.steps}
        running: dict[Future, Step] = {}
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            while pending or running:
                if failure is None:
                    ready = [s for s in pending.values() if all(n in self.results for n in s.needs)]
                    ready.sort(key=lambda s: -rank[s.name])  # stable: ties keep the graph's order
                    for step in ready[:jobs - len(running)]:
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
        try:
            if step.scope == "extract":  # processed/ is shared by all months
                with file_lock(self.processed / ".ingest.lock", "ingest of the extract", wait=True):
                    return self._run_step(step)
            return self._run_step(step)
        except PipelineError:
            raise
        except Exception as exc:  # noqa: BLE001 - a dead kernel, a missing notebook: still a step failure (exit 6)
            raise PipelineError(f"step '{step.name}' could not run: {type(exc).__name__}: {exc}") from exc

    # ----- publishing --------------------------------------------------------------
    def _published_files(self) -> dict[Path, str]:
        """Rendered reports and the suppressed table, with their sha256.

        Taken from the steps' recorded outputs, never from a folder listing, so a
        stale file left in the build folder is never published.
        """
        out, table = self.build / "out", self.build / "indicators" / "published.parquet"
        files: dict[Path, str] = {}
        for result in self.results.values():
            for rel, sha in result.outputs.items():
                path = self.root / rel
                if (path.parent == out and path.suffix in {".html", ".docx"}) or path == table:
                    files[path] = sha
        return files

    def _publish(self, files: dict[Path, str]) -> Path:
        """Stage the month's outputs in a new version folder, then swap the symlink ``reports/<M>`` to it."""
        import pandas as pd

        versions = self.reports / ".versions" / self.month
        self._sweep(versions)
        stamp = _utc_stamp()
        staging = versions / f".staging-{stamp}"
        staging.mkdir(parents=True)
        for path in files:
            if path.name == "published.parquet":  # only the suppressed table is ever published
                table = pd.read_parquet(path)
                table.to_parquet(staging / "indicators.parquet", index=False)
                table.to_csv(staging / "indicators.csv", index=False, encoding="utf-8")
            else:
                shutil.copy2(path, staging / path.name)
        shutil.copy2(self.manifest_path, staging / "manifest.json")
        _fsync_folder(staging)
        final, n = versions / stamp, 1
        while final.exists():  # two publishes within one second keep both versions
            final, n = versions / f"{stamp}-{n}", n + 1
        os.replace(staging, final)
        link = self.reports / self.month
        if link.exists() and not link.is_symlink():
            # A plain folder from elsewhere is archived, never overwritten silently.
            os.replace(link, versions / f"archived-{stamp}")
        tmp_link = self.reports / f".{self.month}.link{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(final.relative_to(self.reports))
        os.replace(tmp_link, link)
        _fsync_dir(self.reports)
        return link

    def _sweep(self, versions: Path) -> None:
        """Remove what an interrupted publish left behind; ``reports/<M>`` never pointed at any of it."""
        for leftover in versions.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.reports.glob(f".{self.month}.link*"):
            leftover.unlink(missing_ok=True)

    def _copy_to_share(self, folder: Path, key: str) -> Path:
        """Bring the shared folder's copy of the month up to date so that it always shows one whole version.

        The files are copied into a hidden staging folder on the share (``.versions/<M>/.staging-*``), flushed,
        renamed to a version folder, and ``<share>/<M>`` is switched to it in one rename of a symlink, as
        ``reports/<M>`` is. Where the share refuses symlinks (some SMB mounts), ``<share>/<M>`` is a plain
        folder switched by two renames: for that moment it is absent, never mixed. copyfile, not copy2:
        network shares often refuse to set times and modes. Leftovers of an interrupted copy are swept first.
        """
        target = self.share / self.month
        versions = self.share / ".versions" / self.month
        self._sweep_share(target, versions)
        if _read_json(target / "manifest.json").get("publish_key") == key:
            return target
        stamp = _utc_stamp()
        staging = versions / f".staging-{stamp}"
        staging.mkdir(parents=True)
        for f in sorted(folder.iterdir(), key=lambda f: f.name == "manifest.json"):
            _share_copy(f, staging / f.name)
        _fsync_folder(staging)
        final, n = versions / stamp, 1
        while final.exists():
            final, n = versions / f"{stamp}-{n}", n + 1
        os.replace(staging, final)
        self._switch_share(target, final)
        self._sweep_share(target, versions)
        log.info("copied the reports to %s", target)
        return target

    def _switch_share(self, target: Path, final: Path) -> None:
        """Point ``target`` at ``final``: a symlink swapped in one rename, or two renames where symlinks fail."""
        link = self.share / f".{self.month}.link{os.getpid()}"
        link.unlink(missing_ok=True)
        try:
            link.symlink_to(final.relative_to(self.share))
        except OSError:  # no symlinks on this share: the version folder itself becomes <share>/<M>
            old = self.share / f".{self.month}.old-{final.name}"
            if target.exists() or target.is_symlink():
                os.replace(target, old)
            os.replace(final, target)
            _fsync_dir(self.share)
            return
        if target.exists() and not target.is_symlink():  # a plain folder from an earlier copy: moved aside once
            os.replace(target, self.share / f".{self.month}.old-{final.name}")
        os.replace(link, target)
        _fsync_dir(self.share)

    def _sweep_share(self, target: Path, versions: Path) -> None:
        """Remove what an interrupted share copy left, and versions ``<share>/<M>`` no longer shows.

        Killed between the two renames of a share without symlinks, the month is only in ``.<M>.old-*``:
        it is put back first, so the share shows the version it showed before.
        """
        old = sorted(self.share.glob(f".{self.month}.old-*"))
        if old and not (target.exists() or target.is_symlink()):
            os.replace(old.pop(), target)
        for leftover in old:
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.share.glob(f".{self.month}.link*"):
            leftover.unlink(missing_ok=True)
        current = target.resolve() if target.is_symlink() else None
        for version in versions.glob("*") if versions.exists() else ():
            if version.resolve() != current:
                shutil.rmtree(version, ignore_errors=True)

    def _current_published_key(self) -> str | None:
        link = self.reports / self.month
        return _read_json(link / "manifest.json").get("publish_key") if link.exists() else None

    # ----- the run -----------------------------------------------------------------
    def run(self) -> RunResult:
        """Run the graph, publish if the reports changed, and tell the log, the manifest and the summary.

        A PipelineError leaves the published reports as they were and carries the
        failure summary in its ``summary`` attribute.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        result = RunResult(self.month, None, [], self.log_dir / f"run-{self.month}-{_utc_stamp()}.log")
        started = time.perf_counter()
        try:
            with _run_log(result.log_file) as warnings:
                with file_lock(self.reports / ".locks" / f"{self.month}.lock", f"a run of {self.month}"):
                    try:
                        self._run_locked(result)
                    except PipelineError as exc:
                        self._record_run(outcome=f"failed (exit {exc.exit_code}): {exc}", finished=_utc_stamp())
                        raise
        except PipelineError as exc:
            link = self.reports / self.month
            result.published = link if link.exists() else None
            exc.summary = self._finish(result, started, warnings, exc)
            raise
        self._finish(result, started, warnings)
        return result

    def _run_locked(self, result: RunResult) -> None:
        log.info("run of %s (code %s, extract date %s from %s)", self.month, self.code,
                 self.ctx.extract_date.date(), self.ctx.extract_date_source)
        self._check_freshness()
        self._preflight()
        self._record_run(started=_utc_stamp(), outcome="running")
        self._schedule()
        self._check_quality()
        self._check_key_figures()
        files = self._published_files()
        key = combine({p.name: sha for p, sha in files.items()})
        self._record_run(publish_key=key)
        link = self.reports / self.month
        if self._current_published_key() == key:
            log.info("reports unchanged; %s is already current", link)
        else:
            try:
                self._publish(files)
            except OSError as exc:  # the staging folder is swept by the next run; reports/<M> is untouched
                raise StorageFailure(f"could not write the new version under {self.reports / '.versions' / self.month}: "
                                     f"{exc.strerror or type(exc).__name__}; the previous reports stand") from None
            result.published_now = True
            log.info("published %s -> %s", link, os.readlink(link))
        result.published = link
        if self.share:
            try:
                result.share = self._copy_to_share(link.resolve(), key)
            except OSError as exc:  # the reports are published locally; the next run completes the copy
                raise ShareStale(f"the shared folder {self.share / self.month} could not be updated "
                                 f"({exc.strerror or type(exc).__name__}); it still shows the previous version, "
                                 "and the next run tries again") from None
        self._record_run(outcome="ok", finished=_utc_stamp(), published=str(link.resolve()))

    def _finish(self, result: RunResult, started: float, warnings: list[str], error: PipelineError | None = None) -> str:
        result.seconds = time.perf_counter() - started
        result.steps = [self.results[s.name] for s in self.steps if s.name in self.results]
        result.warnings = warnings
        result.summary = run_summary(result, self.ctx, error)
        with open(result.log_file, "a", encoding="utf-8") as fh:
            fh.write(result.summary + "\n")
        return result.summary

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
        from analysis.report.narrative import NarrativeError, check_status_file, status_file

        try:
            path, _ = status_file(self.raw, self.ctx.month)
        except FileNotFoundError:
            return  # the memo step says which file is missing
        try:
            check_status_file(path)
        except NarrativeError as exc:
            raise BadData(str(exc)) from None

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
        table, previous = self.build / "indicators" / "published.parquet", self._previous_published()
        if not table.is_file() or previous is None:
            return
        import pandas as pd

        from analysis.ingest.errors import IngestError
        from analysis.ingest.plausibility import Acknowledgements, gate, key_figure_findings

        findings = key_figure_findings(pd.read_parquet(table), self.month, pd.read_parquet(previous[1]), previous[0],
                                       self.ctx.params)
        try:
            gate(findings, Acknowledgements.load(self.raw), self.month)
        except IngestError as exc:
            raise BadData(str(exc)) from None

    def _check_quality(self) -> None:
        quality = _read_json(self.processed / "quality.json")
        for check, reason in quality.get("acknowledged", {}).items():  # ingest's own warning stays in its kernel
            log.warning("%s acknowledged in godkendelser.yml: %s", check, reason)
        extracts = quality.get("extracts", {})
        quarantined = sum(e.get("rows_quarantined", 0) for e in extracts.values())
        if quarantined:
            log.warning("%d rows of the extract are in quarantine; the data-quality report lists them", quarantined)


class _Warnings(logging.Handler):
    """Keeps the run's warnings for the summary e-mail."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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
