"""Imports point one way: a module may import its own layer or a lower one, never a higher one.

The layers, lowest first. A module belongs to the entry that is the longest prefix of its
dotted name, so a new module inside a listed package needs no new line, and a new top-level
package or root module is one line in the layer it belongs to. Within a layer, imports may
go either way (ingest and clean share the schemas and the stay counting both ways).
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("analysis", "analysis.base", "analysis.months", "analysis.cpr", "analysis.params",
              "analysis.fingerprint", "analysis.failures")),
    ("reading", ("analysis.ingest", "analysis.clean", "analysis.context")),
    ("domain", ("analysis.indicators", "analysis.forecast", "analysis.retention", "analysis.synthetic")),
    ("presentation", ("analysis.report",)),
    ("running", ("analysis.pipeline", "analysis.notebook_run", "analysis.cli", "analysis.__main__")),
)
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}


def layer(name: str) -> int | None:
    """Rank of the longest table entry that is ``name`` or a dotted prefix of it (None: not in the table).

    The root package ``analysis`` is an entry for its own ``__init__`` only, not a prefix: a new
    package must be given its layer, not fall into the lowest one.
    """
    parts = name.split(".")
    for n in range(len(parts), 1, -1):
        rank = RANK.get(".".join(parts[:n]))
        if rank is not None:
            return rank
    return RANK.get(name)


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, src: Path = SRC) -> list[tuple[int, str]]:
    """(line, imported name) of every ``analysis`` import in the file, including lazy and TYPE_CHECKING ones.

    ``from a.b import c`` yields ``a.b.c``: c may be a module of a higher layer (``from analysis import report``).
    """
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "analysis"]


def modules(src: Path = SRC) -> list[Path]:
    return sorted((src / "analysis").rglob("*.py"))


def upward_imports(src: Path = SRC) -> list[str]:
    """One message per import that points to a higher layer, naming the importing module, file, line and import."""
    found = []
    for path in modules(src):
        importer = module_name(path, src)
        own = layer(importer)
        for line, name in imports(path, src):
            target = layer(name)
            if own is not None and target is not None and target > own:
                found.append(f"{importer} ({path.relative_to(src.parent)}:{line}) imports {name}: "
                             f"layer '{LAYERS[own][0]}' may not import from the higher layer '{LAYERS[target][0]}'")
    return found


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in modules() if layer(module_name(p)) is None]
    assert not missing, f"modules in no layer of tests/test_layering.py LAYERS (add their package): {missing}"


def test_every_layer_entry_names_a_module():
    names = {module_name(p) for p in modules()}
    stale = [prefix for prefix in RANK if not any(n == prefix or n.startswith(prefix + ".") for n in names)]
    assert not stale, f"LAYERS names modules that no longer exist (remove or rename the line): {stale}"


def test_no_import_points_to_a_higher_layer():
    upward = upward_imports()
    assert not upward, "imports that point upward:\n" + "\n".join(upward)


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path):
    """The check itself, on a made-up tree: relative, lazy and module imports are all seen."""
    package = tmp_path / "src" / "analysis" / "indicators"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("import pandas\n\nfrom ..report import show\n\n\ndef f():\n"
                                    "    import analysis.pipeline\n    from analysis.base import fmt\n", "utf-8")
    assert upward_imports(tmp_path / "src") == [
        "analysis.indicators.bad (src/analysis/indicators/bad.py:3) imports analysis.report.show: "
        "layer 'domain' may not import from the higher layer 'presentation'",
        "analysis.indicators.bad (src/analysis/indicators/bad.py:7) imports analysis.pipeline: "
        "layer 'domain' may not import from the higher layer 'running'",
    ]
    assert layer("analysis.newpackage.module") is None and layer("analysis") == 0  # the root is no catch-all
