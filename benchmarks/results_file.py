"""One writer for benchmarks/RESULTS.md, shared by every benchmark script.

Each benchmark owns one ``## …`` section. Dated runs are appended as the newest
entry (history kept, so a regression is visible), or a section is replaced whole
when only its latest figures make sense.
"""
from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def record(heading: str, block: str, replace: bool = False) -> None:
    """Write ``block`` under ``heading``: appended after earlier entries, or replacing them."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if heading not in text:
        text = text.rstrip("\n") + f"\n\n{heading}\n"
    begin = text.index(heading)
    following = text.find("\n## ", begin + len(heading))
    end = len(text) if following < 0 else following + 1
    earlier = "" if replace else text[begin + len(heading):end].strip("\n")
    section = "\n\n".join(part for part in (heading, earlier, block.strip("\n")) if part) + "\n"
    rest = text[end:].lstrip("\n")
    RESULTS.write_text(text[:begin] + section + ("\n" + rest if rest else ""), encoding="utf-8")
