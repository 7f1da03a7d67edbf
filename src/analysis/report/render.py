"""Render an executed report notebook to HTML and Word: Quarto where installed, else a fallback.

Design decision 3: where ``quarto`` is on PATH it renders the notebook (which it
does not re-execute); elsewhere nbconvert turns the notebook into Markdown and
the pandoc binary from ``pypandoc-binary`` turns that into a self-contained HTML
file and a .docx. Both read the same prepared notebook and the same metadata
file, and both outputs go through the same checks (:mod:`analysis.report.checks`).
See docs/rendering.md.

Nothing a renderer reads lies outside the scratch folder it runs in. An image
reference that is not one of the report's own figures stops the render, and so
does a figure the step did not write. The fallback's pandoc runs with
``--sandbox`` (no file or network access beyond the files named on its command
line), the figures inlined as ``data:`` URIs; Quarto, which has no sandbox,
runs in a folder holding only the prepared notebook, its inputs and copies of
the figures it shows. The checks then require every picture to be embedded.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import nbconvert
import nbformat
import pypandoc
import yaml

from analysis.failures import RunFailure
from analysis.report.checks import check_docx, check_html
from analysis.report.colophon import RENDERER_PLACEHOLDER
from analysis.report.show import FIGURE_DIR, FIGURE_NAME

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
CSS = ASSETS / "report.css"
LUA_FILTER = ASSETS / "fig_alt.lua"
LANDMARK_FILTER = ASSETS / "landmark.lua"
REFERENCE_DOCX = ASSETS / "reference.docx"
SUFFIXES = {"html": ".html", "docx": ".docx"}
# Each check takes the file and the number of figures the notebook drew (every one must be embedded).
CHECKS: dict[str, Callable[[Path, int], list[str]]] = {"html": check_html, "docx": check_docx}
TIMEOUT_S = 600
# What a report cell may show: Markdown from analysis.report.show (figures are Markdown images).
_KEPT_MIME = frozenset({"text/markdown"})
_IMAGE_MIME = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
_FRONT_MATTER = re.compile(r"^\s*---\s*\n(.*?)\n---\s*(\n|$)", re.DOTALL)
_HIDE_CELL = "#| echo: false\n#| warning: false\n"
# A Markdown image ``![caption](src)``; captions come from show.figure_markdown with brackets escaped.
_IMAGE_REF = re.compile(r"(?<!\\)!\[(?:[^\]\\]|\\.)*\]\((?P<src>[^)\s]*)\)")
# Raw HTML that would make a renderer load something; untrusted text reaches Markdown escaped, so this is a backstop.
_RAW_RESOURCE = re.compile(r"(?<!\\)<\s*(img|script|link|iframe|object|embed|video|audio|source|meta|style|svg)\b",
                           re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
# Keys of the front matter that configure rendering rather than describe the document.
_RENDER_KEYS = frozenset({"format", "echo", "warning", "jupyter", "execute", "toc"})


class RenderError(RunFailure, RuntimeError):
    """A renderer failed, or the notebook asked it for something it may not do; the message says which."""

    exit_code = 5


@dataclass(frozen=True)
class RenderResult:
    """Which renderer ran (with versions), the files it wrote, the figures they embed and what the checks found."""

    renderer: str
    files: dict[str, Path]
    problems: list[str] = field(default_factory=list)
    figures: int = 0


@dataclass(frozen=True)
class _Renderer:
    name: str  # for logs and RenderResult, e.g. "quarto 1.7.34"
    label_da: str  # written into the colophon
    quarto: str | None  # path of the quarto executable, None for the fallback


@dataclass(frozen=True)
class _Command:
    args: list[str]
    cwd: Path
    target: Path  # the file it writes


@dataclass(frozen=True)
class _Prepared:
    """The notebook both renderers read, and what the document must contain."""

    notebook: nbformat.NotebookNode
    metadata: dict[str, Any]  # title, lang, toc-title, …: written to the metadata file both renderers read
    toc: bool
    heading_shift: int  # for Word: the top heading level becomes Heading 1
    figure_dir: Path
    figures: list[str]  # file names, in order of appearance
    inline: bool  # figures are data: URIs in the notebook (else files beside it)

    @property
    def figure_count(self) -> int:
        return len(self.figures)


def _run(args: Sequence[str], cwd: Path) -> str:
    log.debug("running %s", " ".join(args))
    try:
        done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{args[0]} could not run: {exc}") from exc
    if done.returncode != 0:
        raise RenderError(f"{Path(args[0]).name} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    return done.stdout


def _run_all(commands: Sequence[tuple[Sequence[str], Path]]) -> None:
    """Run independent ``(args, cwd)`` commands side by side (one per format); errors as ``_run`` reports them."""
    if len(commands) == 1:
        _run(*commands[0])
        return
    started: list[tuple[Sequence[str], subprocess.Popen]] = []
    finished: list[tuple[Sequence[str], int, str]] = []
    try:
        for args, cwd in commands:
            log.debug("running %s", " ".join(args))
            try:
                started.append((args, subprocess.Popen(list(args), cwd=cwd, stdout=subprocess.PIPE,
                                                       stderr=subprocess.PIPE, text=True)))
            except OSError as exc:
                raise RenderError(f"{args[0]} could not run: {exc}") from exc
        for args, proc in started:
            try:
                _, stderr = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired as exc:
                raise RenderError(f"{args[0]} could not run: {exc}") from exc
            finished.append((args, proc.returncode, stderr))
    finally:
        for _, proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for args, code, stderr in finished:
        if code != 0:
            raise RenderError(f"{Path(args[0]).name} failed (exit {code}):\n{stderr.strip()}")


def _choose_renderer() -> _Renderer:
    quarto = shutil.which("quarto")
    if quarto:
        version = _run([quarto, "--version"], Path.cwd()).strip()
        return _Renderer(f"quarto {version}", f"Quarto {version}", quarto)
    pandoc = pypandoc.get_pandoc_version()
    return _Renderer(
        f"fallback: nbconvert {nbconvert.__version__}, pandoc {pandoc}",
        f"nbconvert {nbconvert.__version__} og pandoc {pandoc} (reserverenderer; Quarto er ikke installeret)",
        None,
    )


def _front_matter(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The YAML front matter in the notebook's first raw cell (``{}`` if there is none)."""
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "raw":
        return {}
    match = _FRONT_MATTER.match(first.source)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def _metadata_block(markdown: str) -> dict[str, Any] | None:
    """The fields of a Markdown output that is one YAML metadata block (None for any other output)."""
    match = _FRONT_MATTER.fullmatch(markdown.strip() + "\n")
    if match is None:
        return None
    try:
        fields = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return fields if isinstance(fields, dict) else None


