"""File operations the runner's parts share: time stamps, atomic JSON, flushing to disk."""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path


def utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def write_json_atomic(path: Path, data: object) -> None:
    """Write to a hidden temporary file, then rename: a reader never sees half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    """The file's mapping; a missing or damaged file reads as empty (the step then simply reruns)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def fsync_folder(folder: Path) -> None:
    """Flush files and names to disk before a rename makes them visible, so a power cut cannot publish empty files."""
    for f in folder.iterdir():
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def share_copy(source: Path, target: Path) -> None:
    """One file onto the share (a seam for the kill tests: the run may die after any file)."""
    shutil.copyfile(source, target)
