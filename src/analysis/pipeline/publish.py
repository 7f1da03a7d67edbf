"""Publishing a month's reports atomically, locally and on the shared folder.

``reports/<M>`` is a symlink to a complete version folder; a new version is
staged beside it, flushed to disk and switched to in one rename, so readers see
the previous version or the new one, never a mix. The shared folder gets the
same treatment (or two renames where it refuses symlinks).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from analysis.context import PUBLISHED_TABLE
from analysis.pipeline.files import fsync_dir, fsync_folder, read_json, share_copy, utc_stamp
from analysis.pipeline.steps import StepResult

log = logging.getLogger(__name__)


def _install_version(staging: Path, versions: Path, stamp: str) -> Path:
    """Flush ``staging`` to disk and rename it to the version folder ``stamp`` (two within one second keep both)."""
    fsync_folder(staging)
    final, n = versions / stamp, 1
    while final.exists():
        final, n = versions / f"{stamp}-{n}", n + 1
    os.replace(staging, final)
    return final


def _new_link(folder: Path, month: str, final: Path) -> Path:
    """A temporary relative symlink ``folder/.<M>.link<pid>`` to ``final``, to be renamed over ``folder/<M>`` in one step."""
    link = folder / f".{month}.link{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(final.relative_to(folder))
    return link


class Publisher:
    """Puts one month's outputs where readers find them: ``reports/<M>`` and, if asked, ``<share>/<M>``."""

    def __init__(self, root: Path, build: Path, reports: Path, month: str, manifest_path: Path):
        self.root = root
        self.build = build
        self.reports = reports
        self.month = month
        self.manifest_path = manifest_path

    def published_files(self, results: dict[str, StepResult]) -> dict[Path, str]:
        """Rendered reports and the suppressed table, with their sha256.

        Taken from the steps' recorded outputs, never from a folder listing, so a
        stale file left in the build folder is never published.
        """
        out, table = self.build / "out", self.build / PUBLISHED_TABLE
        files: dict[Path, str] = {}
        for result in results.values():
            for rel, sha in result.outputs.items():
                path = self.root / rel
                if (path.parent == out and path.suffix in {".html", ".docx"}) or path == table:
                    files[path] = sha
        return files

    def current_key(self) -> str | None:
        """The publish key of the version ``reports/<M>`` shows (None before the first publish)."""
        link = self.reports / self.month
        return read_json(link / "manifest.json").get("publish_key") if link.exists() else None

    def publish(self, files: dict[Path, str]) -> Path:
        """Stage the month's outputs in a new version folder, then swap the symlink ``reports/<M>`` to it."""
        import pandas as pd

        versions = self.reports / ".versions" / self.month
        self._sweep(versions)
        stamp = utc_stamp()
        staging = versions / f".staging-{stamp}"
        staging.mkdir(parents=True)
        for path in files:
            if path == self.build / PUBLISHED_TABLE:  # only the suppressed table is ever published
                table = pd.read_parquet(path)
                table.to_parquet(staging / "indicators.parquet", index=False)
                table.to_csv(staging / "indicators.csv", index=False, encoding="utf-8")
            else:
                shutil.copy2(path, staging / path.name)
        shutil.copy2(self.manifest_path, staging / "manifest.json")
        final = _install_version(staging, versions, stamp)
        link = self.reports / self.month
        if link.exists() and not link.is_symlink():
            # A plain folder from elsewhere is archived, never overwritten silently.
            os.replace(link, versions / f"archived-{stamp}")
        os.replace(_new_link(self.reports, self.month, final), link)
        fsync_dir(self.reports)
        return link

    def _sweep(self, versions: Path) -> None:
        """Remove what an interrupted publish left behind; ``reports/<M>`` never pointed at any of it."""
        for leftover in versions.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.reports.glob(f".{self.month}.link*"):
            leftover.unlink(missing_ok=True)

    def copy_to_share(self, share: Path, folder: Path, key: str) -> Path:
        """Bring the shared folder's copy of the month up to date so that it always shows one whole version.

        The files are copied into a hidden staging folder on the share (``.versions/<M>/.staging-*``), flushed,
        renamed to a version folder, and ``<share>/<M>`` is switched to it in one rename of a symlink, as
        ``reports/<M>`` is. Where the share refuses symlinks (some SMB mounts), ``<share>/<M>`` is a plain
        folder switched by two renames: for that moment it is absent, never mixed. copyfile, not copy2:
        network shares often refuse to set times and modes. Leftovers of an interrupted copy are swept first.
        """
        target = share / self.month
        versions = share / ".versions" / self.month
        self._sweep_share(share, target, versions)
        if read_json(target / "manifest.json").get("publish_key") == key:
            return target
        stamp = utc_stamp()
        staging = versions / f".staging-{stamp}"
        staging.mkdir(parents=True)
        for f in sorted(folder.iterdir(), key=lambda f: f.name == "manifest.json"):
            share_copy(f, staging / f.name)
        self._switch_share(share, target, _install_version(staging, versions, stamp))
        self._sweep_share(share, target, versions)
        log.info("copied the reports to %s", target)
        return target

    def _switch_share(self, share: Path, target: Path, final: Path) -> None:
        """Point ``target`` at ``final``: a symlink swapped in one rename, or two renames where symlinks fail."""
        try:
            link = _new_link(share, self.month, final)
        except OSError:  # no symlinks on this share: the version folder itself becomes <share>/<M>
            old = share / f".{self.month}.old-{final.name}"
            if target.exists() or target.is_symlink():
                os.replace(target, old)
            os.replace(final, target)
            fsync_dir(share)
            return
        if target.exists() and not target.is_symlink():  # a plain folder from an earlier copy: moved aside once
            os.replace(target, share / f".{self.month}.old-{final.name}")
        os.replace(link, target)
        fsync_dir(share)

    def _sweep_share(self, share: Path, target: Path, versions: Path) -> None:
        """Remove what an interrupted share copy left, and versions ``<share>/<M>`` no longer shows.

        Killed between the two renames of a share without symlinks, the month is only in ``.<M>.old-*``:
        it is put back first, so the share shows the version it showed before.
        """
        old = sorted(share.glob(f".{self.month}.old-*"))
        if old and not (target.exists() or target.is_symlink()):
            os.replace(old.pop(), target)
        for leftover in old:
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in share.glob(f".{self.month}.link*"):
            leftover.unlink(missing_ok=True)
        current = target.resolve() if target.is_symlink() else None
        for version in versions.glob("*") if versions.exists() else ():
            if version.resolve() != current:
                shutil.rmtree(version, ignore_errors=True)
