"""Running the step graph: ready steps in parallel, the longest remaining chain first; run locks."""
from __future__ import annotations

import fcntl
import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from analysis.pipeline.errors import RunLocked
from analysis.pipeline.steps import Step, StepResult

log = logging.getLogger(__name__)


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


def critical_path(steps: tuple[Step, ...], seconds: Callable[[Step], float]) -> dict[str, float]:
    """Per step, the seconds of its longest chain to the end of the run (``seconds``: a step's own, last run)."""
    rank: dict[str, float] = {}

    def chain(step: Step) -> float:
        if step.name not in rank:
            rank[step.name] = seconds(step) + max((chain(d) for d in steps if step.name in d.needs), default=0.0)
        return rank[step.name]

    for step in steps:
        chain(step)
    return rank


def run_graph(steps: tuple[Step, ...], jobs: int, rank: dict[str, float], run_step: Callable[[Step], StepResult],
              results: dict[str, StepResult]) -> None:
    """Run steps as their dependencies finish, up to ``jobs`` at once, the highest ``rank`` first, into ``results``.

    Steps are handed to the pool only when a worker is free, so a step that
    becomes ready later but heads a longer chain does not queue behind short ones.
    The first failure is raised once the running steps have finished.
    """
    jobs = max(1, jobs)
    pending = {s.name: s for s in steps}
    running: dict[Future, Step] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            if failure is None:
                ready = [s for s in pending.values() if all(n in results for n in s.needs)]
                ready.sort(key=lambda s: -rank[s.name])  # stable: ties keep the graph's order
                for step in ready[:jobs - len(running)]:
                    del pending[step.name]
                    running[pool.submit(run_step, step)] = step
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                step = running.pop(fut)
                try:
                    results[step.name] = fut.result()
                except BaseException as exc:  # noqa: BLE001 - first failure wins, the rest finish
                    failure = failure or exc
    if failure is not None:
        raise failure