def _checked_figures(markdown: str, figures: Path, where: str, inline: bool) -> tuple[str, list[str]]:
    """``markdown`` with each ``![…](figures/<name>.png)`` checked (and made a ``data:`` URI if ``inline``).

    Returns the text and the names of the figures it shows. A figure the
    notebook names but did not write is a render error (the report would show a
    broken picture), and so is an image reference that is not one of the
    report's figures: a renderer embeds whatever file or URL an image names,
    so only the figures this step drew may be named.
    """
    if _RAW_RESOURCE.search(markdown):
        raise RenderError(f"{where}: raw HTML that loads a resource; report text must reach Markdown escaped")
    names: list[str] = []

    def check(match: re.Match[str]) -> str:
        src = match.group("src")
        folder, _, name = src.partition("/")
        stem, dot, ext = name.rpartition(".")
        if folder != FIGURE_DIR or not dot or ext != "png" or not FIGURE_NAME.match(stem):
            raise RenderError(f"{where}: an image that is not one of the report's figures (use analysis.report.show.figure)")
        path = figures / name
        if not path.is_file():
            raise RenderError(f"{where}: figure {name} is missing from {figures} (the step did not write it)")
        names.append(name)
        if not inline:
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return match.group(0).replace(f"({src})", f"(data:image/png;base64,{data})", 1)

    return _IMAGE_REF.sub(check, markdown), names


