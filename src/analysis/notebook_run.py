"""Executing one step's notebook with papermill, as the monthly run needs it.

Two departures from papermill's defaults, both about time, neither about what
the notebook computes:

- papermill rewrites (and validates) the whole executed notebook before and
  after every cell; here it is written when execution starts, at papermill's
  autosave interval and when it ends (also on failure). In the status memo that
  saves about 0.35 s per run. The executed notebook is a diagnostic in the build
  folder, never published, so a run killed mid-step loses at most the last
  seconds of per-cell progress marks.
- The kernel is stopped at once when the last cell is done: every output is
  written by then, and ipykernel 7 now and then ignores a polite shutdown
  request, which costs jupyter_client's full shutdown wait (about 3.5 s, in
  1 of ~15 executions measured) before it kills the kernel anyway.

One departure about correctness: papermill's ``cwd=`` calls ``os.chdir`` for
the whole process while the runner executes steps in threads, so a kernel
started beside another step's would start (and save its figures) in that
step's folder. The kernel's folder is therefore handed to the kernel manager
alone (nbclient's ``resources["metadata"]["path"]``, the ``cwd`` of the kernel
process), and the parent's working directory is never changed.

A failed notebook's traceback may quote a value from the data; anything in the
executed notebook shaped like a CPR number is then masked (``analysis.cpr``).

Kernels run with ``log_output=False`` (a step's tables are no business of the
run log), so what a step's code writes to stderr (``warnings.warn``, a logger's
warning, which Python prints to stderr when nothing is configured) stays in the
executed notebook; :func:`kernel_warnings` reads it back for the run log.

A kernel that fails to start (it dies before answering, does not answer in time, or
loses the race for the ports jupyter_client picked, which happens when several
kernels start at once on a busy machine) is started again, up to
``KERNEL_START_ATTEMPTS`` times: no cell has run, so nothing is done twice. An
error in a cell is never retried.

Imported only when a notebook step runs: papermill takes over a second to import.
"""
from __future__ import annotations

import errno
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
import papermill
import zmq
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

from analysis import cpr
from analysis.base.escape import one_line

ENGINE = "analysis"
PapermillExecutionError = papermill.PapermillExecutionError
# ``warnings.warn`` prints "<file>:<line>: <Category>: <message>", then the source line, indented
_WARNING_LINE = re.compile(r"^\S.*?:\d+: (?P<text>\w*Warning: .*)$")
WARNING_CHARS = 300  # a warning line in the run log and the summary, at most


class _FewerSaves(NotebookExecutionManager):
    """papermill's execution manager without the two whole-notebook writes per cell."""

    _held = False

    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def save(self, **kwargs) -> None:
        if not self._held:
            super().save(**kwargs)

    def cell_start(self, cell, cell_index=None, **kwargs) -> None:
        with self._hold():
            super().cell_start(cell, cell_index, **kwargs)

    def cell_complete(self, cell, cell_index=None, **kwargs) -> None:
        with self._hold():
            super().cell_complete(cell, cell_index, **kwargs)
        self.autosave_cell()  # a long step still shows its progress every autosave interval


class _Engine(NBClientEngine):
    """papermill's nbclient engine with :class:`_FewerSaves` (same flow as ``Engine.execute_notebook``)."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = _FewerSaves(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                             autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(ENGINE, _Engine)


KERNEL_START_ATTEMPTS = 3
# jupyter_client's words when a kernel never became ready (nbclient raises them as RuntimeError).
_KERNEL_NOT_STARTED = re.compile(r"^Kernel (died before replying to kernel_info|didn't respond in)")


def kernel_not_started(exc: BaseException) -> bool:
    """True when ``exc`` says the kernel never became ready, so no cell of the notebook ran."""
    if isinstance(exc, zmq.ZMQError):
        return exc.errno == errno.EADDRINUSE
    return isinstance(exc, RuntimeError) and bool(_KERNEL_NOT_STARTED.match(str(exc)))


def execute(notebook: Path, executed: Path, parameters: dict, cwd: Path, report: bool) -> None:
    """Run ``notebook`` with ``parameters`` into ``executed``, its kernel in ``cwd``; raises ``PapermillExecutionError``.

    Safe to call from several threads at once: ``cwd`` is the kernel process's
    folder only (see the module docstring), and every path handed over is absolute.
    """
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    str(Path(notebook).resolve()), str(Path(executed).resolve()), parameters=parameters,
                    engine_name=ENGINE, kernel_name="python3", progress_bar=False, log_output=False,
                    report_mode=report, shutdown_kernel="immediate",
                    resources={"metadata": {"path": str(Path(cwd).resolve())}},
                )
                return
            except Exception as exc:
                if attempt == KERNEL_START_ATTEMPTS or not kernel_not_started(exc):
                    raise
    except Exception:
        if executed.is_file():
            text = executed.read_text(encoding="utf-8")
            if cpr.contains(text):
                executed.write_text(cpr.mask(text), encoding="utf-8")
        raise


def kernel_warnings(executed: Path) -> list[str]:
    """The lines a step's code wrote to stderr, one per warning, CPR-shaped numbers masked.

    A ``warnings.warn`` line is shortened to "Category: message" (its file is the kernel's
    temporary cell file, its echoed source line is dropped); any other line is kept as written,
    less control and bidi characters, and cut at ``WARNING_CHARS`` (a library may print a cell).
    """
    if not executed.is_file():
        return []
    found: list[str] = []
    for cell in nbformat.read(executed, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "stream" or output.get("name") != "stderr":
                continue
            for line in output.get("text", "").splitlines():
                if line.strip() and not line[0].isspace():
                    match = _WARNING_LINE.match(line)
                    found.append(cpr.mask(one_line(match["text"] if match else line))[:WARNING_CHARS])
    return found
