"""Content fingerprints for cache keys, manifests and report colophons.

A step is reused only when the fingerprints of everything it reads are
unchanged (design decision 7), so these functions hash file *contents*, never
modification times, and hash the package's code as a whole so that a change in
any module reruns what depends on it.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import analysis

_CHUNK = 1 << 20
_CODE_SUFFIXES = {".py", ".yml", ".yaml", ".lua", ".css", ".html", ".txt", ".csv", ".docx"}  # all the package ships


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_fingerprint(files: Iterable[Path], root: Path) -> dict[str, str]:
    """sha256 per file, keyed by the path relative to ``root`` (stable across machines)."""
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in sorted(files) if p.is_file()}


def combine(*parts: Any) -> str:
    """One short digest of any JSON-serialisable parts (dicts are key-sorted)."""
    payload = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()[:20]


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus a digest of every source and data file shipped in the package."""
    pkg = Path(analysis.__file__).parent
    files = [p for p in pkg.rglob("*") if p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts]
    return f"{analysis.__version__}+{combine(files_fingerprint(files, pkg))[:10]}"
