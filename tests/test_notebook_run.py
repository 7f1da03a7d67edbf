"""The runner's papermill engine: the executed notebook is complete, written fewer times, and failures still land on disk."""
from __future__ import annotations

import errno

import nbformat
import papermill.engines
import pytest
import zmq

from analysis import notebook_run

def notebook(path, *sources: str):
    params = nbformat.v4.new_code_cell('x = 0')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, *(nbformat.v4.new_code_cell(s) for s in sources)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def writes(monkeypatch):
    """Count whole-notebook writes (papermill's manager calls write_ipynb on every save)."""
    count = []
    real = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: (count.append(path), real(nb, path)))
    return count


def test_executed_notebook_has_every_output_and_is_written_at_start_and_end(tmp_path, writes):
    source = notebook(tmp_path / "in.ipynb", "y = x + 1", "print(y)", "open('done.txt', 'w').write(str(y))", "y * 10")
    executed = tmp_path / "out.ipynb"
    notebook_run.execute(source, executed, {"x": 41}, tmp_path, report=False)
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]  # parameters, papermill's injected cell, then ours
    assert code[3].outputs[0]["text"] == "42\n"
    assert code[5].outputs[0]["data"]["text/plain"] == "420"
    assert all(c.metadata.papermill["status"] == "completed" for c in code)
    assert (tmp_path / "done.txt").read_text() == "42"
    # papermill's own manager writes 2 + 2 per cell (12 here); start and end are enough.
    assert len(writes) == 2


def test_a_failing_cell_raises_and_the_executed_notebook_shows_the_error(tmp_path, writes):
    source = notebook(tmp_path / "in.ipynb", "y = x + 1", "raise KeyError('no such extract')", "z = 1")
    executed = tmp_path / "out.ipynb"
    with pytest.raises(notebook_run.PapermillExecutionError) as info:
        notebook_run.execute(source, executed, {"x": 1}, tmp_path, report=False)
    assert info.value.ename == "KeyError"
    nb = nbformat.read(executed, as_version=4)
    failed = [c for c in nb.cells if c.cell_type == "code" and c.metadata.papermill.get("exception")]
    assert len(failed) == 1 and "no such extract" in str(failed[0].outputs)
    assert nb.metadata.papermill["exception"] is True


def test_parallel_steps_each_run_in_their_own_folder(tmp_path):
    """Two notebooks at once (the runner's --jobs 2): each kernel starts in its own folder, not the other's.

    papermill's ``cwd`` changes the whole process's working folder, so a kernel started meanwhile by another
    thread inherited the wrong one (the memo's figures were saved in the forecast's folder and not embedded).
    """
    from concurrent.futures import ThreadPoolExecutor

    source = notebook(tmp_path / "in.ipynb", "import os, time; time.sleep(1); open('where.txt', 'w').write(os.getcwd())")
    folders = [tmp_path / name for name in ("memo", "forecast", "quality", "retention")]
    for folder in folders:
        folder.mkdir()
    with ThreadPoolExecutor(max_workers=len(folders)) as pool:
        list(pool.map(lambda f: notebook_run.execute(source, f / "out.ipynb", {"x": 1}, f, report=False), folders))
    assert [(f / "where.txt").read_text() for f in folders] == [str(f) for f in folders]


class _FlakyStart:
    """papermill.execute_notebook stand-in: raises ``errors`` one per call, then succeeds."""

    def __init__(self, *errors: BaseException):
        self.errors, self.calls = list(errors), 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


@pytest.mark.parametrize("error", [
    RuntimeError("Kernel died before replying to kernel_info"),
    RuntimeError("Kernel didn't respond in 60 seconds"),
    zmq.ZMQError(errno.EADDRINUSE),
])
def test_a_kernel_that_never_started_is_started_again(tmp_path, monkeypatch, error):
    flaky = _FlakyStart(error, error)
    monkeypatch.setattr(notebook_run.papermill, "execute_notebook", flaky)
    notebook_run.execute(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {}, tmp_path, report=False)
    assert flaky.calls == 3  # two failed starts, then the run


def test_kernel_start_gives_up_after_the_last_attempt(tmp_path, monkeypatch):
    flaky = _FlakyStart(*[RuntimeError("Kernel died before replying to kernel_info")] * notebook_run.KERNEL_START_ATTEMPTS)
    monkeypatch.setattr(notebook_run.papermill, "execute_notebook", flaky)
    with pytest.raises(RuntimeError, match="Kernel died"):
        notebook_run.execute(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {}, tmp_path, report=False)
    assert flaky.calls == notebook_run.KERNEL_START_ATTEMPTS


@pytest.mark.parametrize("error", [
    RuntimeError("Kernel died in cell 3"),  # not a start failure: a cell may have run
    zmq.ZMQError(errno.ECONNREFUSED),
    ValueError("Kernel died before replying to kernel_info"),
])
def test_other_failures_are_not_retried(tmp_path, monkeypatch, error):
    flaky = _FlakyStart(error)
    monkeypatch.setattr(notebook_run.papermill, "execute_notebook", flaky)
    with pytest.raises(type(error)):
        notebook_run.execute(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {}, tmp_path, report=False)
    assert flaky.calls == 1


def test_a_failing_cell_runs_once(tmp_path):
    """A cell error is the notebook's own, never a start failure: the step is not run twice."""
    source = notebook(tmp_path / "in.ipynb", "open('runs.txt', 'a').write('x')", "1 / 0")
    with pytest.raises(notebook_run.PapermillExecutionError):
        notebook_run.execute(source, tmp_path / "out.ipynb", {"x": 1}, tmp_path, report=False)
    assert (tmp_path / "runs.txt").read_text() == "x"


def test_kernel_warnings_are_one_clean_masked_line_of_bounded_length(tmp_path):
    """Any stderr line reaches the run log and the e-mail: one line, without control or bidi characters,
    CPR-shaped numbers masked, cut at WARNING_CHARS (a library may print a cell); a warnings.warn line
    keeps only "Category: message"."""
    from analysis import cpr

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text=(
        "/tmp/ipykernel_1/123.py:4: UserWarning: kolonne\u202e 6108802020 ignoreret\n  warnings.warn(x)\n"
        "progress\x1b[0m 50 %\rdone\n" + "y" * 1000 + "\n"))]
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    first, progress, done, long = notebook_run.kernel_warnings(path)  # a carriage return splits the line, too
    assert first == f"UserWarning: kolonne {cpr.MASK} ignoreret"
    assert (progress, done) == ("progress[0m 50 %", "done")  # the escape character is gone
    assert long == "y" * notebook_run.WARNING_CHARS
