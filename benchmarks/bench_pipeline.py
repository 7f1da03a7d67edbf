"""Monthly-run benchmark (issue 7): cold run, warm rerun, narrative-only rerun, against the floor.

Usage: python benchmarks/bench_pipeline.py [--scale 1] [--jobs 2] [--repeat 3] [--month YYYY-MM] [--no-record]
       python benchmarks/bench_pipeline.py --compare-renderers [--repeat 3] …   (issue 14; quarto on PATH)
       python benchmarks/bench_pipeline.py --integrity 20 …   (issue 14: every picture in every cold run)

With ``--compare-renderers`` it times cold runs rendered by Quarto against cold
runs rendered by the nbconvert + pandoc fallback instead, alternated in one
benchmark run (target: Quarto cold run <= 1.5 x the fallback's). With ``--integrity N``
it makes N consecutive cold runs with whichever renderer is on PATH and checks
every published report's pictures with the render checks themselves
(``check_html_images``, ``check_docx_images``) against the figures each step drew:
an embedded, valid image for each, no relative or missing one. Without them,
every run renders with the fallback, whatever is on PATH: the floor and the
cold/floor target are the fallback's.

On the synthetic default extract (``analysis.synthetic.generate`` with the
CLI's defaults, into benchmarks/out/, not in git) it times the real ``Runner``:

- cold: empty processed, build and reports folders, every step runs;
- warm: the same run again, nothing changed (target < 5 s, no kernel starts);
- narrative: only ``status/<M>.yml`` changed (target: only status_memo reruns);
- floor: the same scheduler, parallelism and number of papermill executions,
  of notebooks that only ``import analysis``, plus rendering each report step's
  empty report with ``render_report`` (target: cold < 2.5 x floor).

For reference it also times a second floor whose notebooks run their step's
own import statements (pandas, matplotlib and the package modules, as each
notebook loads them at the top; libraries a step loads later, such as
seaborn, stay on the analysis side). The target is judged
against the first floor only.

Cold runs and floor runs alternate ``--repeat`` times and each is judged by
its median, so a hiccup of the shared machine during one run moves neither
figure much and hits both alike.

Each run is timed as a fresh Python process (``--child``), as the scheduler
starts it, so start-up, imports and the code fingerprint count; all runs use a
frozen copy of the package and notebooks (benchmarks/out/pipeline/code). The floor is
what any notebook pipeline of this shape costs (kernel starts, package import,
renderer), so cold/floor says how much the analysis itself adds. Figures are
appended to benchmarks/RESULTS.md unless --no-record.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from analysis.pipeline.errors import PipelineError
from analysis.pipeline.run import RunConfig, Runner
from analysis.pipeline.steps import STEPS, Step
from results_file import RESULTS, record

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out" / "pipeline"
SEED = 2023
TARGET_RATIO, TARGET_WARM_S, TARGET_QUARTO = 2.5, 5.0, 1.5
_PARAMETERS = 'month = ""\nraw_dir = "data/raw"\nprocessed_dir = "data/processed"\nbuild_dir = ""\nparam_overrides = []\n'


class FloorRunner(Runner):
    """The real scheduler and renderer on empty notebooks; an empty report's check findings do not count."""

    def _render(self, step: Step, executed: Path) -> None:
        from analysis.report.render import render_report

        render_report(executed, self.build / "out", formats=step.formats)


def step_imports(notebook: Path) -> str:
    """The import statements of a step's notebook, in order, without the code around them."""
    import ast

    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    found = [ast.unparse(node) for cell in nb.cells if cell.cell_type == "code"
             for node in ast.parse(cell.source).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(found))


def write_floor_notebooks(root: Path, imports: bool = False) -> None:
    """An empty notebook per notebook step: parameters, ``import analysis``, and a title for reports.

    ``imports``: the step's own import statements instead of ``import analysis``
    (pandas, matplotlib, seaborn … as the step loads them), so that
    floor shows what is left once the libraries the design chose are loaded.
    """
    import nbformat  # not at the top: the children's start-up is part of what is timed

    (root / "floor").mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        if not step.notebook:
            continue
        params = nbformat.v4.new_code_cell(_PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        body = step_imports(REPO / step.notebook) if imports else "import analysis"
        cells = [params, nbformat.v4.new_code_cell(body)]
        if step.report:
            cells.insert(0, nbformat.v4.new_raw_cell('---\ntitle: "Tom rapport"\nlang: da\n---'))
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "floor" / f"{step.name}.ipynb")


def floor_steps() -> tuple[Step, ...]:
    """STEPS on the empty notebooks; the in-process steps drop out and their needs pass through."""
    inline = {s.name: s.needs for s in STEPS if not s.notebook}

    def needs(step: Step) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for need in step.needs for n in inline.get(need, (need,))))

    return tuple(dataclasses.replace(s, notebook=f"floor/{s.name}.ipynb", needs=needs(s), outputs=(), indicators=False)
                 for s in STEPS if s.notebook)


