"""Render an executed report notebook to HTML and Word: Quarto where installed, else a fallback.

Design decision 3: where ``quarto`` is on PATH it renders the notebook (which it
does not re-execute); elsewhere nbconvert turns the notebook into Markdown and
the pandoc binary from ``pypandoc-binary`` turns that into a self-contained HTML
file and a .docx. Both read the same prepared notebook, and both outputs go
through the same checks (:mod:`analysis.report.checks`). See docs/rendering.md.
"""
from __future__ import annotations

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

from analysis.report.checks import check_docx, check_html
from analysis.report.colophon import RENDERER_PLACEHOLDER
from analysis.report.show import FIGURE_DIR

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
CSS = ASSETS / "report.css"
LUA_FILTER = ASSETS / "fig_alt.lua"
SUFFIXES = {"html": ".html", "docx": ".docx"}
CHECKS: dict[str, Callable[[Path], list[str]]] = {"html": check_html, "docx": check_docx}
TIMEOUT_S = 600
# What a report cell may show: Markdown from analysis.report.show, and images.
_KEPT_MIME = frozenset({"text/markdown", "image/png", "image/jpeg", "image/svg+xml"})
_FRONT_MATTER = re.compile(r"^\s*---\s*\n(.*?)\n---\s*(\n|$)", re.DOTALL)
_HIDE_CELL = "#| echo: false\n#| warning: false\n"


class RenderError(RuntimeError):
    """A renderer failed; the message carries its stderr."""


@dataclass(frozen=True)
class RenderResult:
    """Which renderer ran (with versions), the files it wrote, and what the checks found."""

    renderer: str
    files: dict[str, Path]
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Renderer:
    name: str  # for logs and RenderResult, e.g. "quarto 1.7.31"
    label_da: str  # written into the colophon
    quarto: str | None  # path of the quarto executable, None for the fallback


