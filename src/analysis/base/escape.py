"""The report's trust boundary: text from outside the package becomes inert Markdown here.

Everything that did not come from the package's own code (extract values,
labels, shelter names, discharge reasons, column and file names, parameter
text, the analysts' narrative) passes through this module before it reaches
the Markdown that pandoc or Quarto turns into HTML and Word. pandoc's Markdown
is rich: raw HTML, images that ``--embed-resources`` reads from disk or the
network, raw blocks, attributes, Quarto shortcodes, math. So

- :func:`text` shows a value literally: every ASCII punctuation character that
  Markdown gives a meaning is backslash-escaped (pandoc's ``all_symbols_escapable``;
  an escaped character renders as itself), whitespace and line breaks collapse
  to single spaces and control characters go. ``' " . , ; ? ( ) / %`` and an
  inner ``-`` stay as typed, so quotes, dashes and ellipses look as before;
- :func:`narrative` renders the analysts' status text in a small Markdown
  subset: paragraphs, ``*``/``_`` emphasis, ``-``/``*``/``+``/``1.`` lists and
  http(s) links, shown as the link text followed by the address in brackets
  (the report is read offline and on paper; nothing in it is followed). Anything
  else is shown literally;
- :func:`narrative_problems` names the constructs the narrative must not hold
  at all (raw HTML, images, code and raw blocks, Quarto shortcodes, pandoc
  attributes and fenced divs, links that are not http(s), link definitions):
  the run stops on them (exit 4), because the analysts wrote them and must know,
  whereas the same text inside an extract value is just shown.
"""
from __future__ import annotations

import re
import unicodedata

# ASCII punctuation left as typed: inert in Markdown, and escaping would cost smart quotes, dashes and ellipses.
_KEEP = frozenset("'\".,;?()/%-")
_ESCAPE = frozenset(chr(c) for c in range(33, 127) if not chr(c).isalnum()) - _KEEP
# Bidirectional overrides and isolates can make a value read differently from what it is (Trojan Source).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_START = re.compile(r"^(?:[-+]|\d+(?=[.)]))")  # a list marker or a line-start digit run before '.'/')'

_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)])[ \t]+(?P<rest>\S.*)$")
_LINK = re.compile(r"\[(?P<text>[^\[\]]*)\]\((?P<url>https?://[^\s()<>\\\"'`]+)\)")
_EMPHASIS = frozenset("*_")

_FORBIDDEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<[A-Za-z/!?]"), "raw HTML, an HTML comment or an <address> (write a link as [text](https://…))"),
    (re.compile(r"!\["), "an image (![…](…)); images are not allowed in the status text"),
    (re.compile(r"`"), "a backtick (code, or a raw block such as ```{=html})"),
    (re.compile(r"^\s*(~~~|:::)"), "a fenced block (~~~ or :::)"),
    (re.compile(r"\{\{[<%]|[>%]\}\}"), "a Quarto shortcode ({{< … >}})"),
    (re.compile(r"(?<!\{)\{(?!\{)\s*(?:[.#=:-]|[\w-]+\s*=)"), "a pandoc attribute ({.class}, {#id}, {key=value}, {=format})"),
    (re.compile(r"\]\((?!https?://[^\s()<>\\\"'`]+\))"), "a link whose address is not a plain http(s) address"),
    (re.compile(r"^\s{0,3}\[[^\]]+\]:"), "a link definition ([name]: address)"),
    (re.compile(r"\\"), "a backslash (Markdown escapes and raw TeX are not part of the status text)"),
)


def one_line(value: object) -> str:
    """One line: whitespace runs (line breaks included) become one space; control and bidi characters go.
    (Also for text from outside the package on its way to a log: a kernel's stderr.)"""
    text = "".join(" " if ch.isspace() else ch for ch in str(value)
                   if ch.isspace() or (unicodedata.category(ch) != "Cc" and ch not in _BIDI))
    return " ".join(text.split())


def _escape_chars(text: str, keep: frozenset[str] = frozenset()) -> str:
    out = "".join(f"\\{ch}" if ch in _ESCAPE and ch not in keep else ch for ch in text)
    start = _LINE_START.match(out)  # "- x", "+ x", "1. x" would start a list where the value begins a line
    if start:
        out = f"{out[:start.end()]}\\{out[start.end():]}" if start.group(0)[0].isdigit() else f"\\{out}"
    return out


def text(value: object) -> str:
    """``value`` as Markdown that shows it literally, on one line (table cells, captions, inline text)."""
    return _escape_chars(one_line(value))


def attribute(value: object) -> str:
    """``value`` inside a double-quoted pandoc attribute (``{fig-alt="…"}``): one line, ``\\`` and ``"`` escaped."""
    return one_line(value).replace("\\", "\\\\").replace('"', '\\"')


def inline(value: object) -> str:
    """One line of narrative (a title, a sub-deliverable): http(s) links as ``text (address)``, ``*``/``_``
    emphasis kept, everything else literal."""
    line = one_line(value)
    out, pos = [], 0
    for link in _LINK.finditer(line):
        out.append(_escape_chars(line[pos:link.start()], keep=_EMPHASIS))
        label, url = one_line(link["text"]), link["url"]
        out.append(text(url) if label in ("", url) else f"{_escape_chars(label, keep=_EMPHASIS)} ({text(url)})")
        pos = link.end()
    out.append(_escape_chars(line[pos:], keep=_EMPHASIS))
    return "".join(out)


def narrative(markdown: str) -> str:
    """The narrative subset as safe Markdown: paragraphs (blank lines), lists, emphasis, http(s) links as text.

    List items are re-indented from their nesting (deeper than the item above: one level down, aligned with
    its text), so no item can be indented far enough to become a code block; any other line loses its
    leading spaces for the same reason.
    """
    lines: list[str] = []
    levels: list[tuple[int, int]] = []  # open list items: (indent as typed, column their text starts at)
    for raw in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = "".join(ch for ch in raw.expandtabs(4) if unicodedata.category(ch) != "Cc" and ch not in _BIDI).rstrip()
        if not line.strip():
            lines.append("")
            continue
        item = _LIST_ITEM.match(line)
        if item:
            typed = len(item["indent"])
            while levels and typed <= levels[-1][0]:
                levels.pop()
            column = levels[-1][1] if levels else 0
            levels.append((typed, column + len(item["marker"]) + 1))
            lines.append(f"{' ' * column}{item['marker']} {inline(item['rest'])}")
        else:
            if lines[-1:] == [""]:
                levels = []  # a paragraph after a blank line ends the list
            lines.append(inline(line))
    return "\n".join(lines).strip("\n")


def narrative_problems(markdown: str) -> list[tuple[int, str]]:
    """(0-based line, what) for each construct the narrative may not hold; empty when it is fine."""
    problems = []
    for number, line in enumerate(markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        problems += [(number, what) for pattern, what in _FORBIDDEN if pattern.search(line)]
    return problems
