"""Acceptance checks for rendered reports, shared by the renderer, the pipeline and the tests.

Both renderers must produce output that passes the same checks (design
decisions 3 and 4): self-contained, Danish, accessible images, no code.

External URLs: no attribute (src, href, …) and no CSS ``url()``/``@import`` may
point to ``http(s)://`` or a protocol-relative ``//`` address, links included,
because a management report is read offline and by e-mail. A public source is
cited as text (a URL written in the text is not a reference the browser
follows). Namespace declarations (``xmlns``) are identifiers, not references,
and script bodies are not scanned (licence comments hold URLs); the headless
browser test is the check for requests made at run time.

The trust rules (:func:`trust_problems_html`, :func:`trust_problems_docx`) are
stricter, because text from the extracts and the narrative reaches the reports:
every reference (``src``, ``href``, ``srcset``, CSS ``url()``, …) must be a
``data:`` URL or an in-page ``#anchor`` (a relative path is a file the reader
does not have, and one the renderer might have read from disk); no ``on…=``
handler, no ``javascript:`` URL, no ``<meta http-equiv=refresh>``, no frames,
objects or forms; a ``<script>`` only where the renderer puts one (pandoc's
fallback: never; Quarto: its own, embedded as ``data:`` or with a ``quarto-``
id). A Word file may hold no external relationship and no media but images.
One exception: a link (``<a href>``, never a ``src``) may name another report
published in the same folder by its bare file name (:data:`SIBLING_REPORTS`),
as the memo's colophon names the technical appendix; following a link loads
nothing when the page opens, and narrative or extract text cannot make links.
"""
from __future__ import annotations

import base64
import binascii
import io
import posixpath
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from PIL import Image, UnidentifiedImageError

from analysis.report.colophon import RENDERER_PLACEHOLDER