@dataclass
class Run:
    """One measured run: wall time of a fresh process, as the scheduler starts it, and its steps."""

    seconds: float
    month: str
    steps: list[tuple[str, str, float]]  # name, "ran" | "reused", seconds

    @property
    def ran(self) -> list[str]:
        return [name for name, status, _ in self.steps if status == "ran"]


def config(prefix: str, month: str, jobs: int, **kw) -> RunConfig:
    return RunConfig(month=month, raw_dir=OUT / "raw", processed_dir=OUT / prefix / "processed",
                     build_root=OUT / prefix / "build", reports_dir=OUT / prefix / "reports",
                     log_dir=OUT / prefix / "logs", jobs=jobs, **kw)


def snapshot() -> dict[str, str]:
    """A frozen copy of the package and notebooks, and the environment that makes runs (and kernels) use it.

    Someone saving a module or a notebook between two runs would rightly rerun
    everything; the benchmark measures the pipeline, not a moving checkout.
    The copy is byte-compiled, as an installed package is (pip compiles on
    install, and Python caches bytecode on first import unless
    PYTHONDONTWRITEBYTECODE is set, as it is on this machine): otherwise every
    kernel would compile the package's modules again (~50 ms).
    """
    import compileall

    code = OUT / "code"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    shutil.copytree(REPO / "src" / "analysis", code / "analysis", ignore=ignore)
    compileall.compile_dir(code / "analysis", quiet=1)
    shutil.copytree(REPO / "notebooks", code / "notebooks", ignore=ignore)
    (code / "reports").mkdir()
    for nb in (REPO / "reports").glob("*.ipynb"):
        shutil.copy2(nb, code / "reports" / nb.name)
    return os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))}


def renderer_env(env: dict[str, str], quarto: bool) -> dict[str, str]:
    """``env`` whose PATH finds Quarto (its folder first) or does not (every folder holding a ``quarto`` dropped)."""
    found = shutil.which("quarto", path=env.get("PATH"))
    folders = [f for f in env.get("PATH", "").split(os.pathsep) if f and not (Path(f) / "quarto").exists()]
    if quarto:
        if found is None:
            sys.exit("--compare-renderers needs quarto on PATH")
        folders.insert(0, str(Path(found).parent))
    return env | {"PATH": os.pathsep.join(folders)}


