"""Publishing in process, without kernels: what is published, and that ``reports/<M>`` is swapped atomically.

A reader of ``reports/<M>`` (the head of department's browser, the share copy, a backup) must at every
moment find one complete version: never no folder, never half a folder, never files of two versions. Two
tests hold the swap to that. One watches every file-system call ``_publish`` makes (Python's audit hooks
announce each one before it happens) and checks the published folder in between, so a non-atomic swap is
caught every time, whatever the timing. The other is the real situation: a separate reader process polls
the folder while the publisher publishes one version after another.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.pipeline import publish as pipeline_publish
from analysis.pipeline.files import write_json_atomic
from analysis.pipeline.run import Runner
from analysis.pipeline.steps import StepResult
from tests.test_pipeline_runner import (FAKE_STEPS, MONTH, Killed, dying_rename_onto, fake_config, make_project,
                                        refuse_symlinks_under)

PUBLISHED = ["fake.html", "indicators.csv", "indicators.parquet", "manifest.json", "status_memo.docx"]


@pytest.fixture
def runner(tmp_path) -> Runner:
    return Runner(fake_config(make_project(tmp_path / "proj")), root=tmp_path / "proj", steps=FAKE_STEPS,
                  required_extracts=())


def stage_version(runner: Runner, version: int) -> dict[Path, str]:
    """Build outputs of one version, every file saying which version it belongs to; what ``_publish`` takes."""
    out, indicators = runner.build / "out", runner.build / "indicators"
    out.mkdir(parents=True, exist_ok=True)
    indicators.mkdir(parents=True, exist_ok=True)
    (out / "fake.html").write_text(f"<html><body>v{version}</body></html>")
    (out / "status_memo.docx").write_bytes(f"docx v{version}".encode())  # sorts after manifest.json
    pd.DataFrame({"indicator": ["version"], "value": [float(version)]}).to_parquet(indicators / "published.parquet")
    pd.DataFrame({"indicator": ["version"], "value": [-1.0]}).to_parquet(indicators / "unsuppressed.parquet")
    runner.manifest_path.write_text(json.dumps({"publish_key": f"v{version}"}))
    return {out / "fake.html": f"html{version}", out / "status_memo.docx": f"docx{version}",
            indicators / "published.parquet": f"table{version}"}


def published_version(folder: Path) -> int:
    """The one version a published folder holds; AssertionError when it is missing, incomplete or mixed."""
    assert folder.is_dir(), f"{folder} is missing"
    assert sorted(os.listdir(folder)) == PUBLISHED, sorted(os.listdir(folder))
    versions = {
        int(json.loads((folder / "manifest.json").read_text())["publish_key"][1:]),
        int((folder / "fake.html").read_text().split("v")[1].split("<")[0]),
        int(pd.read_csv(folder / "indicators.csv")["value"].item()),
        int(pd.read_parquet(folder / "indicators.parquet")["value"].item()),
        int((folder / "status_memo.docx").read_text().split("v")[1]),
    }
    assert len(versions) == 1, f"mixed versions {versions} in {folder}"
    return versions.pop()


# ----- what is published -----------------------------------------------------------------------
def test_only_the_suppressed_table_and_the_reports_are_published(runner):
    files = stage_version(runner, 1)
    (runner.build / "out" / "stale.html").write_text("left over from an earlier run")
    link = runner.publisher.publish(files)
    assert link == runner.reports / MONTH and link.is_symlink()
    assert not os.path.isabs(os.readlink(link))  # relative: the reports folder can be moved or mounted elsewhere
    assert published_version(link) == 1
    csv = pd.read_csv(link / "indicators.csv")
    assert csv.columns.tolist() == ["indicator", "value"] and "-1" not in (link / "indicators.csv").read_text()
    assert pq.read_schema(link / "indicators.parquet").names == ["indicator", "value"]  # no index column


def test_published_files_come_from_the_recorded_outputs_only(runner):
    stage_version(runner, 1)
    (runner.build / "out" / "stale.html").write_text("not an output of any step")
    (runner.build / "out" / "notes.txt").write_text("an output, but not a report format")
    (runner.build / "out" / "status_memo.docx").write_text("a report")
    rel = lambda p: str(p.relative_to(runner.root))  # noqa: E731
    runner.results["report"] = StepResult("report", "ran", "first run", "k", 0.0, {
        rel(runner.build / "out" / "fake.html"): "a", rel(runner.build / "out" / "notes.txt"): "b",
        rel(runner.build / "out" / "status_memo.docx"): "f",
        rel(runner.build / "left.parquet"): "c"})
    runner.results["assemble"] = StepResult("assemble", "ran", "first run", "k", 0.0, {
        rel(runner.build / "indicators" / "published.parquet"): "d",
        rel(runner.build / "indicators" / "unsuppressed.parquet"): "e"})
    assert runner.publisher.published_files(runner.results) == {runner.build / "out" / "fake.html": "a",
                                         runner.build / "out" / "status_memo.docx": "f",
                                         runner.build / "indicators" / "published.parquet": "d"}


def test_each_publish_is_a_new_version_and_earlier_ones_stay(runner, monkeypatch):
    monkeypatch.setattr(pipeline_publish, "utc_stamp", lambda: "20230306T060000Z")  # three publishes in one second
    for version in (1, 2, 3):
        runner.publisher.publish(stage_version(runner, version))
    versions = runner.reports / ".versions" / MONTH
    names = sorted(p.name for p in versions.iterdir())
    assert names == ["20230306T060000Z", "20230306T060000Z-1", "20230306T060000Z-2"]
    assert sorted(published_version(versions / n) for n in names) == [1, 2, 3]
    assert published_version(runner.reports / MONTH) == 3
    assert (runner.reports / MONTH).resolve().parent == versions.resolve()
    assert [p.name for p in runner.reports.iterdir() if p.name.startswith(f".{MONTH}")] == []


def test_leftovers_of_an_interrupted_publish_are_swept(runner):
    runner.publisher.publish(stage_version(runner, 1))
    versions = runner.reports / ".versions" / MONTH
    (versions / ".staging-20230101T000000Z" / "sub").mkdir(parents=True)
    (runner.reports / f".{MONTH}.link999").symlink_to("nowhere")
    (runner.reports / ".2023-01.link999").symlink_to("nowhere")  # another month's publish: not ours to sweep
    runner.publisher.publish(stage_version(runner, 2))
    assert not list(versions.glob(".staging-*"))
    assert not (runner.reports / f".{MONTH}.link999").is_symlink()
    assert (runner.reports / ".2023-01.link999").is_symlink()
    assert published_version(runner.reports / MONTH) == 2


def test_a_plain_folder_in_the_way_is_archived(runner):
    (runner.reports / MONTH).mkdir(parents=True)
    (runner.reports / MONTH / "hand-made.html").write_text("an analyst's copy")
    runner.publisher.publish(stage_version(runner, 1))
    archived = list((runner.reports / ".versions" / MONTH).glob("archived-*"))
    assert [(a / "hand-made.html").read_text() for a in archived] == ["an analyst's copy"]
    assert published_version(runner.reports / MONTH) == 1


def test_the_current_key_is_read_from_the_published_manifest(runner):
    assert runner.publisher.current_key() is None
    runner.publisher.publish(stage_version(runner, 4))
    assert runner.publisher.current_key() == "v4"


def test_the_share_copy_is_whole_and_repaired(runner, tmp_path, caplog):
    caplog.set_level("INFO", logger="analysis.pipeline")
    runner.share = tmp_path / "share"
    link = runner.publisher.publish(stage_version(runner, 1))
    target = runner.publisher.copy_to_share(runner.share, link.resolve(), "v1")
    assert [r.getMessage() for r in caplog.records] == [f"copied the reports to {target}"]
    assert target == runner.share / MONTH and published_version(target) == 1
    (target / "fake.html").write_text("changed by hand")
    assert runner.publisher.copy_to_share(runner.share, link.resolve(), "v1") == target  # the manifest says it is current: left alone
    assert (target / "fake.html").read_text() == "changed by hand"
    link = runner.publisher.publish(stage_version(runner, 2))
    runner.publisher.copy_to_share(runner.share, link.resolve(), "v2")
    assert published_version(target) == 2 and not list(target.glob(".*"))


def test_the_share_keeps_its_versions_hidden_and_a_second_copy_in_one_second_gets_a_suffix(runner, tmp_path,
                                                                                              monkeypatch):
    """``<share>/.versions/<M>/<stamp>`` as in ``reports/``; a copy in the same second as the one shown is
    ``<stamp>-1``, and the version no longer shown is swept."""
    monkeypatch.setattr(pipeline_publish, "utc_stamp", lambda: "20230306T060000Z")
    share, publisher = tmp_path / "share", runner.publisher
    target = publisher.copy_to_share(share, publisher.publish(stage_version(runner, 1)).resolve(), "v1")
    versions = share / ".versions" / MONTH
    assert target.resolve() == (versions / "20230306T060000Z").resolve()
    publisher.copy_to_share(share, publisher.publish(stage_version(runner, 2)).resolve(), "v2")
    assert [p.name for p in versions.iterdir()] == ["20230306T060000Z-1"]
    assert target.resolve() == (versions / "20230306T060000Z-1").resolve() and published_version(target) == 2
    assert sorted(p.name for p in share.iterdir()) == [".versions", MONTH]


def test_the_share_manifest_is_copied_last_and_the_month_switched_after(runner, tmp_path, monkeypatch):
    """A copy cut short never carries the new manifest (so the next run sees it is not current), and the
    share's month is switched only once every file is in the staged version."""
    runner.share = tmp_path / "share"
    link = runner.publisher.publish(stage_version(runner, 1))
    order: list[str] = []
    real_copy, real_replace = pipeline_publish.share_copy, os.replace
    monkeypatch.setattr(pipeline_publish, "share_copy", lambda a, b: (order.append(Path(b).name), real_copy(a, b))[1])
    monkeypatch.setattr(pipeline_publish.os, "replace", lambda a, b: (order.append(f"switch {Path(b).name}"),
                                                             real_replace(a, b))[1])
    runner.publisher.copy_to_share(runner.share, link.resolve(), "v1")
    copies = [name for name in order if not name.startswith("switch ")]
    assert copies[-1] == "manifest.json" and sorted(copies) == PUBLISHED
    assert order[-1] == f"switch {runner.month}" and order.index(f"switch {runner.month}") > order.index("manifest.json")


