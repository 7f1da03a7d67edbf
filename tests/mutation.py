"""`make mutation`: mutmut over the core modules, one module at a time, scores written to tests/MUTATION.md.

Each module runs in its own scratch copy (``build/mutation/<module>/``: src, tests, pyproject with a
``[tool.mutmut]`` section naming that module's files and its fast tests), so a run mutates only what it
scores and runs only the tests that own those rules. mutmut forks one worker per mutant from a process
that has imported everything already, and runs only the tests that reach the mutated function.

Where a file holds much more than the rule under test (``pipeline/files.py``: time stamps and the share-copy
seam as well as the writes publishing relies on), only the listed functions are mutated: the others get mutmut's
``# pragma: no mutate block`` in the scratch copy, never in the source.

Usage: ``python -m tests.mutation [module ...] [--jobs N]``; without modules, all of them.
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "build" / "mutation"
REPORT = ROOT / "tests" / "MUTATION.md"


@dataclass(frozen=True)
class Module:
    """What is mutated (files, optionally only some functions) and which fast tests must kill it."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()  # empty: every function of the files


MODULES: dict[str, Module] = {
    "ingest": Module(("src/analysis/ingest/rules.py",), (  # the rules issues 12 and 13 added are tested there
        "tests/test_ingest_rules.py", "tests/test_ingest_reading.py", "tests/test_ingest_whole_file.py",
        "tests/test_trust_boundary.py::test_cpr_shaped_ids_and_numbers_are_quarantined_and_never_written")),
    "pseudonym": Module(("src/analysis/ingest/pseudonym.py",), (  # key rules' own tests live with the trust boundary
        "tests/test_ingest_pseudonym.py", "tests/test_trust_boundary.py::test_short_keys_are_refused",
        "tests/test_trust_boundary.py::test_the_demo_keys_value_is_refused_from_env_and_file",
        "tests/test_trust_boundary.py::test_demo_key_refuses_real_looking_cprs_even_when_flagged_synthetic",
        "tests/test_trust_boundary.py::test_cpr_shaped_column_name_stops_ingest_without_echoing_it")),
    "episodes": Module(("src/analysis/clean/episodes.py", "src/analysis/clean/cut.py"),
                       ("tests/test_clean_episodes.py",)),
    "suppression": Module(("src/analysis/base/suppression.py",), ("tests/test_report_suppression.py",)),
    "survival": Module(("src/analysis/retention/survival.py",), (
        "tests/test_survival.py", "tests/test_retention.py::test_at_risk_counts_ties_nan_and_empty",
        "tests/test_retention.py::test_at_risk_counts_equal_the_naive_count")),  # at_risk_counts' own tests
    "payment": Module(("src/analysis/retention/payment.py",), ("tests/test_payment.py",)),
    # the harness; ``local_backtest`` and ``stock_history`` (the stock-and-flow model run through it) are exercised
    # by the slow forecast-step tests
    "backtest": Module(("src/analysis/forecast/backtest.py",), ("tests/test_forecast_series.py",
                                                               "tests/test_forecast_accuracy.py"),
                       ("littles_law", "mase_scale", "rolling_backtest", "default_origins")),
    # the evaluation module (issue 16): the published accuracy figures, the sentence, the series file and the CLI;
    # ``markdown_table`` and ``confirmation_split`` only lay out the benchmark's figures for docs/forecast.md
    "accuracy": Module(("src/analysis/forecast/accuracy.py",), ("tests/test_forecast_accuracy.py",),
                       ("series_forecasters", "evaluate_series", "accuracy_table", "best_standard",
                        "accuracy_sentence", "read_series", "_fail_at", "evaluate_file")),
    "publish": Module(("src/analysis/pipeline/publish.py", "src/analysis/pipeline/files.py"), ("tests/test_publish.py",),
                      ("fsync_folder", "fsync_dir", "write_json_atomic", "published_files", "publish", "_sweep",
                       "copy_to_share", "_switch_share", "_sweep_share", "current_key")),
}
STATUS = re.compile(r"^\s+(\S+): (.+)$")


def _exclude_other_functions(path: Path, keep: tuple[str, ...]) -> None:
    """Give every function not in ``keep`` a ``# pragma: no mutate block`` on the line that opens its body."""
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in keep:
            # the signature's last line (ending in ':'), searched upwards from the line before the body
            colon = node.body[0].lineno - 2
            while not lines[colon].rstrip().endswith(":"):
                colon -= 1
            if "#" not in lines[colon]:
                lines[colon] += "  # pragma: no mutate block"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _scratch(name: str, module: Module) -> Path:
    """A fresh copy of src, tests and pyproject with this module's mutmut section."""
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for part in ("src", "tests", "notebooks"):
        shutil.copytree(ROOT / part, folder / part, ignore=ignore)
    if module.functions:
        for f in module.files:
            _exclude_other_functions(folder / f, module.functions)
    quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"  # noqa: E731
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (folder / "pyproject.toml").write_text(pyproject + f"""
[tool.mutmut]
source_paths = ["src"]
only_mutate = {quoted(module.files)}
pytest_add_cli_args_test_selection = {quoted(module.tests)}
pytest_add_cli_args = ["-m", "not slow and not browser and not quarto", "-p", "no:cacheprovider", "-q"]
use_git_change_detection = false
""", encoding="utf-8")
    return folder


