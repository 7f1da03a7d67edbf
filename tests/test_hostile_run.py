"""The monthly run on extracts an attacker wrote (issue 12): nothing they hold can leak, run or fetch.

Small synthetic extracts get hostile shelter names, discharge reasons, an extra column (hostile name and
values), an id holding a CPR number, real-looking CPR numbers in every spelling in free text, a narrative
with links and Markdown, and a hostile parameter text; every URL in them points at a local HTTP server.
The run must publish (exit 0) reports that pass the checks, show the hostile text literally, embed no local
file, make no request in headless Chromium and raise no script error; and no planted CPR number, in any
spelling, may appear in any file the run writes or in what it prints. Refusals (exit 4 for the narrative)
are checked on the tiny fixture delivery, where the run stops before any notebook starts.
"""
from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from analysis.report.checks import check_docx, check_html
from analysis.synthetic import generate
from tests.fixtures.raw import delivery
from tests.test_synthetic import read_csv

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2023-02"
# Real-looking (day 01–31) CPR numbers planted in free text, one spelling each; none may leave ingest.
PLANTED = {"2008802020": "200880 2020", "2109802121": "210980–2121", "0304851234": "03.04.85-1234",
           "1511923456": "151192-3456", "0101014321": "0101014321", "2802755678": "28 02 75 5678",
           "3112999876": "311299 - 9876", "1207661357": "１２０７６６１３５７"}
ID_CPR = "1705834567"  # written as "170583 4567" into an ophold_id
# Typed as digits into columns that are not free text: an amount (where it would parse as a number), a date, a code.
TYPED_CPR = {"2406911234": ("forsoergelse.csv", "nettoindkomst"), "0905871111": ("ophold.csv", "indskrevet"),
             "1310642222": ("ophold.csv", "handlekommune")}


def _any_spelling(number: str) -> re.Pattern[bytes]:
    """``number`` written with up to three non-digit characters between its parts (day, month, year, serial)."""
    parts = [number[0:2], number[2:4], number[4:6], number[6:10]]
    return re.compile(rb"\D{0,3}".join(re.escape(p.encode()) for p in parts))


def _env_without_key() -> dict[str, str]:
    """The environment without a pseudonymisation key: the synthetic data runs on the demo key."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ANALYSIS_PSEUDONYM")}


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}", _Recorder.hits
    httpd.shutdown()


def _hostile(host: str, secret: Path) -> list[str]:
    return [
        f"![k]({secret})",
        f"<script>fetch('http://{host}/script')</script>",
        f"<img src=x onerror=\"fetch('http://{host}/onerror')\">",
        f"[klik](javascript:fetch('http://{host}/js'))",
        f"<meta http-equiv=refresh content=\"0;url=http://{host}/refresh\">",
        f'<img alt=a src="http:{host}/nodash.png">',
        f"![a](https:\\\\{host}\\x.png)",
        "{{< include /etc/passwd >}}",
        f"```{{=html}} <iframe src=http://{host}/raw></iframe> ```",
        f"<style>@import 'http://{host}/css';</style>",
        f"[s]{{.x onclick=fetch('http://{host}/attr')}}",
    ]


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")


def _plant(raw: Path, host: str, secret: Path) -> list[str]:
    """Hostile values into herberger, ophold and the narrative; returns the strings that must be shown literally."""
    hostile = _hostile(host, secret)
    shelters = read_csv(raw / "herberger.csv")
    ids = sorted(shelters["herberg_id"].unique())
    shelters["navn"] = shelters["herberg_id"].map({sid: hostile[i % len(hostile)] for i, sid in enumerate(ids)})
    spellings = list(PLANTED.values())
    shelters["maalgruppe"] = [f"voksne, kontakt {spellings[i % len(spellings)]}" for i in range(len(shelters))]
    _write(shelters, raw / "herberger.csv")

    stays = read_csv(raw / "ophold.csv")
    ended = stays.index[stays["udskrevet"] != ""]
    reasons = hostile + [f"udskrevet, ring {s}" for s in spellings]
    for i, row in enumerate(ended[-len(reasons) * 3:]):
        stays.loc[row, "udskrivningsgrund"] = reasons[i % len(reasons)]
    stays.loc[stays.index[5], "ophold_id"] = f"{ID_CPR[:6]} {ID_CPR[6:]}"
    for row, (number, (extract, column)) in enumerate(TYPED_CPR.items(), start=10):
        if extract == "ophold.csv":
            stays.loc[stays.index[row], column] = number
    stays[f"<img src=x onerror=\"fetch('http://{host}/colname')\">"] = [spellings[i % len(spellings)] for i in range(len(stays))]
    _write(stays, raw / "ophold.csv")

    income = read_csv(raw / "forsoergelse.csv")
    income.loc[income.index[3], "nettoindkomst"] = next(n for n, (e, _) in TYPED_CPR.items() if e == "forsoergelse.csv")
    _write(income, raw / "forsoergelse.csv")

    status = raw / "status" / f"{MONTH}.yml"
    text = status.read_text(encoding="utf-8")
    extra = (f"Se [kilden](http://{host}/narrativelink) og *vægt* og http://{host}/bare; "
             "4 < 5 & 6 > 3, $x$, @ref, # ikke en overskrift, | ikke en tabel |.")
    status.write_text(text.replace("  status: |-\n", f"  status: |-\n    {extra}\n\n", 1), encoding="utf-8")
    return hostile


def _texts(path: Path) -> list[bytes]:
    if path.suffix == ".parquet":
        return [pd.read_parquet(path).to_csv(index=False).encode()]
    if path.suffix in {".docx", ".xlsx"}:
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist()]
    return [path.read_bytes()]


def _visible(path: Path) -> str:
    """The report's text as a reader sees it (tags dropped, entities and typographic quotes undone)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.translate(str.maketrans("‘’“”", "''\"\"")).split())


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, server):
    host, hits = server
    base = tmp_path_factory.mktemp("hostile")
    raw = base / "raw"
    generate(raw, seed=7, scale=0.15, start="2020-01", end="2023-03", extract_date="2023-04-03")
    secret = base / "secret" / "pseudonym.key"
    secret.parent.mkdir()
    secret.write_bytes(b"TOPSECRET-KEY-MATERIAL-" + os.urandom(24).hex().encode())
    hostile = _plant(raw, host, secret)
    env = _env_without_key()
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--month", MONTH, "--raw-dir", str(raw),
         "--processed-dir", str(base / "processed"), "--build-dir", str(base / "build"),
         "--reports-dir", str(base / "reports"), "--publish-dir", str(base / "share"),
         "--param", f"meta.version=<img src=x onerror=\"fetch('http://{host}/param')\">"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    log = Path(re.search(r"Log: (\S+)", done.stdout + done.stderr).group(1))
    return base, done, log, hostile, secret, hits, host