def test_leftovers_of_an_interrupted_share_copy_are_swept_and_the_month_shown_stays(runner, tmp_path):
    """What a copy killed half-way leaves on the share (a staging folder, a link being made, a folder moved
    aside) is removed by the next copy; another month's leftovers are not this month's to sweep."""
    share, publisher = tmp_path / "share", runner.publisher
    link = publisher.publish(stage_version(runner, 1))
    target = publisher.copy_to_share(share, link.resolve(), "v1")
    versions = share / ".versions" / MONTH
    (versions / ".staging-20230101T000000Z" / "sub").mkdir(parents=True)
    (share / f".{MONTH}.link999").symlink_to("nowhere")
    (share / f".{MONTH}.old-20230101T000000Z").mkdir()
    (share / ".2023-01.link999").symlink_to("nowhere")
    assert publisher.copy_to_share(share, link.resolve(), "v1") == target  # current: swept, not copied again
    assert sorted(p.name for p in share.iterdir()) == [".2023-01.link999", ".versions", MONTH]
    assert [p.resolve() for p in versions.iterdir()] == [target.resolve()] and published_version(target) == 1


def test_a_share_without_symlinks_shows_the_version_folder_itself(runner, tmp_path, monkeypatch):
    share, publisher = tmp_path / "share", runner.publisher
    refuse_symlinks_under(share, monkeypatch)
    for version in (1, 2):
        target = publisher.copy_to_share(share, publisher.publish(stage_version(runner, version)).resolve(),
                                         f"v{version}")
        assert target == share / MONTH and target.is_dir() and not target.is_symlink()
        assert published_version(target) == version
        # the earlier plain folder moved aside and then removed; no version folder kept beside it
        assert sorted(p.name for p in share.iterdir()) == [".versions", MONTH]
        assert list((share / ".versions" / MONTH).iterdir()) == []


