"""Report steps executed side by side, as the runner does, publish every figure every time.

papermill's ``cwd=`` used to ``os.chdir`` the whole process, so a kernel started
while another step was executing began, and saved its figures, in that step's
folder: most cold runs then published reports with missing pictures. Here two
report notebooks run in two threads (the runner's ``--jobs 2``), round after
round, each in its own build folder, and every rendered file must embed every
figure its notebook drew.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from analysis import notebook_run
from analysis.report import render
from analysis.report.checks import check_html_images

ROUNDS = 4
FIGURES = 3

DRAW = """\
import pandas as pd
from analysis.report import charts, show
charts.apply_style()
for i in range({n}):
    series = pd.DataFrame({{"period": ["2023-01", "2023-02", "2023-03"], "value": [1.0 + i, 2.0, 3.0 * i]}})
    fig = charts.line_chart(series, "period", "value", title=f"{name} {{i}}", ylabel="Antal")
    show.figure(fig, f"{name}_{{i}}", alt=f"Linjediagram {name} nummer {{i}}.", caption=f"{name} {{i}}")
"""


def _report(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_raw_cell(f'---\ntitle: "{name}"\nlang: da\n---'),
                nbformat.v4.new_code_cell('month = "2023-02"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_markdown_cell(f"## {name}"),
                nbformat.v4.new_code_cell(DRAW.format(n=FIGURES, name=name))]
    return nb


def _step(source: Path, build: Path, round_: int) -> render.RenderResult:
    """What Runner._execute does for a report step: execute in the step's folder, then render."""
    work = build / f"round{round_}" / "work" / source.stem
    work.mkdir(parents=True)
    executed = work / source.name
    notebook_run.execute(source, executed, {"month": "2023-02"}, work, report=True)
    return render.render_report(executed, build / f"round{round_}" / "out", formats=("html",))


@pytest.mark.slow
def test_report_steps_side_by_side_embed_every_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)  # the renderer is not what is under test
    sources = []
    for name in ("memo", "prognose"):
        sources.append(tmp_path / "src" / f"{name}.ipynb")
        sources[-1].parent.mkdir(exist_ok=True)
        nbformat.write(_report(name), sources[-1])
    cwd = Path.cwd()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [r for round_ in range(ROUNDS)
                   for r in pool.map(lambda s, r=round_: _step(s, tmp_path / "build", r), sources)]
    assert Path.cwd() == cwd == Path(os.getcwd())  # nobody changed the process's folder
    for result in results:
        assert result.figures == FIGURES and result.problems == []
        assert check_html_images(result.files["html"], FIGURES) == []
    strays = [p for p in tmp_path.rglob("*.png") if p.parent.parent.name not in {"memo", "prognose"}]
    assert strays == []  # every figure landed in its own step's folder
    assert not (cwd / "figures").exists()