def test_the_run_publishes_checked_reports(hostile_run):
    base, done, *_ = hostile_run
    assert done.returncode == 0, done.stderr[-3000:]
    folder = base / "reports" / MONTH
    for page in folder.glob("*.html"):
        assert check_html(page) == [], page.name
    assert check_docx(folder / "status_memo.docx") == []
    quality = json.loads((base / "processed" / "quality.json").read_text(encoding="utf-8"))
    assert quality["extracts"]["ophold"]["quarantined_by_rule"]["cpr_in_value"] == 1
    assert quality["extracts"]["forsoergelse"]["quarantined_by_rule"]["cpr_in_value"] == 1


def test_hostile_text_is_shown_literally(hostile_run):
    base, _, _, hostile, *_ = hostile_run
    folder = base / "reports" / MONTH
    memo, quality = _visible(folder / "status_memo.html"), _visible(folder / "data_quality.html")
    appendix = _visible(folder / "technical_appendix.html")  # the places-per-shelter table lives there
    shown = [h for h in hostile if " ".join(h.split()) in memo + appendix]
    assert len(shown) >= len(hostile) - 2, set(hostile) - set(shown)  # shelter names in the places table
    assert sum(" ".join(h.split()) in quality for h in hostile) >= len(hostile) - 2  # unmapped discharge reasons
    assert "onerror=\"fetch(" in quality  # the extra column's name, as text
    assert "kilden (http://" in memo and "4 < 5 & 6 > 3, $x$, @ref, # ikke en overskrift, | ikke en tabel |" in memo


def test_no_local_file_is_embedded(hostile_run):
    base, _, _, _, secret, *_ = hostile_run
    content = secret.read_bytes()
    encoded = base64.b64encode(content)
    for path in (base / "reports").rglob("*"):
        if path.is_file():
            for blob in _texts(path):
                assert content not in blob and encoded not in blob and b"TOPSECRET" not in blob, path


@pytest.mark.browser
def test_reports_make_no_request_and_run_no_script_in_chromium(hostile_run):
    from tests.browser import chromium_check

    base, _, _, _, _, hits, host = hostile_run
    for page in sorted((base / "reports" / MONTH).glob("*.html")):
        result = chromium_check(page)
        assert result.requests == [], (page.name, result.requests)
        assert result.console == [], (page.name, result.console)
    assert hits == []