def test_a_plain_month_folder_on_a_share_that_now_takes_symlinks_is_moved_aside_then_swept(runner, tmp_path,
                                                                                          monkeypatch):
    """A share copied to while it refused symlinks (or a folder made by hand) holds ``<share>/<M>`` as a plain
    folder; once symlinks work, the next copy moves it aside, links the month to the new version, and sweeps it."""
    share, publisher = tmp_path / "share", runner.publisher
    refuse_symlinks_under(share, monkeypatch)
    publisher.copy_to_share(share, publisher.publish(stage_version(runner, 1)).resolve(), "v1")
    monkeypatch.undo()
    assert not (share / MONTH).is_symlink()
    target = publisher.copy_to_share(share, publisher.publish(stage_version(runner, 2)).resolve(), "v2")
    assert target.is_symlink() and published_version(target) == 2
    assert target.resolve().parent == (share / ".versions" / MONTH).resolve()
    assert sorted(p.name for p in share.iterdir()) == [".versions", MONTH]


def test_a_share_without_symlinks_killed_between_its_two_renames_is_put_back(runner, tmp_path, monkeypatch):
    """The month is absent for the moment between the renames (never mixed); the next copy first puts the
    version shown before back, then switches to the new one."""
    share, publisher = tmp_path / "share", runner.publisher
    refuse_symlinks_under(share, monkeypatch)
    publisher.copy_to_share(share, publisher.publish(stage_version(runner, 1)).resolve(), "v1")
    link = publisher.publish(stage_version(runner, 2))
    real_replace = os.replace
    monkeypatch.setattr(pipeline_publish.os, "replace", dying_rename_onto(share / MONTH))  # the second rename
    with pytest.raises(Killed):
        publisher.copy_to_share(share, link.resolve(), "v2")
    monkeypatch.setattr(pipeline_publish.os, "replace", real_replace)
    assert not (share / MONTH).exists()
    [aside] = share.glob(f".{MONTH}.old-*")
    assert published_version(aside) == 1
    # a run that still has version 1 to show finds it back in place and current
    assert publisher.copy_to_share(share, link.resolve(), "v1") == share / MONTH
    assert published_version(share / MONTH) == 1 and not list(share.glob(f".{MONTH}.old-*"))
    publisher.copy_to_share(share, link.resolve(), "v2")
    assert published_version(share / MONTH) == 2 and sorted(p.name for p in share.iterdir()) == [".versions", MONTH]