def _prepare(nb: nbformat.NotebookNode, renderer_label: str, figures: Path,
             metadata: Mapping[str, Any], inline: bool) -> _Prepared:
    """The notebook both renderers read: Markdown only, figures checked, the renderer named, code hidden.

    Report content is what :mod:`analysis.report.show` displays. Streams (prints,
    warnings) are dropped, and so is every other MIME type: an HTML output makes
    Quarto load require.js from a CDN, and a plain-text repr would appear as a
    code-like block. An image output without ``show.figure`` has no alt text
    and is refused. Error outputs are kept, so that the checks catch them.

    The front matter's document fields (title, lang, …) move to the metadata
    file, overridden first by a metadata block the notebook displayed while it
    ran (a Markdown output that is only ``---\\n<yaml>\\n---``: the title with the
    month, which the front matter cannot know), then by ``metadata``; the raw
    cell keeps rendering options only. Both renderers thus get one title from
    one file, instead of pandoc's and Quarto's rules for competing blocks.
    Figures are inlined as ``data:`` URIs for the sandboxed fallback
    (``inline``); Quarto reads them from the copies :func:`_write_inputs` puts
    beside the notebook (inlining costs it about a second per format).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy
    front = _front_matter(nb)
    if front:
        nb.cells = nb.cells[1:]
    shown: list[str] = []
    texts: list[str] = []
    run_fields: dict[str, Any] = {}
    for index, cell in enumerate(nb.cells, start=2 if front else 1):  # numbered as the executed notebook's cells
        where = f"cell {index}"
        if cell.cell_type == "markdown":
            cell.source, found = _checked_figures(cell.source.replace(RENDERER_PLACEHOLDER, renderer_label),
                                                  figures, where, inline)
            shown += found
            texts.append(cell.source)
        if cell.cell_type != "code":
            continue
        cell.source = _HIDE_CELL + cell.source
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream":
                continue
            if out.output_type in ("display_data", "execute_result"):
                if any(mime in out.data for mime in _IMAGE_MIME):
                    raise RenderError(f"{where}: an image output without alt text; draw charts with "
                                      "analysis.report.show.figure")
                data = {mime: value for mime, value in out.data.items() if mime in _KEPT_MIME}
                dropped = set(out.data) - set(data) - ({"text/plain"} if data else set())
                if dropped:
                    log.warning("%s: dropping %s output (show report content with analysis.report.show)",
                                where, ", ".join(sorted(dropped)))
                if not data:
                    continue
                fields = _metadata_block(data["text/markdown"])
                if fields is not None:  # the title with the month, say: a document field, not text
                    run_fields.update(fields)
                    continue
                text, found = _checked_figures(data["text/markdown"].replace(RENDERER_PLACEHOLDER, renderer_label),
                                               figures, where, inline)
                shown += found
                texts.append(text)
                out.data = {"text/markdown": text}
                out.metadata = {}
            kept.append(out)
        cell.outputs = kept
    # document-css: false leaves out pandoc's default styles (code blocks and all): the house CSS replaces them.
    meta = {"lang": "da", "toc-title": "Indhold", "document-css": False,
            **{k: v for k, v in {**front, **run_fields}.items() if k not in _RENDER_KEYS}, **metadata}
    if "title" not in meta:  # pandoc's HTML needs a <title>; without a title it would use the file name anyway
        meta["pagetitle"] = "Rapport"
    levels = [len(m.group(1)) for text in texts for m in _HEADING.finditer(text)]
    return _Prepared(nb, meta, bool(front.get("toc", True)), 1 - min(levels, default=1), figures, shown, inline)


def _write_inputs(prepared: _Prepared, folder: Path) -> None:
    """The files a renderer reads besides the notebook: metadata, house style, Word reference, filter, figures.

    Only the figures the notebook shows are copied (none once inlined): the
    folder a renderer runs in holds nothing else it could be made to embed.
    """
    (folder / "metadata.yml").write_text(
        yaml.safe_dump(json.loads(json.dumps(prepared.metadata, default=str)), allow_unicode=True, sort_keys=False),
        encoding="utf-8")
    (folder / "style.html").write_text(f"<style>\n{CSS.read_text(encoding='utf-8')}</style>\n", encoding="utf-8")
    for asset in (REFERENCE_DOCX, LUA_FILTER, LANDMARK_FILTER):
        shutil.copyfile(asset, folder / asset.name)
    if prepared.figures and not prepared.inline:
        (folder / FIGURE_DIR).mkdir()
        for name in prepared.figures:
            shutil.copyfile(prepared.figure_dir / name, folder / FIGURE_DIR / name)


def _quarto_front_matter(prepared: _Prepared) -> str:
    """Rendering options for Quarto, in the notebook's raw cell (the document's fields are in the metadata file).

    ``minimal`` leaves out Quarto's theme and scripts: the same plain, script-free
    page as the fallback, styled by the same house CSS. The title is repeated
    here because Quarto, finding a notebook without one, takes the first heading
    as the title and removes it from the text (its front-matter fix-up runs
    before the metadata file is read); the value is the metadata file's.
    """
    options: dict[str, Any] = {
        "format": {
            # The fallback's filters where Quarto falls short: its minimal HTML has no <main> landmark, and it
            # gives Word the caption as an image's description (its HTML takes the alt text from fig-alt itself).
            "html": {"minimal": True, "embed-resources": True, "toc": prepared.toc, "html-math-method": "mathml",
                     "include-in-header": "style.html", "notebook-links": False, "anchor-sections": False,
                     "filters": [{"path": LANDMARK_FILTER.name, "at": "post-quarto"}]},
            "docx": {"toc": prepared.toc, "reference-doc": REFERENCE_DOCX.name,
                     "shift-heading-level-by": prepared.heading_shift, "notebook-links": False,
                     "filters": [{"path": LUA_FILTER.name, "at": "post-quarto"}]},
        },
        "echo": False,
        "warning": False,
    }
    if "title" in prepared.metadata:
        options["title"] = str(prepared.metadata["title"])
    return f"---\n{yaml.safe_dump(options, allow_unicode=True, sort_keys=False)}---\n"


def _quarto_commands(renderer: _Renderer, prepared: _Prepared, scratch: Path, name: str,
                     formats: Sequence[str]) -> dict[str, _Command]:
    """One ``quarto render`` per format, each in a folder of its own so that they can run side by side.

    Quarto's start-up and filters take most of its time, so two formats in one
    invocation would take as long as two invocations one after the other.
    """
    notebook = nbformat.from_dict(json.loads(json.dumps(prepared.notebook)))
    notebook.cells.insert(0, nbformat.v4.new_raw_cell(_quarto_front_matter(prepared)))
    commands = {}
    for to in formats:
        source = scratch / to / name
        source.parent.mkdir()
        nbformat.write(notebook, source)
        _write_inputs(prepared, source.parent)
        args = [renderer.quarto or "quarto", "render", source.name, "--to", to, "--no-execute",
                "--output-dir", "out", "--metadata-file", "metadata.yml"]
        commands[to] = _Command(args, source.parent, source.parent / "out" / f"{source.stem}{SUFFIXES[to]}")
    return commands


def _embed_flag(pandoc_version: str) -> str:
    """``--embed-resources`` since pandoc 2.19; older versions call it ``--self-contained``."""
    major, minor = (int(p) for p in (pandoc_version.split(".") + ["0"])[:2])
    return "--embed-resources" if (major, minor) >= (2, 19) else "--self-contained"


def _fallback_commands(prepared: _Prepared, scratch: Path, name: str,
                       formats: Sequence[str]) -> dict[str, _Command]:
    """nbconvert's Markdown export once, then one sandboxed pandoc per format (run side by side)."""
    source = scratch / name
    nbformat.write(prepared.notebook, source)
    _write_inputs(prepared, scratch)
    body, _ = nbconvert.MarkdownExporter(exclude_input=True).from_filename(str(source))
    markdown = source.with_suffix(".md")
    markdown.write_text(body, encoding="utf-8")
    commands = {}
    for to in formats:
        target = scratch / f"{source.stem}{SUFFIXES[to]}"
        args = [pypandoc.get_pandoc_path(), markdown.name, "--from", "markdown", "--standalone", "--wrap=none",
                "--sandbox", "--resource-path", ".", "--lua-filter", LUA_FILTER.name, "--metadata-file",
                "metadata.yml", "-o", target.name] + (["--toc"] if prepared.toc else [])
        if to == "html":
            args += ["--to", "html5", _embed_flag(pypandoc.get_pandoc_version()), "--mathml",
                     "--include-in-header", "style.html", "--lua-filter", LANDMARK_FILTER.name]
        else:
            args += ["--to", "docx", "--reference-doc", REFERENCE_DOCX.name,
                     f"--shift-heading-level-by={prepared.heading_shift}"]
        commands[to] = _Command(args, scratch, target)
    return commands