def entry_head(title: str, argv: list[str] | None, args: argparse.Namespace, month: str) -> list[str]:
    """The first lines of a RESULTS.md entry: title with the time, the command, the machine and the data set;
    the caller ends the last line with how the runs were taken."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python benchmarks/bench_pipeline.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    return [f"### {title} — {stamp}", "", f"Command: `{cmd}`  ",
            f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores (shared), Python "
            f"{platform.python_version()}; month {month}, synthetic default (seed {SEED}, scale {args.scale:g}), "
            f"--jobs {args.jobs};"]


def compare_renderers(args: argparse.Namespace, env: dict[str, str], argv: list[str] | None) -> int:
    """Cold runs with Quarto and with the fallback, alternated; medians compared (issue 14)."""
    envs = {"fallback": renderer_env(env, quarto=False), "quarto": renderer_env(env, quarto=True)}
    runs: dict[str, list[Run]] = {"fallback": [], "quarto": []}
    for _ in range(args.repeat):
        for name, run_env in envs.items():
            shutil.rmtree(OUT / "run", ignore_errors=True)
            runs[name].append(fresh_run("run", args.month, args.jobs, run_env))
    medians = {name: median_run(r) for name, r in runs.items()}
    fallback, quarto = medians["fallback"], medians["quarto"]
    ratio = quarto.seconds / fallback.seconds
    version = subprocess.run(["quarto", "--version"], capture_output=True, text=True, env=envs["quarto"]).stdout.strip()
    labels = {"fallback": "fallback (nbconvert + pandoc)", "quarto": f"Quarto {version}"}
    report_steps = {s.name for s in STEPS if s.report}
    rows = []
    for name, med in medians.items():
        reports = ", ".join(f"{n} {sec:.1f}" for n, _, sec in med.steps if n in report_steps)
        rows.append(f"| {labels[name]} | {med.seconds:.1f} | {spread(runs[name])} | {reports} |")
        print(f"cold run, {labels[name]:32s} {med.seconds:6.1f} s  (runs: {spread(runs[name])}; "
              f"report steps s: {reports})")
    ok = ratio <= TARGET_QUARTO
    print(f"{'ok  ' if ok else 'MISS'} Quarto/fallback = {ratio:.2f} (target <= {TARGET_QUARTO})")
    if not args.no_record:
        record("## Quarto against the fallback (issue 14)", "\n".join([
            *entry_head("Quarto against the fallback", argv, args, quarto.month),
            f"each run a fresh process, cold (nothing processed, built or published); the two renderers "
            f"alternated {args.repeat} times, medians compared", "",
            "| renderer | cold run, median (s) | runs (s) | report steps (s, median run) |", "|---|---:|---|---|",
            *rows, "",
            f"Quarto/fallback = {ratio:.2f}; {'met' if ok else 'MISSED'}: target <= {TARGET_QUARTO}.",
        ]))
        print(f"recorded in {RESULTS}")
    return 0 if ok else 1


def integrity(args: argparse.Namespace, env: dict[str, str], argv: list[str] | None) -> int:
    """``--integrity N``: N consecutive cold runs; every published picture embedded, valid and counted (issue 14)."""
    from analysis.report.checks import check_docx_images, check_html_images

    checks = {".html": check_html_images, ".docx": check_docx_images}
    failed = []
    for i in range(1, args.integrity + 1):
        shutil.rmtree(OUT / "run", ignore_errors=True)
        run = fresh_run("run", args.month, args.jobs, env)
        problems = []
        reports = sorted(p for p in (OUT / "run" / "reports" / run.month).iterdir() if p.suffix in checks)
        for report in reports:
            drawn = len(list((OUT / "run" / "build" / run.month / "work" / report.stem / "figures").glob("*.png")))
            problems += [f"{report.name}: {p}" for p in checks[report.suffix](report, drawn)]
        print(f"cold run {i:2d}: {run.seconds:5.1f} s, {len(reports)} reports, "
              f"{'; '.join(problems) if problems else 'every picture embedded'}")
        failed += [i] if problems else []
    renderer = "Quarto" if shutil.which("quarto", path=env.get("PATH")) else "the nbconvert + pandoc fallback"
    text = (f"{args.integrity} consecutive cold runs (--jobs {args.jobs}, rendered with {renderer}): "
            f"{args.integrity - len(failed)} published every report with every picture embedded, valid and as many "
            f"as its notebook drew" + (f"; runs with a problem: {failed}" if failed else "") + ".")
    print(text)
    if not args.no_record:
        record("## Quarto against the fallback (issue 14)", "\n".join([
            *entry_head("Picture integrity of cold runs", argv, args, run.month), "", text]))
        print(f"recorded in {RESULTS}")
    return 1 if failed else 0


def child(kind: str, month: str, jobs: int) -> int:
    """The run itself, in this fresh process; its steps go to stdout as JSON for the parent."""
    if kind.startswith("floor"):
        runner = FloorRunner(config(kind, month, jobs, force=True), root=OUT / f"{kind}_root",
                             steps=floor_steps(), required_extracts=())
    else:
        runner = Runner(config("run", month, jobs), root=OUT / "code")
    try:
        result = runner.run()
    except PipelineError as exc:
        print(exc.summary or exc, file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"month": result.month, "steps": [(s.name, s.status, s.seconds) for s in result.steps]}))
    return 0


def fresh_run(kind: str, month: str, jobs: int, env: dict[str, str]) -> Run:
    """Wall time includes Python start-up and imports, which a warm rerun pays too."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--month", month, "--jobs", str(jobs)],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{kind} run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(seconds, data["month"], [tuple(step) for step in data["steps"]])