def test_no_planted_cpr_in_any_file_or_output(hostile_run):
    base, done, log, *_ = hostile_run
    written = [p for d in ("processed", "build", "reports", "share") for p in (base / d).rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in written) and (base / "share" / MONTH / "manifest.json").is_file()
    patterns = {n: _any_spelling(n) for n in [*PLANTED, ID_CPR, *TYPED_CPR]}
    synthetic = set()
    for f in (base / "raw").glob("*.csv"):  # the extracts' own (synthetic) CPR numbers too, as in test_end_to_end
        synthetic |= {a + b for a, b in re.findall(rb"(?<!\d)(\d{6})-?(\d{4})(?!\d)", f.read_bytes())}
    assert len(synthetic) > 100
    leaks = []
    for path in [*written, log]:
        for blob in _texts(path):
            leaks += [(path.name, n) for n, p in patterns.items() if p.search(blob)]
            leaks += [(path.name, "synthetic")] if {a + b for a, b in re.findall(rb"(?<!\d)(\d{6})-?(\d{4})(?!\d)", blob)} & synthetic else []
    for stream in (done.stdout, done.stderr):
        leaks += [("output", n) for n, p in patterns.items() if p.search(stream.encode())]
    assert leaks == []


def _status_run(tmp_path: Path, status_text: str) -> subprocess.CompletedProcess[str]:
    raw = delivery(tmp_path / "raw")
    (raw / "status").mkdir()
    (raw / "status" / "2023-03.yml").write_text(status_text, encoding="utf-8")
    return _cli_run(raw, tmp_path, _env_without_key())


STATUS = "spor:\n- nr: 1\n  titel: Kapacitet\n  delleverancer:\n  - Drejebog\n  status: |-\n    Tekst.\n    {line}\n"


@pytest.mark.parametrize("line", ["<script>alert(1)</script>", "![k](/etc/boligreform/pseudonym.key)",
                                  "```{=html}", "{{< include x >}}", "[a](javascript:alert(1))"])
def test_forbidden_narrative_stops_the_run_with_exit_4(tmp_path, line):
    done = _status_run(tmp_path, STATUS.replace("{line}", line))
    assert done.returncode == 4, done.stderr[-2000:]
    assert "2023-03.yml" in done.stderr and "line 8, field 'spor 1: status'" in done.stderr
    assert not (tmp_path / "build" / "2023-03" / "work").exists()  # stopped before any notebook


def test_cpr_in_the_narrative_stops_the_run_and_is_written_nowhere(tmp_path):
    done = _status_run(tmp_path, STATUS.replace("{line}", "Borgeren (200880 2020) er flyttet."))
    assert done.returncode == 4 and "line 8, field 'spor 1: status'" in done.stderr and "CPR" in done.stderr
    log = Path(re.search(r"Log: (\S+)", done.stderr).group(1))
    texts = [done.stdout, done.stderr, log.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in (tmp_path / "build").rglob("*.json")]
    assert not any(_any_spelling("2008802020").search(t.encode()) for t in texts)


def _cli_run(raw: Path, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--month", "2023-03", "--raw-dir", str(raw),
         "--processed-dir", str(tmp_path / "processed"), "--build-dir", str(tmp_path / "build"),
         "--reports-dir", str(tmp_path / "reports")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_demo_key_on_real_looking_cprs_is_exit_2_naming_the_file(tmp_path):
    raw = delivery(tmp_path / "raw")  # syntetisk: true, but one CPR has a real day of month
    text = (raw / "ophold.csv").read_text(encoding="utf-8")
    (raw / "ophold.csv").write_text(text.replace("610190-1235", "100190-1235", 1), encoding="utf-8")
    env = _env_without_key()
    done = _cli_run(raw, tmp_path, env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "ophold.csv" in done.stderr and "demo key" in done.stderr and "100190" not in done.stderr
    assert not (tmp_path / "processed" / "persons.parquet").exists()


@pytest.mark.parametrize("key", ["a", " ", "analysis-synthetic-demo-key (not secret, synthetic data only)"])
def test_a_weak_or_public_key_is_exit_2_before_any_notebook(tmp_path, key):
    raw = delivery(tmp_path / "raw")
    (raw / "udtraek.yml").write_text("udtraeksdato: 2023-04-03\n")  # real data
    env = _env_without_key() | {"ANALYSIS_PSEUDONYM_KEY": key}
    done = _cli_run(raw, tmp_path, env)
    assert done.returncode == 2 and ("at least 32" in done.stderr or "public demo key" in done.stderr), done.stderr[-2000:]
    assert not (tmp_path / "build" / "2023-03" / "work").exists()