def render_report(
    executed_ipynb: Path,
    out_dir: Path,
    formats: Sequence[str] = ("html", "docx"),
    metadata: dict | None = None,
) -> RenderResult:
    """Render an executed notebook into ``out_dir/<stem>.<html|docx>`` and check the results.

    Renders in a scratch folder and moves each file into place with an atomic
    rename only when every format has rendered, so a failure never leaves a
    half-written report where a good one was. Figures are read from the
    ``figures/`` folder beside the executed notebook. ``metadata`` (title,
    subtitle, date, …) overrides the front matter. Check findings (including a
    picture that did not make it into a file) are logged as warnings and
    returned in ``problems``; the caller decides whether they block publishing.
    """
    executed_ipynb, out_dir = Path(executed_ipynb).resolve(), Path(out_dir)
    unknown = set(formats) - set(SUFFIXES)
    if unknown:
        raise ValueError(f"unknown format(s) {sorted(unknown)}; choose from {sorted(SUFFIXES)}")
    renderer = _choose_renderer()
    log.info("rendering %s to %s with %s", executed_ipynb.name, ", ".join(formats), renderer.name)
    nb = nbformat.read(executed_ipynb, as_version=4)
    prepared = _prepare(nb, renderer.label_da, executed_ipynb.parent / FIGURE_DIR, metadata or {},
                        inline=renderer.quarto is None)
    with tempfile.TemporaryDirectory(prefix="analysis-render-") as scratch:
        commands = (_quarto_commands(renderer, prepared, Path(scratch), executed_ipynb.name, formats)
                    if renderer.quarto else _fallback_commands(prepared, Path(scratch), executed_ipynb.name, formats))
        _run_all([(c.args, c.cwd) for c in commands.values()])
        targets = {to: c.target for to, c in commands.items()}
        built: dict[str, Path] = {}
        for to, path in targets.items():
            if not path.is_file():
                raise RenderError(f"{renderer.name} reported success but wrote no {path.name}")
            built[to] = path
        problems = [f"{path.name}: {p}" for to, path in built.items()
                    for p in CHECKS[to](path, prepared.figure_count)]
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {to: _publish(path, out_dir / f"{executed_ipynb.stem}{SUFFIXES[to]}") for to, path in built.items()}
    for problem in problems:
        log.warning("render check: %s", problem)
    log.info("rendered %s with %s: %s", executed_ipynb.name, renderer.name, ", ".join(str(p) for p in files.values()))
    return RenderResult(renderer.name, files, problems, prepared.figure_count)


def _publish(built: Path, final: Path) -> Path:
    """Copy next to the target, then rename over it: readers see the old file or the new one, never a part."""
    partial = final.with_name(f".{final.name}.partial")
    shutil.copyfile(built, partial)
    os.replace(partial, final)
    return final