def median_run(runs: list[Run]) -> Run:
    """The run with the median wall time (the upper middle one for an even count), steps and all."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[len(ordered) // 2]


def spread(runs: list[Run]) -> str:
    return ", ".join(f"{r.seconds:.1f}" for r in runs)


def critical_path(run: Run) -> tuple[list[str], float]:
    """The chain of steps whose durations add up to the longest path through the graph."""
    seconds = {name: sec for name, _, sec in run.steps}
    best: dict[str, tuple[float, list[str]]] = {}
    for step in STEPS:  # topologically ordered
        before = max((best[n] for n in step.needs), default=(0.0, []))
        best[step.name] = (before[0] + seconds[step.name], [*before[1], step.name])
    total, chain = max(best.values())
    return chain, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="cold and floor runs, alternated; medians compared")
    ap.add_argument("--month", default="", help="reference month (default: the extract's last complete month)")
    ap.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    ap.add_argument("--compare-renderers", action="store_true",
                    help="cold runs with Quarto (on PATH) against the fallback, instead of the runs above")
    ap.add_argument("--integrity", type=int, default=0, metavar="N",
                    help="N consecutive cold runs, each published picture checked, instead of the runs above")
    ap.add_argument("--child", choices=["run", "floor", "floor_imports"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.month, args.jobs)

    from analysis.synthetic import generate  # not in the children: their start-up is part of what is timed

    shutil.rmtree(OUT, ignore_errors=True)
    generate(OUT / "raw", seed=SEED, scale=args.scale)
    env = snapshot()
    if args.compare_renderers:
        return compare_renderers(args, env, argv)
    if args.integrity:
        return integrity(args, env, argv)
    env = renderer_env(env, quarto=False)
    write_floor_notebooks(OUT / "floor_root")
    write_floor_notebooks(OUT / "floor_imports_root", imports=True)
    colds, floors, import_floors = [], [], []
    for _ in range(args.repeat):
        shutil.rmtree(OUT / "run", ignore_errors=True)  # cold: nothing processed, built or published yet
        colds.append(fresh_run("run", args.month, args.jobs, env))
        floors.append(fresh_run("floor", args.month, args.jobs, env))
        import_floors.append(fresh_run("floor_imports", args.month, args.jobs, env))
    cold, floor, import_floor = median_run(colds), median_run(floors), median_run(import_floors)
    warm = fresh_run("run", args.month, args.jobs, env)
    status = OUT / "raw" / "status" / f"{cold.month}.yml"
    status.write_text(status.read_text(encoding="utf-8") + "\n# benchmark: the analysts edited the narrative\n",
                      encoding="utf-8")
    narrative = fresh_run("run", args.month, args.jobs, env)
    executions = sum(1 for s in STEPS if s.notebook and s.name in cold.ran)
    reports = sum(1 for s in STEPS if s.report)
    assert len(floor.ran) == executions, (floor.ran, cold.ran)

    per_step = ", ".join(f"{name} {sec:.1f}" for name, _, sec in cold.steps)
    chain, chain_s = critical_path(cold)
    path = f"critical path {' → '.join(chain)} = {chain_s:.1f} s"
    print(f"month {cold.month}, scale {args.scale:g}, jobs {args.jobs}; wall time of a fresh process per run; "
          f"cold and floor: median of {args.repeat}")
    print(f"cold run            {cold.seconds:7.1f} s   (runs: {spread(colds)}; {executions} notebooks; "
          f"per step s: {per_step})")
    print(f"                              {path}")
    print(f"warm rerun          {warm.seconds:7.1f} s   ran: {warm.ran or 'nothing'}")
    print(f"narrative changed   {narrative.seconds:7.1f} s   ran: {narrative.ran}")
    print(f"floor               {floor.seconds:7.1f} s   (runs: {spread(floors)}; {executions} empty notebooks "
          f"+ {reports} empty reports)")
    print(f"floor with imports  {import_floor.seconds:7.1f} s   (runs: {spread(import_floors)}; the same, each "
          f"notebook running its step's own import statements; for reference)")
    ratio = cold.seconds / floor.seconds
    import_ratio = cold.seconds / import_floor.seconds
    print(f"     cold/floor with imports = {import_ratio:.2f} (reference, not the target)")
    checks = {
        f"cold/floor = {ratio:.2f} (target < {TARGET_RATIO})": ratio < TARGET_RATIO,
        f"warm rerun {warm.seconds:.1f} s (target < {TARGET_WARM_S:g} s), nothing ran":
            warm.seconds < TARGET_WARM_S and not warm.ran,
        f"narrative-only change reran {narrative.ran} (target: ['status_memo'])": narrative.ran == ["status_memo"],
    }
    for text, ok in checks.items():
        print(f"{'ok  ' if ok else 'MISS'} {text}")

    if not args.no_record:
        record("## Monthly run (issue 7)", "\n".join([
            *entry_head("Monthly run (issue 7)", argv, args, cold.month),
            f"each run timed as a fresh process; cold and floor alternated {args.repeat} times, medians compared", "",
            "| run | seconds | steps run |", "|---|---:|---|",
            f"| cold (median; runs {spread(colds)}) | {cold.seconds:.1f} | all {len(cold.ran)} |",
            f"| warm, nothing changed | {warm.seconds:.1f} | {', '.join(warm.ran) or 'none'} |",
            f"| narrative (`status/{cold.month}.yml`) changed | {narrative.seconds:.1f} | {', '.join(narrative.ran)} |",
            f"| floor: {executions} empty notebooks + {reports} empty reports (median; runs {spread(floors)}) "
            f"| {floor.seconds:.1f} | |",
            f"| reference: the same notebooks running each step's own import statements (median; runs "
            f"{spread(import_floors)}) | {import_floor.seconds:.1f} | |", "",
            f"cold/floor = {ratio:.2f}; for reference, cold/(floor with imports) = {import_ratio:.2f}.  ",
            f"Cold per step (s): {per_step}; {path}.  ",
            "; ".join(f"{'met' if ok else 'MISSED'}: {text}" for text, ok in checks.items()) + ".",
        ]))
        print(f"recorded in {RESULTS}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
