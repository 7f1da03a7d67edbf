"""The run's failures and the exit-code table the scheduler (and the README) reads.

Every failure class carries its exit code (``analysis.failures.RunFailure``):
the runner's own below, the domain's where they are defined (ingest errors,
the narrative check, the renderer). A failure inside a notebook
reaches the runner as papermill's error with the class name only;
:func:`kernel_failure` turns that name back into the class and its code.
"""
from __future__ import annotations

import importlib

from analysis import cpr
from analysis.failures import RunFailure

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

# The modules whose failures a step's kernel can raise; imported before a class name from a kernel is looked up,
# so that every such class is known here (the runner itself need not have imported them).
KERNEL_FAILURE_MODULES = ("analysis.ingest.errors", "analysis.report.narrative", "analysis.report.render")


class PipelineError(RunFailure, RuntimeError):
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


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def pipeline_error(exit_code: int) -> type[PipelineError]:
    """The runner's failure class for an exit code (the e-mail's head and the CLI's exit follow from it)."""
    return next((c for c in _subclasses(PipelineError) if c.exit_code == exit_code), PipelineError)


def as_pipeline_error(exc: RunFailure) -> PipelineError:
    """A domain failure (ingest, narrative, renderer) as the runner's failure of the same exit code."""
    return exc if isinstance(exc, PipelineError) else pipeline_error(exc.exit_code)(str(exc))


def kernel_failure(ename: str, evalue: str, where: str) -> PipelineError:
    """The runner's failure for an exception a step's kernel raised, known by its class name only.

    The package's own failures are written to name file, row and column, never a cell's value, so
    their message is kept. Any other exception's message stays in the executed notebook (in the
    build folder, with the traceback): a library's ``KeyError`` or ``ValueError`` may quote a value
    from the data, and this message goes to the run log and the scheduler's e-mail.
    """
    for module in KERNEL_FAILURE_MODULES:
        importlib.import_module(module)
    raised = next((c for c in _subclasses(RunFailure) if c.__name__ == ename), None)
    detail = f"{ename}: {evalue}" if raised else f"{ename} (its message is in the executed notebook only)"
    return pipeline_error((raised or PipelineError).exit_code)(f"{where}: {detail}")


def exit_code_for(exc: BaseException) -> int:
    """The table's exit code for any failure that reaches the command line, so none ends in a traceback."""
    if isinstance(exc, RunFailure):
        return exc.exit_code
    if isinstance(exc, ValueError):  # a parameter file or override (analysis.params.ParameterError), an argument
        return ConfigurationError.exit_code
    if isinstance(exc, OSError):
        return StorageFailure.exit_code
    return PipelineError.exit_code