_URL_ATTRS = frozenset({
    "src", "href", "srcset", "action", "formaction", "poster", "data", "cite", "background",
    "xlink:href", "manifest", "ping", "longdesc", "icon",
})
_EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*['"]?(?!data:)([^'")]*)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.IGNORECASE)
_CODE_CLASSES = ("sourcecode", "cell-code", "code-fold", "code-copy")


def _external_in_css(css: str) -> list[str]:
    urls = _CSS_URL.findall(css) + _CSS_IMPORT.findall(css)
    return [u for u in urls if _EXTERNAL.match(u)]


class _Scanner:
    """The report rules of the module docstring (fed by ``_Scans``)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.html_lang: str | None = None
        self.title = ""
        self.img_srcs: list[str] = []
        self._open = ""  # the element whose text comes next (style and title hold no child elements)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): (v or "") for k, v in attrs}
        if tag == "html":
            self.html_lang = attr.get("lang")
        if tag == "img":
            self.img_srcs.append(attr.get("src", ""))
        if tag == "img" and not attr.get("alt", "").strip():
            self.problems.append(f"<img> without alt text: src={attr.get('src', '')[:60]!r}")
        for name, value in attr.items():
            if name in _URL_ATTRS and _EXTERNAL.match(value):
                self.problems.append(f"external URL in <{tag} {name}>: {value[:100]}")
            if name == "srcset" and re.search(r"(^|,)\s*(https?:)?//", value):
                self.problems.append(f"external URL in <{tag} srcset>: {value[:100]}")
        self.problems += [f"external URL in style attribute of <{tag}>: {u}" for u in _external_in_css(attr.get("style", ""))]
        classes = attr.get("class", "").lower().split()
        if tag == "pre" or any(c in _CODE_CLASSES for c in classes):
            self.problems.append(f"code or preformatted output shown: <{tag} class={attr.get('class', '')!r}>")
        self._open = tag

    def handle_endtag(self, tag: str) -> None:
        self._open = ""

    def handle_data(self, data: str) -> None:
        if self._open == "style":
            self.problems += [f"external URL in <style>: {u}" for u in _external_in_css(data)]
        elif self._open == "title":
            self.title += data
        if RENDERER_PLACEHOLDER in data:
            self.problems.append(f"renderer placeholder {RENDERER_PLACEHOLDER} was not replaced")


# The reports a run publishes side by side (analysis.pipeline.steps.STEPS, kept equal by a test).
SIBLING_REPORTS = frozenset({"status_memo.html", "status_memo.docx", "capacity_forecast.html", "data_quality.html",
                             "technical_appendix.html"})
_REFERENCE_ATTRS = _URL_ATTRS | frozenset({"lowsrc", "dynsrc", "archive", "codebase", "classid", "profile", "usemap"})
_IN_PAGE = re.compile(r"^(data:|#)", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"(java|vb)script:", re.IGNORECASE)
_FOREIGN_ELEMENTS = frozenset({"iframe", "frame", "frameset", "object", "embed", "applet", "form", "portal", "fencedframe"})
_TEXT_ATTRS = frozenset({"alt", "title", "aria-label", "aria-description", "placeholder", "summary", "label"})
_SRCSET_DESCRIPTOR = re.compile(r"^\d+(\.\d+)?[wxh]$")
_ANY_CSS_URL = re.compile(r"""url\(\s*['"]?\s*([^'")\s]*)""", re.IGNORECASE)


def _squeezed(value: str) -> str:
    """An attribute value as a browser reads a URL: without whitespace and control characters."""
    return "".join(ch for ch in value if ch > " " and ch != "\x7f")


def _css_references(css: str) -> list[str]:
    """``url()`` references that are neither data: nor #anchor, and every @import (the older rule names //-URLs)."""
    found = [u for u in _ANY_CSS_URL.findall(css) if not _IN_PAGE.match(u) and not _EXTERNAL.match(u)]
    return found + [f"@import {u}" for u in _CSS_IMPORT.findall(css) if not _EXTERNAL.match(u)]


class _TrustScanner:
    """The trust rules of the module docstring, element by element (fed by ``_Scans``)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.quarto = False
        self.scripts: list[dict[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta" and attr.get("name", "").lower() == "generator":
            self.quarto = attr.get("content", "").lower().startswith("quarto")
        if tag == "meta" and attr.get("http-equiv", "").strip().lower() == "refresh":
            self.problems.append(f"<meta http-equiv=refresh>: {attr.get('content', '')[:80]}")
        if tag in _FOREIGN_ELEMENTS:
            self.problems.append(f"<{tag}> element (frames, objects and forms load or send outside content)")
        if tag == "script":
            self.scripts.append(attr)
        for name, value in attr.items():
            url = _squeezed(value)
            if name.startswith("on"):
                self.problems.append(f"event handler attribute <{tag} {name}=…>")
            if _SCRIPT_URL.search(url) and name not in _TEXT_ATTRS:  # alt text may *mention* javascript: as text
                self.problems.append(f"script URL in <{tag} {name}>: {value[:80]}")
            elif name in ("srcset", "imagesrcset"):
                self.problems += [f"reference in <{tag} {name}> that is not data: or #anchor: {u[:80]}"
                                  for u in _srcset_urls(value)]
            elif tag == "a" and name == "href" and url in SIBLING_REPORTS:
                continue
            elif name in _REFERENCE_ATTRS and not _IN_PAGE.match(url) and not _EXTERNAL.match(value):  # older rule: //
                self.problems.append(f"reference in <{tag} {name}> that is not data: or #anchor: {value[:80]!r}")
        self.problems += [f"reference in style attribute of <{tag}>: {u[:80]}" for u in _css_references(attr.get("style", ""))]
        if tag == "link" and _squeezed(attr.get("href", "")).lower().startswith("data:text/css"):
            self.problems += [f"reference in an embedded stylesheet: {u[:80]}" for u in _css_references(_data_text(attr["href"]))]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.problems += [f"reference in <style>: {u[:80]}" for u in _css_references(data)]

    def script_problems(self) -> list[str]:
        """Scripts the renderer did not write: any at all in pandoc's output; in Quarto's, all but its own."""
        def own(attr: dict[str, str]) -> bool:
            return self.quarto and (_squeezed(attr.get("src", "")).lower().startswith("data:")
                                    or attr.get("id", "").startswith("quarto-"))
        return [f"<script> the renderer did not write: {str(a)[:80]}" for a in self.scripts if not own(a)]


def _data_text(url: str) -> str:
    """The text a ``data:`` URL holds (base64 or percent-encoded)."""
    meta, _, payload = url.partition(",")
    if meta.lower().endswith(";base64"):
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False).decode("utf-8", errors="replace")
    return unquote(payload)


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset that are not data: (a data: URL may hold commas, so those are taken out first)."""
    rest = re.sub(r"data:\S*", " ", value, flags=re.IGNORECASE)
    return [t for t in re.split(r"[\s,]+", rest) if t and not _SRCSET_DESCRIPTOR.match(t)]


class _Scans(HTMLParser):
    """Both rule sets in one pass of the tokenizer, which is most of what a check costs (a published
    report is checked as it is rendered, at the end of the monthly run)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report, self.trust = _Scanner(), _TrustScanner()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.report.handle_starttag(tag, attrs)
        self.trust.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.report.handle_endtag(tag)
        self.trust.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        self.report.handle_data(data)
        self.trust.handle_data(data)


def _scan(html: str) -> _Scans:
    scans = _Scans()
    scans.feed(html)
    scans.close()
    return scans


def _trust_problems(scanner: _TrustScanner) -> list[str]:
    return scanner.problems + scanner.script_problems()


def trust_problems_html(html: str) -> list[str]:
    """What would let a published HTML report fetch, navigate or run something (the trust rules above)."""
    return _trust_problems(_scan(html).trust)


def _image_problem(data: bytes) -> str | None:
    """Why ``data`` is not a picture a reader would see (None: a valid image)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return f"not a valid image ({type(exc).__name__})"
    return None


def _data_uri_problem(src: str) -> str | None:
    """Why an ``<img src>`` is not an embedded, valid picture (None: it is)."""
    head, comma, payload = src.partition(",")
    if not head.lower().startswith("data:image/") or not comma:
        return f"not embedded (src={src[:60]!r})"
    if not head.lower().endswith(";base64"):
        return f"embedded without base64 ({head[:40]})"
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "embedded data is not valid base64"
    return _image_problem(data)


def check_html_images(path: Path, expected: int) -> list[str]:
    """Every picture really in the file: each ``<img>`` a valid embedded image, as many as the notebook drew.

    A relative or missing image shows as a broken picture only when the file
    is opened away from the build folder, i.e. by the reader; hence the count.
    """
    return _image_problems(_scan(Path(path).read_text(encoding="utf-8")).report.img_srcs, expected)


def _image_problems(srcs: list[str], expected: int) -> list[str]:
    problems = [f"picture {i}: {why}" for i, src in enumerate(srcs, 1) if (why := _data_uri_problem(src))]
    if len(srcs) != expected:
        problems.append(f"{len(srcs)} pictures in the file, the notebook drew {expected}")
    return problems


def check_docx_images(path: Path, expected: int) -> list[str]:
    """The same for Word: one embedded picture per figure, each a valid image with alt text (``descr``)."""
    with zipfile.ZipFile(path) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
        rels = docx.read("word/_rels/document.xml.rels").decode("utf-8")
        names = set(docx.namelist())
        targets = {m.group(1): (m.group(2), m.group(3) or "")
                   for m in re.finditer(r'<Relationship\b(?=[^>]*\bId="([^"]+)")(?=[^>]*\bTarget="([^"]+)")'
                                        r'(?:(?=[^>]*\bTargetMode="([^"]+)"))?[^>]*>', rels)}
        drawings = re.findall(r"<w:drawing>.*?</w:drawing>", document, re.DOTALL)
        problems = []
        for i, drawing in enumerate(drawings, 1):
            descr = re.search(r'<wp:docPr\b[^>]*\bdescr="([^"]*)"', drawing)
            if descr is None or not descr.group(1).strip():
                problems.append(f"picture {i}: no alt text (descr)")
            embed = re.search(r'\br:embed="([^"]+)"', drawing)
            target, mode = targets.get(embed.group(1), ("", "")) if embed else ("", "")
            part = posixpath.normpath(posixpath.join("word", target)) if target else ""
            if mode.lower() == "external" or part not in names:
                problems.append(f"picture {i}: not embedded in the file")
            elif why := _image_problem(docx.read(part)):
                problems.append(f"picture {i}: {why}")
    if len(drawings) != expected:
        problems.append(f"{len(drawings)} pictures in the file, the notebook drew {expected}")
    return problems


def check_html(path: Path, expected_images: int | None = None) -> list[str]:
    """Problems that make a rendered HTML report unfit to publish (empty list = fine); with
    ``expected_images``, those of ``check_html_images`` too, from the same pass over the file."""
    scans = _scan(Path(path).read_text(encoding="utf-8"))
    scanner = scans.report
    problems = list(scanner.problems) + _trust_problems(scans.trust)
    if scanner.html_lang is None or scanner.html_lang.lower() not in {"da", "da-dk"}:
        problems.insert(0, f'<html lang="da"> missing (lang={scanner.html_lang!r})')
    if not scanner.title.strip():
        problems.append("document has no <title>")
    if expected_images is not None:
        problems += _image_problems(scanner.img_srcs, expected_images)
    return problems


def check_docx(path: Path, expected_images: int | None = None) -> list[str]:
    """The same checks for a Word file: Danish language, image descriptions, no placeholder, no code style;
    with ``expected_images``, those of ``check_docx_images`` too."""
    with zipfile.ZipFile(path) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
        styles = docx.read("word/styles.xml").decode("utf-8")
    problems = []
    if not re.search(r'<w:lang\b[^>]*w:val="da(-DK)?"', styles + document):
        problems.append("document language is not Danish (w:lang da)")
    for props in re.findall(r"<wp:docPr\b[^>]*>", document):
        descr = re.search(r'\bdescr="([^"]*)"', props)
        if descr is None or not descr.group(1).strip():
            problems.append(f"image without description (alt text): {props[:80]}")
    if RENDERER_PLACEHOLDER in document:
        problems.append(f"renderer placeholder {RENDERER_PLACEHOLDER} was not replaced")
    if 'w:val="SourceCode"' in document:
        problems.append("code block shown (SourceCode style)")
    problems += trust_problems_docx(path)
    return problems if expected_images is None else problems + check_docx_images(path, expected_images)


_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_EXTERNAL_REL = re.compile(r"<Relationship\b[^>]*\bTargetMode\s*=\s*[\"']External[\"'][^>]*>", re.IGNORECASE)


def _sibling_link(relationship: str) -> bool:
    """A hyperlink relationship to a sibling report by its bare file name (Word's form of the colophon's link)."""
    target = re.search(r'\bTarget="([^"]*)"', relationship)
    return (relationship.find("/relationships/hyperlink\"") > 0 and target is not None
            and target.group(1) in SIBLING_REPORTS)


def trust_problems_docx(path: Path) -> list[str]:
    """External relationships (links, remote templates and images), and parts that are not images or XML."""
    problems = []
    with zipfile.ZipFile(path) as docx:
        for name in docx.namelist():
            if name.endswith(".rels"):
                rels = docx.read(name).decode("utf-8", errors="replace")
                problems += [f"external relationship in {name}: {r[:120]}" for r in _EXTERNAL_REL.findall(rels)
                             if not _sibling_link(r)]
                if "/aFChunk" in rels:
                    problems.append(f"imported chunk (altChunk) in {name}")
            elif name.startswith("word/media/"):
                if not docx.read(name)[:8].startswith(_IMAGE_MAGIC):
                    problems.append(f"media that is not a PNG, JPEG or GIF image: {name}")
            elif not name.endswith((".xml", ".rels")) or name.startswith(("word/embeddings/", "word/activeX/")):
                problems.append(f"part that is neither XML nor an image: {name}")
    return problems
