"""The monthly runner on a fake step graph: caching, publishing, locks, failures, interruption.

The real notebooks are too slow for fault tests, so every test runs the real
``Runner`` on four tiny notebooks (an extract-scope "ingest", two parallel
month steps, a "report" that writes ``build/<M>/out/fake.html``). One clean run
is made per module and copied into each test's folder; a test then changes
what it is about and counts kernel starts through marker files that each
notebook appends to when it starts.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis import cpr
from analysis.pipeline import publish as pipeline_publish
from analysis.pipeline import run as pipeline_run
from analysis.pipeline.errors import (
    EXIT_CODES, BadData, ConfigurationError, MissingExtract, PipelineError, RenderFailure, RunLocked, ShareStale,
    StorageFailure,
)
from analysis.pipeline.run import RunConfig, Runner, RunResult
from analysis.pipeline.schedule import file_lock
from analysis.pipeline.steps import Step, StepResult
from analysis.report import render

MONTH = "2023-02"
REPO = Path(__file__).resolve().parents[1]

FAKE_STEPS: tuple[Step, ...] = (
    Step("ingest", "notebooks/ingest.ipynb", scope="extract", outputs=("{processed}/*.parquet",)),
    Step("left", "notebooks/left.ipynb", ("ingest",), outputs=("{build}/left.parquet",)),
    Step("right", "notebooks/right.ipynb", ("ingest",), reads_status=True, outputs=("{build}/right.parquet",)),
    Step("report", "notebooks/report.ipynb", ("left", "right"), outputs=("{build}/out/fake.html",)),
)

_PARAMETERS = 'month = ""\nraw_dir = ""\nprocessed_dir = ""\nbuild_dir = ""\nparam_overrides = []\n'
# Test hooks, driven by environment variables the kernel inherits: a start marker
# (with the kernel's pid), a failure with a chosen exception class name, a
# half-written output and a pause that leaves time to kill the run mid-step.
_PRELUDE = '''import os, pathlib, time
import pyarrow as pa, pyarrow.parquet as pq
step, target = {step!r}, pathlib.Path({target})
target.parent.mkdir(parents=True, exist_ok=True)
victim = os.environ.get("FAKE_VICTIM") == step
if victim:  # before the marker: once the test sees the marker, the damage is done
    target.write_bytes(b"PAR1 half-written")
if os.environ.get("FAKE_MARKERS"):
    with open(pathlib.Path(os.environ["FAKE_MARKERS"]) / f"{{step}}.started", "a") as fh:
        fh.write(f"{{os.getpid()}}\\n")
if os.environ.get("FAKE_FAIL") == step:
    raise type(os.environ.get("FAKE_FAIL_CLASS", "RuntimeError"), (Exception,), {{}})("fake failure")
if victim:
    time.sleep(30)
'''
_BODIES = {
    "ingest": ('f"{processed_dir}/table.parquet"',
               'values = [int(v) for v in pathlib.Path(raw_dir, "input.csv").read_text().split()]\n'
               'pq.write_table(pa.table({"x": values}), target)'),
    "left": ('f"{build_dir}/left.parquet"',
             'total = sum(pq.read_table(f"{processed_dir}/table.parquet")["x"].to_pylist())\n'
             'pq.write_table(pa.table({"total": [total]}), target)'),
    "right": ('f"{build_dir}/right.parquet"',
              'status = pathlib.Path(raw_dir, "status", f"{month}.yml").read_text()\n'
              'rows = pq.read_table(f"{processed_dir}/table.parquet").num_rows\n'
              'pq.write_table(pa.table({"rows": [rows], "status": [status]}), target)'),
    "report": ('f"{build_dir}/out/fake.html"',
               'left = pq.read_table(f"{build_dir}/left.parquet").to_pylist()\n'
               'right = pq.read_table(f"{build_dir}/right.parquet").to_pylist()\n'
               'target.write_text(f"<html><body><p>{month}: {left} {right}</p></body></html>")'),
}


def _notebook(step: str) -> nbformat.NotebookNode:
    target, body = _BODIES[step]
    params = nbformat.v4.new_code_cell(_PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [params, nbformat.v4.new_code_cell(_PRELUDE.format(step=step, target=target)),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_project(root: Path) -> Path:
    """A project folder with the fake notebooks and a tiny extract."""
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'fake'\n")
    for step in _BODIES:
        nbformat.write(_notebook(step), root / "notebooks" / f"{step}.ipynb")
    (root / "raw" / "status").mkdir(parents=True)
    (root / "raw" / "udtraek.yml").write_text("udtraeksdato: 2023-03-06\nsyntetisk: true\n")
    (root / "raw" / "input.csv").write_text("1\n2\n3\n")
    (root / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: on track\n")
    return root


def fake_config(root: Path, **overrides) -> RunConfig:
    kw = dict(month=MONTH, raw_dir=root / "raw", processed_dir=root / "processed", build_root=root / "build",
              reports_dir=root / "reports", log_dir=root / "logs", jobs=2)
    return RunConfig(**(kw | overrides))


def run_fake(root: Path, steps: tuple[Step, ...] = FAKE_STEPS, required: tuple[str, ...] = (), **overrides) -> RunResult:
    """The CLI's run, on the fake graph (also the interruption test's driver)."""
    return Runner(fake_config(root, **overrides), root=root, steps=steps, required_extracts=required).run()


def statuses(result: RunResult) -> dict[str, str]:
    return {s.name: s.status for s in result.steps}


def kernel_starts(markers: Path) -> int:
    return sum(len(f.read_text().split()) for f in markers.glob("*.started"))


def link_target(root: Path, month: str = MONTH) -> Path:
    return (root / "reports" / month).resolve()


def assert_complete(folder: Path) -> None:
    """A published folder holds the report and the manifest, and nothing half-made."""
    assert folder.is_dir() and not folder.name.startswith("."), folder
    assert sorted(p.name for p in folder.iterdir()) == ["fake.html", "manifest.json"]
    assert (folder / "fake.html").read_text().endswith("</html>")
    assert "publish_key" in json.loads((folder / "manifest.json").read_text())


def outputs_of(root: Path) -> dict[str, bytes]:
    """Every file the graph produces or publishes, by path relative to the project."""
    files = [root / "processed" / "table.parquet", *(root / "build" / MONTH / n for n in ("left.parquet", "right.parquet")),
             root / "build" / MONTH / "out" / "fake.html"]
    return {str(f.relative_to(root)): f.read_bytes() for f in files} | {
        "published fake.html": (link_target(root) / "fake.html").read_bytes()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, RunResult]:
    """One clean first run of the fake graph; tests work on copies of its project folder."""
    root = make_project(tmp_path_factory.mktemp("clean") / "proj")
    return root, run_fake(root)


@pytest.fixture(scope="module")
def clean(first_run) -> Path:
    return first_run[0]


@pytest.fixture
def proj(clean, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(clean, root, symlinks=True)
    (tmp_path / "markers").mkdir()
    monkeypatch.setenv("FAKE_MARKERS", str(tmp_path / "markers"))
    return root


@pytest.fixture
def markers(proj) -> Path:
    return proj.parent / "markers"


# ----- (1) first run runs all, second run reuses all ------------------------------------------
def test_first_run_runs_everything_and_publishes(first_run):
    root, result = first_run
    assert statuses(result) == {"ingest": "ran", "left": "ran", "right": "ran", "report": "ran"}
    assert {s.reason for s in result.steps} == {"first run"}
    assert result.published_now and result.published == root / "reports" / MONTH
    assert_complete(link_target(root))
    book = json.loads((root / "build" / MONTH / "manifest.json").read_text())
    assert book["last_run"]["outcome"] == "ok"
    assert set(book["last_run"]["steps"]) == {"ingest", "left", "right", "report"}
    assert set(book["steps"]) == {"left", "right", "report"}  # ingest is recorded beside the processed data
    assert "ingest" in json.loads((root / "processed" / "_manifest.json").read_text())["steps"]
    assert result.log_file.is_file() and "step report" in result.log_file.read_text()
    assert "Monthly run 2023-02: OK, reports published" in result.summary


def test_second_run_reuses_everything_without_a_kernel(proj, markers):
    before = link_target(proj)
    started = time.perf_counter()
    result = run_fake(proj)
    print(f"warm rerun of the fake graph: {time.perf_counter() - started:.2f} s")
    assert statuses(result) == dict.fromkeys(["ingest", "left", "right", "report"], "reused")
    assert kernel_starts(markers) == 0
    assert not result.published_now and link_target(proj) == before
    assert "nothing changed" in result.summary and "Steps run: none" in result.summary


def test_a_new_pseudonym_key_reruns_ingest_and_is_not_stored(proj, monkeypatch):
    monkeypatch.setenv("ANALYSIS_PSEUDONYM_KEY", "another key, of at least thirty-two bytes")
    result = run_fake(proj)
    ingest = next(s for s in result.steps if s.name == "ingest")
    assert ingest.status == "ran" and "pseudonym key" in ingest.reason
    assert "another key, of at least" not in (proj / "processed" / "_manifest.json").read_text()


def test_real_extract_without_a_key_stops_before_any_notebook(proj, markers, monkeypatch):
    monkeypatch.delenv("ANALYSIS_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("ANALYSIS_PSEUDONYM_KEY_FILE", raising=False)
    (proj / "raw" / "udtraek.yml").write_text("udtraeksdato: 2023-03-06\n")  # not synthetic: the demo key is refused
    with pytest.raises(ConfigurationError) as err:
        run_fake(proj)
    assert err.value.exit_code == 2 and "no pseudonymisation key" in str(err.value)
    assert kernel_starts(markers) == 0


def test_parallel_steps_never_lose_each_others_manifest_record(proj):
    """Regression: steps finishing at once used to overwrite each other's manifest entry."""
    runner = Runner(fake_config(proj), root=proj, steps=FAKE_STEPS, required_extracts=())
    names = [f"s{i}" for i in range(40)]
    threads = [threading.Thread(target=runner.manifest.record, args=(StepResult(n, "ran", "x", n, 0.0, {}), "month"))
               for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(names) <= set(json.loads(runner.manifest_path.read_text())["steps"])


# ----- (2) what reruns ----------------------------------------------------------------------
def test_narrative_change_reruns_only_its_dependants(proj, markers):
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    (proj / "raw" / "status" / "2023-03.yml").write_text("a later month's narrative is not an input\n")
    result = run_fake(proj)
    assert {s.name: s.reason for s in result.steps if s.status == "ran"} == {
        "right": "inputs changed: narrative", "report": "inputs changed: upstream right"}
    assert result.published_now and "delayed" in (link_target(proj) / "fake.html").read_text()


def test_unchanged_outputs_stop_the_rerun_from_spreading(proj, markers):
    """A notebook edit reruns that step; identical outputs let the steps below it be reused."""
    nb = nbformat.read(proj / "notebooks" / "left.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("An analyst's note."))
    nbformat.write(nb, proj / "notebooks" / "left.ipynb")
    result = run_fake(proj)
    assert statuses(result) == {"ingest": "reused", "left": "ran", "right": "reused", "report": "reused"}
    assert result.steps[1].reason == "inputs changed: notebook" and not result.published_now


# A step's kernel warns about a person: the warning must reach the run log and the summary, the number masked.
_WARNING_CELL = (
    'import logging, warnings\n'
    'warnings.warn("2 tenancies without a move-in date (one is 800880-2020)")\n'
    'logging.getLogger("analysis.clean").warning("status file of 2023-01 used for 80 08 80 2020")'
)


def _add_warning_cell(proj: Path, step: str) -> None:
    """The warning cell right after the parameters, so a step made to fail (FAKE_FAIL) warns first."""
    nb = nbformat.read(proj / "notebooks" / f"{step}.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(_WARNING_CELL))
    nbformat.write(nb, proj / "notebooks" / f"{step}.ipynb")


def test_warnings_inside_a_step_reach_the_log_and_the_summary(proj, markers):
    _add_warning_cell(proj, "left")
    result = run_fake(proj)
    expected = ["step left: UserWarning: 2 tenancies without a move-in date (one is <cpr>)",
                "step left: status file of 2023-01 used for <cpr>"]
    assert [w for w in result.warnings if w.startswith("step ")] == expected
    log_text = result.log_file.read_text(encoding="utf-8")
    assert all(f"WARNING analysis.pipeline.run: {w}" in log_text for w in expected)
    assert all(f"  - {w}" in result.summary for w in expected)
    assert not cpr.contains(log_text) and not cpr.contains(result.summary)


def test_warnings_of_a_failing_step_reach_the_failure_summary(proj, markers, monkeypatch):
    _add_warning_cell(proj, "right")
    monkeypatch.setenv("FAKE_FAIL", "right")
    with pytest.raises(PipelineError) as failed:
        run_fake(proj)
    assert "  - step right: UserWarning: 2 tenancies without a move-in date (one is <cpr>)" in failed.value.summary
    assert not cpr.contains(failed.value.summary)
    assert not any(cpr.contains(f.read_text(encoding="utf-8")) for f in (proj / "logs").glob("*.log"))


def test_code_and_parameter_changes_are_named(proj, markers, monkeypatch):
    monkeypatch.setattr(pipeline_run, "code_version", lambda: "0.1.0+edited")
    result = run_fake(proj, param_overrides=["disclosure.min_count=9"])
    reasons = {s.name: s.reason for s in result.steps}
    assert reasons["ingest"] == "inputs changed: code"  # the extract's processing takes no parameters
    assert reasons["left"] == reasons["report"] == "inputs changed: code, parameters"


def test_force_reruns_everything(proj, markers):
    result = run_fake(proj, force=True)
    assert statuses(result) == dict.fromkeys(["ingest", "left", "right", "report"], "ran")
    assert {s.reason for s in result.steps} == {"forced (--force)"}
    assert kernel_starts(markers) == 4


def test_only_reruns_the_named_steps_and_keeps_the_rest_current(proj, markers):
    result = run_fake(proj, only=["right"])
    assert statuses(result) == {"ingest": "reused", "left": "reused", "right": "ran", "report": "reused"}
    assert [s.reason for s in result.steps if s.status == "ran"] == ["requested (--only)"]
    with pytest.raises(ValueError, match="unknown step"):
        Runner(fake_config(proj, only=["nope"]), root=proj, steps=FAKE_STEPS, required_extracts=())


def test_the_longest_chain_starts_first(proj, monkeypatch):
    """With one free worker, the step heading the longest chain (by the last run's timings) goes first."""
    runner = Runner(fake_config(proj, jobs=1), root=proj, steps=FAKE_STEPS, required_extracts=())
    last_seconds = {"ingest": 2.0, "left": 1.0, "right": 9.0, "report": 0.5}
    monkeypatch.setattr(runner.manifest, "recorded", lambda step: {"seconds": last_seconds[step.name]})
    order: list[str] = []

    def run_step(step: Step) -> StepResult:
        order.append(step.name)
        return StepResult(step.name, "reused", "", "", 0.0, {})

    monkeypatch.setattr(runner, "_run_step", run_step)
    runner._schedule()
    assert order == ["ingest", "right", "left", "report"]
    assert runner._critical_path() == {"ingest": 11.5, "left": 1.5, "right": 9.5, "report": 0.5}


def test_parameter_files_reach_the_notebooks_as_resolved_overrides(proj, tmp_path):
    """Notebooks take ``param_overrides`` only: a --params-file must arrive there, with --param winning."""
    (tmp_path / "run.yml").write_text("disclosure:\n  min_count: 7\npayment:\n  disposable_norm: 4500\n")
    runner = Runner(fake_config(proj, params_files=[str(tmp_path / "run.yml")], param_overrides=["disclosure.min_count=9"]),
                    root=proj, steps=FAKE_STEPS, required_extracts=())
    assert runner._nb_parameters()["param_overrides"] == ["disclosure.min_count=9", "payment.disposable_norm=4500"]


# ----- (3) corrupted outputs ----------------------------------------------------------------
def test_corrupted_parquet_is_detected_and_rebuilt(proj, markers):
    clean_outputs = outputs_of(proj)
    table = proj / "processed" / "table.parquet"
    table.write_bytes(table.read_bytes()[:20])
    left = proj / "build" / MONTH / "left.parquet"
    left.unlink()
    result = run_fake(proj)
    reasons = {s.name: s.reason for s in result.steps}
    assert reasons["ingest"] == reasons["left"] == "outputs missing or altered since last run"
    assert statuses(result)["right"] == statuses(result)["report"] == "reused"  # rebuilt files are identical
    assert outputs_of(proj) == clean_outputs


# ----- (4) failures -------------------------------------------------------------------------
def test_failed_step_leaves_the_published_reports_alone(proj, markers, monkeypatch):
    ename, code = "SchemaError", BadData.exit_code
    before, versions = link_target(proj), sorted((proj / "reports" / ".versions" / MONTH).iterdir())
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    monkeypatch.setenv("FAKE_FAIL", "right")
    monkeypatch.setenv("FAKE_FAIL_CLASS", ename)
    with pytest.raises(PipelineError) as info:
        run_fake(proj)
    assert info.value.exit_code == code
    assert "step 'right' failed" in str(info.value) and ename in str(info.value)
    assert link_target(proj) == before and sorted((proj / "reports" / ".versions" / MONTH).iterdir()) == versions
    assert_complete(before)
    assert f"FAILED (exit {code}" in info.value.summary and "Previous reports stand" in info.value.summary
    book = json.loads((proj / "build" / MONTH / "manifest.json").read_text())
    assert book["last_run"]["outcome"].startswith(f"failed (exit {code})")
    monkeypatch.delenv("FAKE_FAIL")
    result = run_fake(proj)  # the fix: only the failed step and what depends on it run
    assert statuses(result) == {"ingest": "reused", "left": "reused", "right": "ran", "report": "ran"}


@pytest.mark.parametrize(("ename", "code"), [
    ("MissingExtractError", 3), ("SchemaError", 4), ("ReconciliationError", 4), ("RenderError", 5), ("KeyError", 6),
    ("PlausibilityError", 4), ("DeliveryError", 4), ("ExtractTooLargeError", 4), ("EncodingError", 4),
])
def test_exception_in_a_notebook_chooses_the_exit_code(proj, monkeypatch, ename, code):
    def fail(*args, **kwargs):
        raise papermill.PapermillExecutionError(1, 1, "", ename, "details", [])

    monkeypatch.setattr(papermill, "execute_notebook", fail)
    with pytest.raises(PipelineError) as info:
        run_fake(proj, only=["left"])
    assert info.value.exit_code == code and ename in str(info.value)
    # the package's own failures keep their message (file, row, column); a library's may quote a cell, so it
    # stays in the executed notebook, which the message names
    own = ename != "KeyError"
    assert (f"{ename}: details" in str(info.value)) == own and ("details" in str(info.value)) == own
    assert "left.ipynb" in str(info.value)


def test_unexpected_errors_are_step_failures(proj, markers):
    (proj / "notebooks" / "left.ipynb").unlink()
    with pytest.raises(PipelineError, match="step 'left' could not run") as info:
        run_fake(proj, force=True)
    assert type(info.value) is PipelineError and info.value.exit_code == 6


def test_interrupted_publish_is_invisible_and_swept_next_time(proj, markers, monkeypatch):
    before = link_target(proj)
    book = json.loads((before / "manifest.json").read_text())
    (before / "manifest.json").write_text(json.dumps(book | {"publish_key": "older"}))  # so the run republishes

    class Killed(BaseException):
        pass

    def die(folder: Path) -> None:
        raise Killed

    monkeypatch.setattr(pipeline_publish, "fsync_folder", die)
    with pytest.raises(Killed):
        run_fake(proj)
    assert link_target(proj) == before
    assert list((proj / "reports" / ".versions" / MONTH).glob(".staging-*"))
    monkeypatch.undo()
    result = run_fake(proj)
    assert result.published_now and not list((proj / "reports" / ".versions" / MONTH).glob(".staging-*"))
    assert_complete(link_target(proj))
    assert kernel_starts(markers) == 0


# ----- (5) lock, (6) missing extract -----------------------------------------------------------
def test_second_run_of_the_same_month_is_refused(proj, markers):
    with file_lock(proj / "reports" / ".locks" / f"{MONTH}.lock", "the test's run"):
        with pytest.raises(RunLocked) as info:
            run_fake(proj, force=True)
    assert info.value.exit_code == 7 and kernel_starts(markers) == 0
    assert "FAILED (exit 7" in info.value.summary


def test_missing_extract_stops_before_any_notebook(proj, markers):
    before = link_target(proj)
    with pytest.raises(MissingExtract, match="ophold") as info:
        run_fake(proj, required=("ophold",), force=True)
    assert info.value.exit_code == 3 and kernel_starts(markers) == 0
    assert link_target(proj) == before
    assert f"Previous reports stand: {proj / 'reports' / MONTH}" in info.value.summary


# ----- (7) archive and shared folder ---------------------------------------------------------
def test_earlier_versions_and_months_stay_archived(proj, markers):
    first = link_target(proj)
    first_html = (first / "fake.html").read_bytes()
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    second = run_fake(proj)
    assert second.published_now and link_target(proj) != first
    assert sorted(p.name for p in (proj / "reports" / ".versions" / MONTH).iterdir()) == sorted(
        [first.name, link_target(proj).name])
    assert (first / "fake.html").read_bytes() == first_html
    (proj / "raw" / "status" / "2023-01.yml").write_text("spor1: january\n")
    january = run_fake(proj, month="2023-01")
    assert statuses(january)["ingest"] == "reused"  # the extract is shared by all months
    assert_complete(link_target(proj, "2023-01"))
    assert_complete(link_target(proj))


def test_a_plain_folder_in_the_way_is_archived_not_overwritten(proj, markers):
    link = proj / "reports" / MONTH
    link.unlink()
    link.mkdir()
    (link / "hand-made.html").write_text("an analyst's copy")
    result = run_fake(proj)
    assert result.published_now and link.is_symlink() and kernel_starts(markers) == 0
    archived = list((proj / "reports" / ".versions" / MONTH).glob("archived-*"))
    assert len(archived) == 1 and (archived[0] / "hand-made.html").is_file()


def share_state(share: Path) -> tuple[str, bytes]:
    """What the share shows for the month: its publish key and report, both from one whole version."""
    shown = share / MONTH
    assert sorted(p.name for p in shown.iterdir()) == ["fake.html", "manifest.json"]
    assert (shown / "fake.html").read_text().endswith("</html>")
    return json.loads((shown / "manifest.json").read_text())["publish_key"], (shown / "fake.html").read_bytes()


def share_leftovers(share: Path) -> list[str]:
    hidden = [p.name for p in share.glob(f".{MONTH}.*")]
    versions = share / ".versions" / MONTH
    return hidden + [p.name for p in versions.iterdir() if p.resolve() != (share / MONTH).resolve()]


def test_shared_folder_is_filled_and_repaired(proj, markers):
    share = proj.parent / "share"
    result = run_fake(proj, publish_dir=share)
    assert result.share == share / MONTH and "Shared folder" in result.summary
    key, html = share_state(share)
    assert html == (link_target(proj) / "fake.html").read_bytes()
    (share / MONTH / "manifest.json").unlink()  # damaged by hand: the next run makes a whole new copy
    run_fake(proj, publish_dir=share)
    assert share_state(share) == (key, html) and share_leftovers(share) == []
    assert kernel_starts(markers) == 0


def test_unwritable_share_is_its_own_exit_code_and_the_local_publish_stands(proj, markers):
    blocked = proj.parent / "not-a-folder"
    blocked.write_text("the share is not mounted")
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    with pytest.raises(ShareStale) as info:
        run_fake(proj, publish_dir=blocked)
    first_line = info.value.summary.splitlines()[0]
    assert info.value.exit_code == 8 and "SHARED FOLDER STALE" in first_line and "OK" not in first_line
    assert str(blocked / MONTH) in info.value.summary and "Traceback" not in info.value.summary
    assert_complete(link_target(proj))
    assert "delayed" in (link_target(proj) / "fake.html").read_text()  # published locally all the same
    assert EXIT_CODES[8].startswith("share stale")


class Killed(BaseException):
    """The run dying at a chosen point (no handler catches a BaseException, as none survives SIGKILL)."""


def refuse_symlinks_under(folder: Path, monkeypatch) -> None:
    """Symlinks fail with EPERM below ``folder`` (a share such as some SMB mounts); elsewhere they work."""
    real_symlink = Path.symlink_to

    def no_symlinks(self, target):
        if self.is_relative_to(folder):
            raise PermissionError(1, "Operation not permitted")
        real_symlink(self, target)

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)


def dying_rename_onto(target: Path):
    """``os.replace`` that dies (``Killed``) instead of renaming something onto ``target``."""
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == target:
            raise Killed
        real_replace(src, dst)

    return replace


@pytest.mark.parametrize("files", [0, 1, 2])
def test_share_copy_killed_at_every_file_shows_one_whole_version(proj, markers, monkeypatch, files):
    """Killed after ``files`` files of a new version were copied, the share still shows the old version whole;
    the next run shows the new one whole and sweeps every leftover."""
    share = proj.parent / "share"
    run_fake(proj, publish_dir=share)
    old = share_state(share)
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    copied = []

    def copy_then_die(source: Path, target: Path) -> None:
        if len(copied) == files:
            raise Killed
        shutil.copyfile(source, target)
        copied.append(target.name)

    monkeypatch.setattr(pipeline_publish, "share_copy", copy_then_die)
    if files == 2:  # both files copied: die before the switch instead
        monkeypatch.setattr(pipeline_publish.Publisher, "_switch_share", lambda *a: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        run_fake(proj, publish_dir=share)
    assert share_state(share) == old
    monkeypatch.undo()
    run_fake(proj, publish_dir=share)
    new = share_state(share)
    assert new != old and b"delayed" in new[1] and share_leftovers(share) == []


def test_share_without_symlinks_switches_by_renames_and_survives_a_kill_between_them(proj, markers, monkeypatch):
    share = proj.parent / "share"
    refuse_symlinks_under(share, monkeypatch)  # only the share refuses them; reports/ keeps its own
    run_fake(proj, publish_dir=share)
    old = share_state(share)
    assert not (share / MONTH).is_symlink()
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")
    real_replace = os.replace
    monkeypatch.setattr(pipeline_publish.os, "replace", dying_rename_onto(share / MONTH))  # the second rename
    with pytest.raises(Killed):
        run_fake(proj, publish_dir=share)
    monkeypatch.setattr(pipeline_publish.os, "replace", real_replace)
    assert not (share / MONTH).exists()  # the documented moment: absent, never mixed
    run_fake(proj, publish_dir=share)
    new = share_state(share)
    assert new != old and b"delayed" in new[1] and share_leftovers(share) == []


def test_full_reports_disk_is_a_storage_failure_and_the_previous_version_stands(proj, markers, monkeypatch):
    before = link_target(proj)
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")

    def full(folder):  # the disk fills while the new version is flushed
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline_publish, "fsync_folder", full)
    with pytest.raises(StorageFailure) as info:
        run_fake(proj)
    assert info.value.exit_code == 9 and "No space left on device" in str(info.value)
    assert link_target(proj) == before and "Previous reports stand" in info.value.summary
    monkeypatch.undo()
    assert run_fake(proj).published_now
    assert not list((proj / "reports" / ".versions" / MONTH).glob(".staging-*"))


# ----- report steps (the real renderer) -------------------------------------------------------
def _memo_notebook() -> nbformat.NotebookNode:
    params = nbformat.v4.new_code_cell(_PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell('---\ntitle: "Testnotat"\nlang: da\n---'), params,
        nbformat.v4.new_code_cell('from analysis.report import show\nshow.md(f"Notat for {month}.")'),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_report_steps_render_publish_and_fail_safely(proj, markers, monkeypatch):
    nbformat.write(_memo_notebook(), proj / "notebooks" / "memo.ipynb")
    memo = Step("memo", "notebooks/memo.ipynb", ("left",), outputs=("{build}/out/memo.html", "{build}/out/memo.docx"),
                report="memo", formats=("html", "docx"))
    steps = (*FAKE_STEPS, memo)
    result = run_fake(proj, steps=steps)
    assert statuses(result) == {"ingest": "reused", "left": "reused", "right": "reused", "report": "reused", "memo": "ran"}
    published = link_target(proj)
    assert sorted(p.name for p in published.iterdir()) == ["fake.html", "manifest.json", "memo.docx", "memo.html"]
    assert render.check_html(published / "memo.html") == []

    def broken(*args, **kwargs):
        raise render.RenderError("pandoc failed (exit 1)")

    monkeypatch.setattr(render, "render_report", broken)
    with pytest.raises(RenderFailure) as info:
        run_fake(proj, steps=steps, only=["memo"])
    assert info.value.exit_code == 5 and link_target(proj) == published


# ----- (8) interruption ---------------------------------------------------------------------
# The driver pins the test process's code version: the comparison is about the
# interruption, not about edits to the package while the test runs.
_DRIVER = """import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from analysis.pipeline import run
from tests.test_pipeline_runner import run_fake
run.code_version = lambda: {code!r}
run_fake(Path(sys.argv[1]), force=True)
"""


def _wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
@pytest.mark.parametrize("victim", [s.name for s in FAKE_STEPS])
def test_killed_run_never_publishes_and_the_rerun_matches_a_clean_run(proj, markers, victim):
    """SIGKILL a forced run while ``victim`` executes, its output half-written; the rerun repairs exactly that.

    The steps before the victim finished and are reused; the victim's record
    still matches its inputs, so only the altered output betrays it.
    """
    clean_outputs, good = outputs_of(proj), link_target(proj)
    good_files = {p.name: p.read_bytes() for p in good.iterdir()}
    driver = proj.parent / "driver.py"
    driver.write_text(_DRIVER.format(repo=str(REPO), code=pipeline_run.code_version()))
    env = os.environ | {"FAKE_VICTIM": victim}
    proc = subprocess.Popen([sys.executable, str(driver), str(proj)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = markers / f"{victim}.started"
    try:
        _wait_for(lambda: marker.exists() and marker.read_text().strip(), f"{victim} to start")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver's own session: the machine dying, as far as it knows
        proc.wait()
    kernel = int(marker.read_text().split()[0])
    _wait_for(lambda: not _alive(kernel), "the orphaned kernel to notice and exit", timeout=15)

    assert link_target(proj) == good
    assert {p.name: p.read_bytes() for p in good.iterdir()} == good_files
    result = run_fake(proj)
    assert {s.name: s.reason for s in result.steps if s.status == "ran"} == {
        victim: "outputs missing or altered since last run"}
    assert_complete(link_target(proj))
    assert outputs_of(proj) == clean_outputs


# ----- key figures against the previous published month ------------------------------------------
def _indicators(path: Path, period: str, support: float) -> None:
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"indicator": ["support_active", "persons_in_shelter"], "period": [period, period],
                  "breakdown": ["", ""], "value": [support, 420.0]}).to_parquet(path, index=False)


def test_a_key_figure_jumping_against_the_previous_month_stops_the_run_until_acknowledged(proj, markers):
    before = link_target(proj)
    january = proj / "reports" / ".versions" / "2023-01" / "v1"
    _indicators(january / "indicators.parquet", "2023-01", 4144.0)
    (proj / "reports" / "2023-01").symlink_to(january.relative_to(proj / "reports"))
    _indicators(proj / "build" / MONTH / "indicators" / "published.parquet", MONTH, 0.0)
    (proj / "raw" / "status" / f"{MONTH}.yml").write_text("spor1: delayed\n")  # a new version to publish
    with pytest.raises(BadData) as info:
        run_fake(proj)
    message = str(info.value)
    assert info.value.exit_code == 4 and "key figure support_active: 4,144 in 2023-01 (published), 0 in 2023-02" in message
    assert "key_figure.support_active" in message and "persons_in_shelter" not in message
    assert link_target(proj) == before and "Previous reports stand" in info.value.summary
    (proj / "raw" / "godkendelser.yml").write_text(
        '2023-02:\n  key_figure.support_active: "Bostøtten registreres i nyt system fra februar"\n', encoding="utf-8")
    result = run_fake(proj)
    assert result.published_now and any("key_figure.support_active acknowledged" in w for w in result.warnings)


def test_key_figure_findings_compare_levels_not_small_numbers():
    import pandas as pd

    from analysis.ingest.plausibility import key_figure_findings
    from analysis.params import load_params

    def table(period, values):
        return pd.DataFrame({"indicator": [i for i, _, _ in values], "period": period,
                             "breakdown": [b for _, b, _ in values], "value": [v for _, _, v in values]})

    params = load_params()
    before = table("2023-01", [("outflow", "to_housing", 30.0), ("outflow", "other", 10.0), ("inflow", "", 100.0),
                               ("support_active", "", None), ("dwellings_received", "", 5.0)])
    now = table("2023-02", [("outflow", "to_housing", 91.0), ("outflow", "other", 0.0), ("inflow", "", 34.0),
                            ("support_active", "", 0.0), ("dwellings_received", "", 19.0)])
    found = key_figure_findings(now, "2023-02", before, "2023-01", params)
    # outflow to housing ×3.03; inflow ÷2.9 stays; other 10 → 0 and 5 → 19 are below the base of 20; a blank
    # (suppressed) cell is never compared
    assert [f.check for f in found] == ["key_figure.outflow"] and "outflow (to_housing)" in found[0].message
