"""Command line: the monthly run and the other commands an analyst or scheduler needs.

Exit codes are part of the interface (a scheduler acts on them); they are listed
by ``python -m analysis exit-codes`` and in the README.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from analysis.cpr import MaskingFormatter, mask
from analysis.params import ParameterError


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", default="", help="reference month YYYY-MM (default: last complete month before the extract date)")
    p.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    p.add_argument("--processed-dir", type=Path, default=Path("data/processed"))
    p.add_argument("--build-dir", type=Path, default=Path("build"), help="root of the per-month build folders")
    p.add_argument("--reports-dir", type=Path, default=Path("reports"))
    p.add_argument("--publish-dir", type=Path, default=None, help="also copy the month's reports to this (shared) folder")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="override one parameter (repeatable)")
    p.add_argument("--params-file", action="append", default=[], metavar="FILE", help="YAML file of parameter overrides")
    p.add_argument("--force", action="store_true", help="rerun every step even if its inputs are unchanged")
    p.add_argument("--jobs", type=int, default=2, help="notebooks run in parallel (default 2)")
    p.add_argument("--only", action="append", default=[], metavar="STEP",
                   help="rerun this step even if its inputs are unchanged; later steps rerun if its outputs change (repeatable)")


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.pipeline.errors import PipelineError
    from analysis.pipeline.run import RunConfig, run_month

    cfg = RunConfig(
        month=args.month, raw_dir=args.raw_dir, processed_dir=args.processed_dir, build_root=args.build_dir,
        reports_dir=args.reports_dir, publish_dir=args.publish_dir, param_overrides=args.param,
        params_files=args.params_file, force=args.force, jobs=args.jobs, only=args.only,
    )
    try:
        result = run_month(cfg)
    except PipelineError as exc:
        # The run log already holds the error; the summary is what the scheduler mails.
        print(exc.summary or f"FAILED (exit {exc.exit_code}): {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.summary)
    return 0


def _one_line(exc: BaseException, code: int) -> str:
    """One line for stderr: our own errors' messages (they name file, row and column, never a cell value), an OS
    error's reason and path; of anything else only its class, since a library's message may quote a cell."""
    from analysis.failures import RunFailure

    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    if isinstance(exc, (RunFailure, ParameterError)) or code == 2:
        return " ".join(str(exc).split()) or type(exc).__name__
    return f"unexpected {type(exc).__name__}; run again with -v, or see the run's log"


def _cmd_synth(args: argparse.Namespace) -> int:
    from analysis.synthetic import generate

    out: Path = args.out
    if args.if_missing and (out / "udtraek.yml").exists():
        print(f"{out} already holds an extract; not regenerating (drop --if-missing to overwrite)")
        return 0
    summary = generate(out, seed=args.seed, scale=args.scale, start=args.start, end=args.end, extract_date=args.extract_date)
    for name, count in summary.items():
        print(f"{name:<20} {count}")
    return 0


def _cmd_exit_codes(_: argparse.Namespace) -> int:
    from analysis.pipeline.errors import EXIT_CODES

    for code, meaning in EXIT_CODES.items():
        print(f"{code}  {meaning}")
    return 0


def _cmd_params(_: argparse.Namespace) -> int:
    from analysis.params import load_params

    for p in load_params().entries():
        flag = " (assumption)" if p.assumption else ""
        print(f"{p.key} = {p.value} [{p.unit}]{flag}\n    {p.source}")
    return 0


def _cmd_forecast_accuracy(args: argparse.Namespace) -> int:
    from analysis.forecast.accuracy import evaluate_file
    from analysis.params import load_params

    stay = float(args.mean_stay_months or load_params()["forecast.series_mean_stay_months"])
    table = evaluate_file(args.series, stay, origins=args.origins)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the monthly run: notebooks → indicator table → reports")
    _add_run_args(run)
    run.set_defaults(func=_cmd_run)

    synth = sub.add_parser("synth", help="write the deterministic synthetic extracts")
    synth.add_argument("--out", type=Path, default=Path("data/raw"))
    synth.add_argument("--seed", type=int, default=2023)
    synth.add_argument("--scale", type=float, default=1.0)
    synth.add_argument("--start", default="2016-01")
    synth.add_argument("--end", default="2026-10")
    synth.add_argument("--extract-date", default="2026-11-05")
    synth.add_argument("--if-missing", action="store_true", help="do nothing if the folder already holds an extract")
    synth.set_defaults(func=_cmd_synth)

    sub.add_parser("exit-codes", help="what each exit code of `run` means").set_defaults(func=_cmd_exit_codes)
    sub.add_parser("params", help="list the parameters with units and sources").set_defaults(func=_cmd_params)
    acc = sub.add_parser("forecast-accuracy", help="rolling-origin accuracy of the forecast and standard methods on a monthly series")
    acc.add_argument("--series", type=Path, required=True, help="CSV: month (YYYY-MM), stock, optionally inflow and outflow")
    acc.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    acc.add_argument("--origins", type=int, default=60, help="the last up to N origins (default 60)")
    acc.add_argument("--mean-stay-months", type=float, default=None,
                     help="mean stay for a counts-only series (default forecast.series_mean_stay_months)")
    acc.set_defaults(func=_cmd_forecast_accuracy)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    try:
        return args.func(args)
    except Exception as exc:  # noqa: BLE001 - every failure ends in the table's exit code and one line, no traceback
        from analysis.pipeline.errors import EXIT_CODES, exit_code_for

        code = exit_code_for(exc)
        print(f"FAILED (exit {code}, {EXIT_CODES[code].split(':')[0]}): {mask(_one_line(exc, code))}", file=sys.stderr)
        return code
