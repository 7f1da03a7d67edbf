"""The parameter files and their loader.

Policy figures are data (design decision 9): versioned YAML files, one per area
(``NN_<area>.yml`` in this folder; the number orders the parameter tables of the
reports), whose leaves carry value, unit and source. Every leaf also carries its
Danish documentation, which the reports print: ``label_da`` and ``source_da``
are required, ``unit_da`` defaults to ``unit``; ``assumption: true`` marks a
figure the unit chose without a public source. Runs may override leaves; a typo
in an override is an error, because a silently ignored override would publish
the wrong figures.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml



class ParameterError(ValueError):
    """A parameter file or override that cannot be used as written."""


@dataclass(frozen=True)
class Param:
    """One documented parameter leaf.

    ``unit`` and ``source`` are English (docs, ``python -m analysis params``);
    ``label_da``, ``unit_da`` and ``source_da`` are what the Danish reports print.
    """

    key: str
    value: Any
    unit: str
    source: str
    assumption: bool
    label_da: str = ""
    source_da: str = ""
    unit_da: str = ""
    raise_only: bool = False  # a protective floor (disclosure.min_count): overrides may raise it, never lower it


def _is_leaf(node: Any) -> bool:
    return isinstance(node, Mapping) and "value" in node


def _flatten(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key, child in node.items():
        dotted = f"{prefix}{key}"
        if _is_leaf(child):
            yield dotted, child
        elif isinstance(child, Mapping):
            yield from _flatten(child, dotted + ".")
        else:
            raise ParameterError(f"parameter '{dotted}' has no 'value' entry "
                                 "(every leaf needs value, unit, source, label_da, source_da)")


def _flatten_plain(node: Mapping[str, Any], known: set[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten an override file of plain values; stop at known leaves (values may be mappings)."""
    for key, child in node.items():
        dotted = f"{prefix}{key}"
        if dotted in known or not isinstance(child, Mapping):
            yield dotted, child
        else:
            yield from _flatten_plain(child, known, dotted + ".")


def _parse_scalar(key: str, text: str) -> Any:
    """Parse a command-line override value with YAML rules (numbers, lists, dates as text)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # a tag, an unclosed bracket: the value is quoted back, it is the user's own
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParameterError(f"--param {key}: the value is not a plain YAML value ({problem})") from None


class Params(Mapping[str, Any]):
    """Read-only view of the parameters: ``params["disclosure.min_count"]`` gives the value."""

    def __init__(self, entries: dict[str, Param], overridden: set[str]):
        self._entries = entries
        self.overridden = frozenset(overridden)

    def __getitem__(self, key: str) -> Any:
        try:
            return self._entries[key].value
        except KeyError:
            raise KeyError(_unknown_key_message(key, self._entries)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> Param:
        """The full documented leaf (value, unit, source, assumption and the Danish label_da, unit_da, source_da)."""
        if key not in self._entries:
            raise KeyError(_unknown_key_message(key, self._entries))
        return self._entries[key]

    def entries(self) -> list[Param]:
        return list(self._entries.values())

    def values(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: p.value for k, p in self._entries.items()}

    def fingerprint(self) -> str:
        """Stable hash of all values: part of every cache key that depends on parameters."""
        payload = json.dumps(self.values(), sort_keys=True, default=str).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


def _unknown_key_message(key: str, entries: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(entries), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"unknown parameter '{key}'.{hint}"


def _check_raise_only(base: Param, value: Any) -> None:
    """A floor such as the disclosure threshold: a whole number at least the file's value, or ParameterError."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or value < base.value:
        raise ParameterError(
            f"parameter '{base.key}' = {value!r} refused: it may be raised, but never set below {base.value} "
            f"{base.unit} (a whole number); {base.source}")


def _base_files(path: str | Path | None) -> list[tuple[str, Any]]:
    """The documented parameter files, in file-name order, each as (name for messages, mapping).

    ``path``: one file or a folder of ``*.yml``; None is this package's own folder, read with
    libyaml's parser where PyYAML has it (same safe constructor, ~10× faster): every notebook loads it.
    """
    if path is None:
        folder = Path(str(resources.files(__package__)))
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return [(f"analysis/params/{f.name}", yaml.load(f.read_text(encoding="utf-8"), Loader=loader) or {})  # noqa: S506
                for f in sorted(folder.glob("*.yml"))]
    where = Path(path)
    return [(str(f), _read_yaml(f)) for f in (sorted(where.glob("*.yml")) if where.is_dir() else [where])]


def _read_yaml(path: Path) -> Any:
    """A parameter file as a mapping; a missing, unreadable or non-mapping file is a usage error naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParameterError(f"{path}: not valid YAML ({problem})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot be read as a parameter file "
                             f"({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    if not isinstance(data, Mapping):
        raise ParameterError(f"{path}: a parameter file must be a mapping of parameter names to values")
    return data


def load_params(
    path: str | Path | None = None,
    override_files: list[str | Path] | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None,
) -> Params:
    """Load the documented parameter files, then apply override files and ``key=value`` overrides.

    ``path``: a parameter file or folder in place of this package's files. Every leaf needs
    ``source``, ``label_da`` and ``source_da`` (``unit_da`` defaults to ``unit``), and is defined
    in one file only. Overrides replace values only; units, sources and Danish labels stay those
    of the documented files, and the set of overridden keys is kept so reports can flag them.
    """
    entries: dict[str, Param] = {}
    origin: dict[str, str] = {}
    for where, base in _base_files(path):
        for key, leaf in _flatten(base):
            if key in entries:
                raise ParameterError(f"{where}: parameter '{key}' is also defined in {origin[key]}")
            for field, what in (("source", "source"), ("label_da", "Danish label (label_da)"),
                                ("source_da", "Danish source (source_da)")):
                if not str(leaf.get(field) or "").strip():
                    raise ParameterError(f"{where}: parameter '{key}' has no {what}")
            unit = str(leaf.get("unit", ""))
            entries[key] = Param(key, leaf["value"], unit, str(leaf["source"]), bool(leaf.get("assumption", False)),
                                 label_da=str(leaf["label_da"]), source_da=str(leaf["source_da"]),
                                 unit_da=str(leaf.get("unit_da") or unit), raise_only=leaf.get("raise_only") is True)
            origin[key] = where

    changes: dict[str, Any] = {}
    for file in override_files or []:
        changes.update(_flatten_plain(_read_yaml(Path(file)), set(entries)))
    if isinstance(overrides, list):
        for item in overrides:
            if "=" not in item:
                raise ParameterError(f"override '{item}' is not of the form key=value")
            key, text = item.split("=", 1)
            changes[key.strip()] = _parse_scalar(key.strip(), text)
    elif overrides:
        changes.update(overrides)

    for key, value in changes.items():
        if key not in entries:
            raise ParameterError(_unknown_key_message(key, entries))
        old = entries[key]
        if old.raise_only:
            _check_raise_only(old, value)
        entries[key] = dataclasses.replace(old, value=value)
    return Params(entries, set(changes))
