"""Every failure has its row in the exit-code table, one line on stderr naming the file, and no traceback.

The table lives once, in ``analysis.pipeline.errors.EXIT_CODES``; the README, docs/scheduling.md and
``python -m analysis exit-codes`` must say exactly the same.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.pipeline.errors import EXIT_CODES, exit_code_for
from tests.fixtures.raw import delivery

ROOT = Path(__file__).resolve().parents[1]


def _table(markdown: str) -> dict[int, str]:
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+?) \|$", markdown, flags=re.M)}


@pytest.mark.parametrize("doc", ["README.md", "docs/scheduling.md"])
def test_the_documented_table_is_the_code_table(doc):
    assert _table((ROOT / doc).read_text(encoding="utf-8")) == EXIT_CODES


def test_exit_codes_command_prints_the_table(capsys):
    assert main(["exit-codes"]) == 0
    printed = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines())
    assert {int(k): v for k, v in printed.items()} == EXIT_CODES


def _run(tmp_path: Path, raw: Path, *extra: str) -> list[str]:
    return ["run", "--raw-dir", str(raw), "--processed-dir", str(tmp_path / "processed"),
            "--build-dir", str(tmp_path / "build"), "--reports-dir", str(tmp_path / "reports"), *extra]


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--param", 'disclosure.min_count=!!python/object/apply:os.system ["true"]'], 2, "--param disclosure.min_count"),
    (["--param", "disclosure.min_count=[unclosed"], 2, "--param disclosure.min_count"),
    (["--params-file", "/etc/passwd"], 2, "/etc/passwd"),
    (["--params-file", "/nonexistent/overrides.yml"], 2, "/nonexistent/overrides.yml"),
    (["--param", "no.such.key=1"], 2, "unknown parameter"),
])
def test_bad_parameters_are_usage_errors(tmp_path, capsys, args, code, says):
    raw = delivery(tmp_path / "raw")
    assert main(_run(tmp_path, raw, *args)) == code
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"FAILED (exit {code}, usage or configuration)")


@pytest.mark.parametrize(("udtraek", "code"), [
    (None, 3),
    ("udtraeksdato: 2023-02-31\n", 4),
    ("- udtraeksdato: 2023-03-06\n", 4),
    ("udtraeksdato: !!python/object/apply:os.system [true]\n", 4),
    ("udtraeksdato: [2023\n", 4),
    ("syntetisk: true\n", 4),
    ("udtraeksdato: 2023-03-06\nsyntetisk: !!python/name:os.system\n", 4),
    ("udtraeksdato: 2023-03-06\nleveret: 2023-02-30\n", 4),
])
def test_udtraek_yml_missing_or_invalid_names_the_file(tmp_path, capsys, udtraek, code):
    raw = delivery(tmp_path / "raw")
    if udtraek is None:
        (raw / "udtraek.yml").unlink()
    else:
        (raw / "udtraek.yml").write_text(udtraek, encoding="utf-8")
    assert main(_run(tmp_path, raw)) == code
    err = capsys.readouterr().err
    assert str(raw / "udtraek.yml") in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "reports").exists()


def test_unexpected_errors_say_only_their_class(capsys, monkeypatch):
    import analysis.cli as cli

    def boom(_args):
        raise KeyError("6101901235")  # a library's message may quote a cell: it never reaches stderr

    monkeypatch.setattr(cli, "_cmd_params", boom)
    assert main(["params"]) == 6
    err = capsys.readouterr().err
    assert "KeyError" in err and "6101901235" not in err and "Traceback" not in err


def test_every_error_class_has_a_documented_code():
    from analysis.ingest import errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    for cls in classes:
        assert exit_code_for(cls("x")) in EXIT_CODES
    assert exit_code_for(OSError(28, "No space left on device")) == 9
    assert exit_code_for(errors.PlausibilityError("x")) == exit_code_for(errors.DeliveryError("x")) == 4
