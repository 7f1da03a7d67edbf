"""The scheduling examples in deploy/ agree with each other, with the CLI and with the docs.

An example that drifted (a renamed flag, a timer on another day than the cron
line) would fail silently on the 5th with nobody watching, so the examples are
parsed and checked here; where ``systemd-analyze`` exists the units are also
verified by systemd itself.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.cli import build_parser
from analysis.pipeline.errors import EXIT_CODES

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"


def unit_file(name: str) -> dict[str, dict[str, list[str]]]:
    """section → key → values (systemd allows a key more than once, so no configparser)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def cron() -> tuple[dict[str, str], list[tuple[list[str], str]]]:
    """The crontab's environment lines and its jobs as (five time fields, command)."""
    env, jobs = {}, []
    for line in (DEPLOY / "cron.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            key, _, value = line.partition("=")
            env[key] = value
        else:
            fields = line.split(None, 5)
            jobs.append((fields[:5], fields[5]))
    return env, jobs


SERVICE = unit_file("analysis-monthly.service")
TIMER = unit_file("analysis-monthly.timer")
CRON_ENV, CRON_JOBS = cron()


def run_args(argv: list[str]) -> list[str]:
    """The arguments after ``python -m analysis``; the command must be the monthly run."""
    i = argv.index("-m")
    assert argv[i + 1:i + 3] == ["analysis", "run"], argv
    return argv[i + 2:]


def test_cron_runs_the_monthly_job_on_the_5th_at_6():
    assert len(CRON_JOBS) == 1
    fields, command = CRON_JOBS[0]
    assert fields == ["0", "6", "5", "*", "*"]
    workdir, _, rest = command.partition(" && ")
    assert workdir.startswith("cd /")
    argv = shlex.split(rest)
    assert argv[0] == ".venv/bin/python"
    args = build_parser().parse_args(run_args(argv))
    assert args.publish_dir is not None and args.raw_dir.is_absolute()


def test_systemd_service_runs_the_same_command_in_the_same_place():
    service = SERVICE["Service"]
    assert service["Type"] == ["oneshot"]
    (exec_start,) = service["ExecStart"]
    argv = shlex.split(exec_start)
    workdir = service["WorkingDirectory"][0]
    assert argv[0] == f"{workdir}/.venv/bin/python"
    _, command = CRON_JOBS[0]
    cron_dir, _, cron_rest = command.partition(" && ")
    assert cron_dir == f"cd {workdir}"
    assert run_args(argv) == run_args(shlex.split(cron_rest))
    args = build_parser().parse_args(run_args(argv))
    mounts = SERVICE["Unit"]["RequiresMountsFor"][0].split()
    assert {str(args.raw_dir), str(args.publish_dir)} == set(mounts)


def test_both_mail_the_summary_and_set_the_key_outside_the_project():
    assert "@" in CRON_ENV["MAILTO"]
    (mail,) = SERVICE["Service"]["ExecStopPost"]
    assert "mail " in mail and CRON_ENV["MAILTO"] in mail and "$$EXIT_STATUS" in mail
    env = dict(e.split("=", 1) for e in SERVICE["Service"]["Environment"])
    workdir = SERVICE["Service"]["WorkingDirectory"][0]
    for key_file in (env["ANALYSIS_PSEUDONYM_KEY_FILE"], CRON_ENV["ANALYSIS_PSEUDONYM_KEY_FILE"]):
        assert key_file == env["ANALYSIS_PSEUDONYM_KEY_FILE"]
        assert not Path(key_file).is_relative_to(workdir)


def test_timer_fires_when_cron_does():
    timer = TIMER["Timer"]
    assert timer["Unit"] == ["analysis-monthly.service"] and timer["Persistent"] == ["true"]
    (calendar,) = timer["OnCalendar"]
    minute, hour, day, month, weekday = CRON_JOBS[0][0]
    assert calendar == f"*-*-{int(day):02d} {int(hour):02d}:{int(minute):02d}:00"
    assert (month, weekday) == ("*", "*")
    assert TIMER["Install"]["WantedBy"] == ["timers.target"]


def test_systemd_accepts_the_units(tmp_path):
    """systemd's own parser, where the machine has it (with the paths pointed at this checkout)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:  # the Python checks above still hold; systemd is not needed to run the pipeline
        return
    (calendar,) = TIMER["Timer"]["OnCalendar"]
    out = subprocess.run([tool, "calendar", "--iterations=3", calendar], capture_output=True, text=True, check=True).stdout
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-(\d\d) (\d\d:\d\d:\d\d))", out)
    assert len(elapses) == 3 and all(day == "05" and time == "06:00:00" for _, day, time in elapses), out
    workdir = SERVICE["Service"]["WorkingDirectory"][0]
    for name in ("analysis-monthly.service", "analysis-monthly.timer"):
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(workdir, str(REPO)))
    done = subprocess.run([tool, "verify", str(tmp_path / "analysis-monthly.service"), str(tmp_path / "analysis-monthly.timer")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("doc_name", ["docs/scheduling.md", "README.md"])
def test_exit_code_tables_match_the_code(doc_name):
    doc = (REPO / doc_name).read_text()
    table = dict(re.findall(r"^\| (\d) \| (.+?) \|$", doc, flags=re.M))
    assert table == {str(code): meaning for code, meaning in EXIT_CODES.items()}


def test_scheduling_doc_shows_the_examples():
    doc = (REPO / "docs" / "scheduling.md").read_text()
    for example in ("cron.example", "analysis-monthly.service", "analysis-monthly.timer"):
        assert f"deploy/{example}" in doc
    assert CRON_JOBS[0][1] in doc and TIMER["Timer"]["OnCalendar"][0] in doc
