"""The base of every failure that ends a run with its own exit code.

Each failure class says which exit code it means (``exit_code``), so the
scheduler's code follows from the class itself wherever it is raised: in the
runner, in a command, or inside a step's kernel, from which papermill returns
the class name only (``analysis.pipeline.errors.kernel_failure`` finds the
class by that name). The meaning of each code is the table in
``analysis.pipeline.errors.EXIT_CODES``. This module imports nothing, so every
package can raise these failures without reaching upward.
"""
from __future__ import annotations

from typing import ClassVar


class RunFailure(Exception):
    """A failure that tells the scheduler what kind it is through ``exit_code`` (6: a step failed)."""

    exit_code: ClassVar[int] = 6