def _run(args: Sequence[str], cwd: Path) -> str:
    log.debug("running %s", " ".join(args))
    try:
        done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{args[0]} could not run: {exc}") from exc
    if done.returncode != 0:
        raise RenderError(f"{Path(args[0]).name} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    return done.stdout


def _run_all(commands: Sequence[Sequence[str]], cwd: Path) -> None:
    """Run independent commands side by side (pandoc to HTML and to Word); errors as ``_run`` reports them."""
    if len(commands) == 1:
        _run(commands[0], cwd)
        return
    started: list[tuple[Sequence[str], subprocess.Popen]] = []
    finished: list[tuple[Sequence[str], int, str]] = []
    try:
        for args in commands:
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


def _prepare(nb: nbformat.NotebookNode, renderer_label: str) -> nbformat.NotebookNode:
    """The notebook both renderers read: Markdown and images only, the renderer named, code hidden.

    Report content is what :mod:`analysis.report.show` displays. Streams (prints,
    warnings) are dropped, and so is every other MIME type: an HTML output makes
    Quarto load require.js from a CDN, and a plain-text repr would appear as a
    code-like block. Error outputs are kept so that the checks catch them.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(RENDERER_PLACEHOLDER, renderer_label)
        if cell.cell_type != "code":
            continue
        cell.source = _HIDE_CELL + cell.source
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream":
                continue
            if out.output_type in ("display_data", "execute_result"):
                data = {mime: value for mime, value in out.data.items() if mime in _KEPT_MIME}
                dropped = set(out.data) - set(data) - ({"text/plain"} if data else set())
                if dropped:
                    log.warning("cell %d: dropping %s output (show report content with analysis.report.show)",
                                index, ", ".join(sorted(dropped)))
                if not data:
                    continue
                if "text/markdown" in data:
                    data["text/markdown"] = data["text/markdown"].replace(RENDERER_PLACEHOLDER, renderer_label)
                out.data = data
            kept.append(out)
        cell.outputs = kept
    return nb


def _metadata_defaults(front: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Danish unless the front matter says otherwise; explicit metadata wins over the front matter."""
    return {"lang": front.get("lang", "da"), **metadata}


def _quarto(renderer: _Renderer, source: Path, to: str, front: Mapping, metadata: Mapping) -> Path:
    """``quarto render nb.ipynb --to <to>``; values go as YAML (JSON quoting keeps colons in titles intact)."""
    out_dir = f"quarto-{to}"  # relative to the input's folder, however Quarto resolves --output-dir
    meta = {**_metadata_defaults(front, metadata), "echo": False, "warning": False}
    if to == "html":
        meta |= {"embed-resources": True, "html-math-method": "mathml", "toc": True, "notebook-links": False}
    args = [renderer.quarto or "quarto", "render", source.name, "--to", to, "--no-execute", "--output-dir", out_dir]
    for key, value in meta.items():
        args += ["-M", f"{key}:{json.dumps(value, ensure_ascii=False, default=str)}"]
    _run(args, source.parent)
    return source.parent / out_dir / f"{source.stem}{SUFFIXES[to]}"


def _embed_flag(pandoc_version: str) -> str:
    """``--embed-resources`` since pandoc 2.19; older versions call it ``--self-contained``."""
    major, minor = (int(p) for p in (pandoc_version.split(".") + ["0"])[:2])
    return "--embed-resources" if (major, minor) >= (2, 19) else "--self-contained"


def _fallback(source: Path, to: str, front: Mapping, metadata: Mapping) -> Path:
    """nbconvert (Markdown, inputs excluded) then pandoc, with the fig-alt filter and the house CSS."""
    args, target = _fallback_command(source, to, front, metadata)
    _run(args, source.parent)
    return target


def _fallback_command(source: Path, to: str, front: Mapping, metadata: Mapping) -> tuple[list[str], Path]:
    """The pandoc command of ``_fallback`` (after exporting the Markdown once) and the file it writes."""
    markdown = source.with_suffix(".md")
    if not markdown.exists():  # exported once per render; html and docx read the same Markdown
        body, resources = nbconvert.MarkdownExporter(exclude_input=True).from_filename(str(source))
        for name, data in resources.get("outputs", {}).items():
            (source.parent / name).write_bytes(data)
        markdown.write_text(body, encoding="utf-8")
    meta = _metadata_defaults(front, metadata)
    if "title" not in meta and "title" not in front:
        meta["pagetitle"] = source.stem
    target = source.parent / f"{source.stem}{SUFFIXES[to]}"
    args = [pypandoc.get_pandoc_path(), markdown.name, "--from", "markdown", "--standalone", "--wrap=none",
            "--lua-filter", str(LUA_FILTER), "--resource-path", str(source.parent), "-o", target.name]
    if to == "html":
        args += ["--to", "html5", _embed_flag(pypandoc.get_pandoc_version()), "--toc", "--mathml", "--css", str(CSS)]
        if "toc-title" not in front:
            meta["toc-title"] = "Indhold"
    else:
        args += ["--to", "docx"]
    for key, value in meta.items():
        args += ["-M", f"{key}={value}"]
    return args, target


def render_report(
    executed_ipynb: Path,
    out_dir: Path,
    formats: Sequence[str] = ("html", "docx"),
    metadata: dict | None = None,
) -> RenderResult:
    """Render an executed notebook into ``out_dir/<stem>.<html|docx>`` and check the results.

    Renders in a scratch folder and moves each file into place with an atomic
    rename only when every format has rendered, so a failure never leaves a
    half-written report where a good one was. ``metadata`` (title, subtitle,
    date, …) overrides the front matter. Check findings are logged as warnings
    and returned in ``problems``; the caller decides whether they block publishing.
    """
    executed_ipynb, out_dir = Path(executed_ipynb), Path(out_dir)
    unknown = set(formats) - set(SUFFIXES)
    if unknown:
        raise ValueError(f"unknown format(s) {sorted(unknown)}; choose from {sorted(SUFFIXES)}")
    renderer = _choose_renderer()
    log.info("rendering %s to %s with %s", executed_ipynb.name, ", ".join(formats), renderer.name)
    nb = nbformat.read(executed_ipynb, as_version=4)
    front = _front_matter(nb)
    with tempfile.TemporaryDirectory(prefix="analysis-render-") as scratch:
        source = Path(scratch) / executed_ipynb.name
        nbformat.write(_prepare(nb, renderer.label_da), source)
        figures = executed_ipynb.parent / FIGURE_DIR
        if figures.is_dir():
            shutil.copytree(figures, source.parent / FIGURE_DIR)
        built: dict[str, Path] = {}
        if renderer.quarto:
            targets = {to: _quarto(renderer, source, to, front, metadata or {}) for to in formats}
        else:  # one Markdown export, then pandoc to every format side by side
            commands = {to: _fallback_command(source, to, front, metadata or {}) for to in formats}
            _run_all([args for args, _ in commands.values()], source.parent)
            targets = {to: target for to, (_, target) in commands.items()}
        for to, path in targets.items():
            if not path.is_file():
                raise RenderError(f"{renderer.name} reported success but wrote no {path.name}")
            built[to] = path
        problems = [f"{path.name}: {p}" for to, path in built.items() for p in CHECKS[to](path)]
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {to: _publish(path, out_dir / f"{executed_ipynb.stem}{SUFFIXES[to]}") for to, path in built.items()}
    for problem in problems:
        log.warning("render check: %s", problem)
    log.info("rendered %s with %s: %s", executed_ipynb.name, renderer.name, ", ".join(str(p) for p in files.values()))
    return RenderResult(renderer.name, files, problems)


def _publish(built: Path, final: Path) -> Path:
    """Copy next to the target, then rename over it: readers see the old file or the new one, never a part."""
    partial = final.with_name(f".{final.name}.partial")
    shutil.copyfile(built, partial)
    os.replace(partial, final)
    return final