def test_files_and_names_reach_the_disk_before_the_swap(runner, monkeypatch):
    """A power cut after the swap must not publish empty files: every file and the version folder are
    fsynced before the folder is renamed into place, and the reports folder after the link is swapped."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(pipeline_publish.os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))),
                                                         real_fsync(fd))[1])
    monkeypatch.setattr(pipeline_publish.os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b))[1])
    link = runner.publisher.publish(stage_version(runner, 1))
    final = link.resolve()
    swap = events.index(("replace", str(final)))
    synced = {Path(path).name for kind, path in events[:swap] if kind == "fsync"}
    assert synced >= set(PUBLISHED)
    assert any(kind == "fsync" and Path(path).name.startswith(".staging-") for kind, path in events[:swap])
    assert events[-1] == ("fsync", str(runner.reports.resolve()))


def test_json_is_written_whole_under_its_name(tmp_path):
    path = tmp_path / "new" / "month" / "manifest.json"  # two folders to make
    write_json_atomic(path, {"b": 1, "a": tmp_path})
    assert path.read_text(encoding="utf-8") == '{\n  "a": "%s",\n  "b": 1\n}' % tmp_path
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temporary file left
    write_json_atomic(path, {"c": "æøå"})
    assert json.loads(path.read_bytes().decode("utf-8")) == {"c": "æøå"}


# ----- the swap is atomic ----------------------------------------------------------------------
_WATCHED = {"os.rename", "os.remove", "os.symlink", "os.rmdir", "os.mkdir", "os.link", "os.truncate",
            "shutil.rmtree", "shutil.copyfile", "shutil.move"}
_observer: list = []  # the check to run before each watched call, while a test is watching


def _audit(event: str, args: tuple) -> None:
    if _observer and event in _WATCHED:
        check = _observer.pop()  # not re-entered by the file calls the check makes itself
        try:
            check(event)
        finally:
            _observer.append(check)


_hooked = False


def _watch(check) -> None:
    global _hooked
    if not _hooked:  # an audit hook cannot be removed: one per process, idle while ``_observer`` is empty
        sys.addaudithook(_audit)
        _hooked = True
    _observer.append(check)


def test_publish_swap_is_atomic_at_every_step(runner):
    link = runner.reports / MONTH
    runner.publisher.publish(stage_version(runner, 1))
    seen: list[tuple[str, int]] = []
    failures: list[str] = []

    def check(event: str) -> None:
        try:
            seen.append((event, published_version(link)))
        except AssertionError as exc:
            failures.append(f"before {event}: {exc}")

    for version in (2, 3):
        files = stage_version(runner, version)
        _watch(check)
        try:
            runner.publisher.publish(files)
        finally:
            _observer.clear()
        assert published_version(link) == version
    assert failures == []
    assert {v for _, v in seen} == {1, 2} and len(seen) > 10  # the check ran between the publishes' calls


_READER = r"""
import json, os, sys, time
from pathlib import Path
folder, stop = Path(sys.argv[1]), Path(sys.argv[2])
seen, problems = {}, []
while not stop.exists():
    try:  # a reader takes the version the link names once, then reads that version's files (they never change)
        version = Path(os.path.realpath(folder))
        names = sorted(os.listdir(version))
        versions = {json.loads((version / "manifest.json").read_text())["publish_key"],
                    "v" + (version / "fake.html").read_text().split("v")[1].split("<")[0],
                    "v" + (version / "indicators.csv").read_text().split()[-1].split(",")[-1].split(".")[0]}
    except (OSError, ValueError, IndexError, KeyError) as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
        continue
    if names != sorted(["fake.html", "indicators.csv", "indicators.parquet", "manifest.json", "status_memo.docx"]) \
            or len(versions) != 1:
        problems.append(f"{names} {versions}")
        continue
    v = versions.pop()
    seen[v] = seen.get(v, 0) + 1
print(json.dumps({"seen": seen, "problems": problems[:5], "n_problems": len(problems)}))
"""


def test_a_reader_process_polling_during_publishes_never_sees_a_gap_or_a_mix(runner, tmp_path):
    link = runner.reports / MONTH
    runner.publisher.publish(stage_version(runner, 1))
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(link), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 3
        version = 1
        while version < 40 and time.monotonic() < deadline:  # as many publishes as 3 s allow, at most 39
            version += 1
            runner.publisher.publish(stage_version(runner, version))
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=30)
    report = json.loads(out)
    assert report["n_problems"] == 0, report["problems"]
    assert set(report["seen"]) <= {f"v{v}" for v in range(1, version + 1)}
    assert sum(report["seen"].values()) > 0 and published_version(link) == version