def run_module(name: str, jobs: int) -> dict:
    """Run mutmut on one module; its statuses, survivors (with their diffs) and the wall time."""
    module = MODULES[name]
    folder = _scratch(name, module)
    mutmut = [str(Path(sys.executable).with_name("mutmut"))]
    started = time.monotonic()
    run = subprocess.run([*mutmut, "run", "--max-children", str(jobs)], cwd=folder, capture_output=True, text=True)
    seconds = time.monotonic() - started
    (folder / "mutmut-run.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=folder, capture_output=True, text=True)
    statuses = dict(m.groups() for m in map(STATUS.match, results.stdout.splitlines()) if m)
    survivors = {k: subprocess.run([*mutmut, "show", k], cwd=folder, capture_output=True, text=True).stdout
                 for k, v in statuses.items() if v != "killed"}
    result = {"name": name, "files": module.files, "statuses": statuses, "survivors": survivors, "seconds": seconds,
              "date": dt.date.today().isoformat(), "jobs": jobs, "returncode": run.returncode}
    (SCRATCH / f"{name}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")  # outlives the next scratch
    return result


def _score_line(r: dict) -> str:
    """A mutant is caught when a test fails (killed) or the tests never finish (timeout: CI would fail too)."""
    counts: dict[str, int] = {}
    for status in r["statuses"].values():
        counts[status] = counts.get(status, 0) + 1
    total = sum(counts.values())
    caught = counts.get("killed", 0) + counts.get("timeout", 0)
    score = f"{100 * caught / total:.1f} %" if total else "n/a"
    other = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("killed", "timeout", "survived"))
    return (f"| {r['name']} | {', '.join(f.removeprefix('src/analysis/') for f in r['files'])} | {total} | "
            f"{counts.get('killed', 0)} | {counts.get('timeout', 0)} | {counts.get('survived', 0)}"
            f"{' (' + other + ')' if other else ''} | {score} | {r['seconds']:.0f} s, {r['jobs']} | {r['date']} |")


def _kept(measured: str) -> tuple[dict[str, str], dict[str, str]]:
    """The table row and the survivors' block of each module in the measured part of MUTATION.md as it is."""
    rows = {m[1]: m[0] for m in re.finditer(r"^\| (\w+) \|.*$", measured, re.M) if m[1] in MODULES}
    blocks = {m[1]: m[0] for m in re.finditer(r"^\*\*(\w+)\*\*\n\n```diff\n.*?^```$", measured, re.M | re.S)}
    return rows, blocks


def write_results() -> Path:
    """The measured part of MUTATION.md (between markers) from every module's last run; the hand-written
    explanations around it stay. A module without a run in this scratch folder (a fresh worktree, or a module
    left out on purpose) keeps its row and survivors as MUTATION.md has them."""
    begin, end = "<!-- measured: begin -->", "<!-- measured: end -->"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else f"# Mutation testing\n\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    measured, _, tail = rest.partition(end)
    kept_rows, kept_blocks = _kept(measured)
    runs = {n: SCRATCH / f"{n}.json" for n in MODULES}
    results = {n: json.loads(f.read_text(encoding="utf-8")) for n, f in runs.items() if f.exists()}
    version = subprocess.run([str(Path(sys.executable).with_name("mutmut")), "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    table = [
        f"Written by `make mutation` (`python -m tests.mutation`), mutmut {version}. Wall time with the number of "
        "workers, on a machine shared with other test runs.",
        "",
        "| module | files | mutants | killed | timeout | survived | caught | wall time, workers | date |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_score_line(results[n]) if n in results else kept_rows[n] for n in MODULES if n in results or n in kept_rows),
        "",
        "Mutants not killed (name: status, then the changed lines; `mutmut show <module path>.<name>` in",
        "`build/mutation/<module>/` prints the whole diff):",
        "",
    ]
    for n in MODULES:
        if n not in results:
            table += [kept_blocks[n], ""] if n in kept_blocks else []
            continue
        r = results[n]
        table += [f"**{r['name']}**", "", "```diff"]
        for name, diff in r["survivors"].items():
            changed = [line for line in diff.splitlines() if line[:1] in "-+" and line[:3] not in ("---", "+++")]
            table += [f"# {name.rsplit('.', 1)[-1]}: {r['statuses'][name]}", *changed]
        table += ["```", ""]
    REPORT.write_text(head + begin + "\n" + "\n".join(table) + "\n" + end + tail, encoding="utf-8")
    return REPORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="rewrite MUTATION.md from the last runs")
    args = parser.parse_args(argv)
    if args.report_only:
        print(f"written to {write_results()}")
        return 0
    unknown = set(args.modules) - set(MODULES)
    if unknown:
        parser.error(f"unknown module(s) {', '.join(sorted(unknown))}; choose from {', '.join(MODULES)}")
    results = []
    for name in args.modules or MODULES:
        results.append(run_module(name, args.jobs))
        print(_score_line(results[-1]), flush=True)
    print(f"written to {write_results()}")
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
