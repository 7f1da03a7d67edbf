"""Open a rendered report in headless Chromium and record what it loads.

A report must open offline (design decision 4). Static checks cannot see
requests that scripts or CSS make at run time; Chromium's net log can. Every
request the *page* makes (net-log initiator is the page's origin, ``null`` for
a ``file:`` page) for something other than a ``file:``/``data:``/``blob:``/
``about:`` URL is reported. Chromium's own background traffic (time sync,
component updates, account checks: initiator ``not an origin``) is not the
report's doing and is left out. Console messages (an uncaught script error
among them) are read from Chromium's log on stderr. Other tests import
:func:`chromium_check`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ANALYSIS_CHROMIUM", "/usr/bin/chromium")
_LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-extension:", "devtools:")
_BROWSER = "not an origin"  # net-log initiator of requests Chromium makes for itself
_URL_IN_LOG = re.compile(r'"url"\s*:\s*"([^"]+)"')
_CONSOLE = re.compile(r':CONSOLE[:(]\d+\)?\] "(.*)", source: ')
_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
]


@dataclass
class BrowserResult:
    """The DOM after scripts ran, every non-local URL requested, the screenshot if one was taken, console messages."""

    dom: str
    requests: list[str]
    screenshot: Path | None
    console: list[str] = field(default_factory=list)


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def require_chromium() -> None:
    """Fail with a clear message if Chromium is missing; skip only when ANALYSIS_SKIP_BROWSER=1."""
    if chromium_available():
        return
    if os.environ.get("ANALYSIS_SKIP_BROWSER") == "1":
        pytest.skip("ANALYSIS_SKIP_BROWSER=1 and no Chromium at " + CHROMIUM)
    pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium), set ANALYSIS_CHROMIUM, "
                "or set ANALYSIS_SKIP_BROWSER=1 to skip the browser tests")


def _chromium(args: list[str], profile: Path, net_log: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    command = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={net_log}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _requests(net_log: Path) -> list[str]:
    """Non-local URLs the page requested; if the log is unreadable JSON, every URL in it (to be safe)."""
    if not net_log.exists():
        return []
    text = net_log.read_text(encoding="utf-8", errors="replace")
    try:
        events = json.loads(text)["events"]
        urls = [e["params"]["url"] for e in events
                if "url" in e.get("params", {}) and e["params"].get("initiator", _BROWSER) != _BROWSER]
    except (ValueError, KeyError):
        urls = _URL_IN_LOG.findall(text)
    return sorted({u for u in urls if not u.lower().startswith(_LOCAL_SCHEMES)})


def chromium_check(html_path: Path, screenshot: Path | None = None, timeout: int = 90) -> BrowserResult:
    """Load ``html_path`` in headless Chromium; return DOM and outside requests; write a PNG to ``screenshot``."""
    require_chromium()
    url = Path(html_path).resolve().as_uri()
    work = Path(tempfile.mkdtemp(prefix="chromium-check-"))
    try:
        dump = _chromium(["--dump-dom", url], work / "profile", work / "net.json", timeout)
        if dump.returncode != 0 or "<html" not in dump.stdout:
            raise RuntimeError(f"chromium --dump-dom failed ({dump.returncode}): {dump.stderr[-2000:]}")
        requests = _requests(work / "net.json")
        if screenshot is not None:
            _chromium([f"--screenshot={Path(screenshot).resolve()}", "--window-size=1280,1800", url],
                      work / "profile", work / "net-shot.json", timeout)
            requests = sorted(set(requests) | set(_requests(work / "net-shot.json")))
        shot = Path(screenshot) if screenshot is not None and Path(screenshot).exists() else None
        return BrowserResult(dump.stdout, requests, shot, _CONSOLE.findall(dump.stderr))
    finally:
        shutil.rmtree(work, ignore_errors=True)


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
_AXE_RESULT = re.compile(r'<pre id="axe-result">(.*?)</pre>', re.DOTALL)
# WCAG 2.1 A and AA rules; the run reports every violation with its impact.
_AXE_RUN = """
<script>
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
  .then(function (r) {
    var out = r.violations.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
              targets: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })};
    });
    var pre = document.createElement('pre'); pre.id = 'axe-result';
    pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
  });
</script>
"""


def axe_violations(html_path: Path, timeout: int = 120) -> list[dict]:
    """Run axe-core (vendored) on a copy of ``html_path`` in headless Chromium; its violations as dicts."""
    require_chromium()
    import html as html_lib

    work = Path(tempfile.mkdtemp(prefix="axe-"))
    try:
        page = Path(html_path).read_text(encoding="utf-8")
        inject = f"<script>{AXE.read_text(encoding='utf-8')}</script>{_AXE_RUN}"
        copy = work / Path(html_path).name
        copy.write_text(page.replace("</body>", inject + "</body>"), encoding="utf-8")
        dump = _chromium(["--virtual-time-budget=60000", "--dump-dom", copy.as_uri()], work / "profile",
                         work / "net.json", timeout)
        found = _AXE_RESULT.search(dump.stdout)
        if found is None:
            raise RuntimeError(f"axe-core did not report ({dump.returncode}): {dump.stderr[-2000:]}")
        return json.loads(html_lib.unescape(found.group(1)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def printed_pages(html_path: Path, timeout: int = 120) -> list[str]:
    """The text of each page of ``html_path`` printed to A4 PDF by headless Chromium (no header or footer)."""
    require_chromium()
    from pypdf import PdfReader

    work = Path(tempfile.mkdtemp(prefix="print-"))
    try:
        pdf = work / "out.pdf"
        _chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(html_path).resolve().as_uri()],
                  work / "profile", work / "net.json", timeout)
        return [page.extract_text() for page in PdfReader(pdf).pages]
    finally:
        shutil.rmtree(work, ignore_errors=True)
