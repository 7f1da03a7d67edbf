"""Cache keys (design decision 7) and the manifests that record them.

A step's key combines a digest per input: notebook, code version, parameters,
reference month, the outputs of the steps it needs, and for ingest the raw
extract and the pseudonymisation key. The manifest keeps the digests, so the
reason for a rerun can name the input that changed.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
from pathlib import Path

from analysis.context import RunContext
from analysis.fingerprint import combine, file_sha256, files_fingerprint
from analysis.pipeline.files import read_json, utc_stamp, write_json_atomic
from analysis.pipeline.steps import Scope, Step, StepResult


class Manifest:
    """The month's ``manifest.json`` and the extract's shared ``_manifest.json``: what each step last recorded."""

    def __init__(self, month_path: Path, extract_path: Path, month: str, code: str):
        self.month_path = month_path
        self.extract_path = extract_path
        self.month = month
        self.code = code
        self._lock = threading.Lock()  # parallel steps update the same manifest

    def _path(self, scope: Scope) -> Path:
        return self.extract_path if scope == "extract" else self.month_path

    def recorded(self, step: Step) -> dict:
        return read_json(self._path(step.scope)).get("steps", {}).get(step.name, {})

    def record(self, result: StepResult, scope: Scope) -> None:
        path = self._path(scope)
        with self._lock:
            book = read_json(path)
            book.setdefault("steps", {})[result.name] = {
                "key": result.key, "inputs": result.inputs, "outputs": result.outputs, "reason": result.reason,
                "seconds": round(result.seconds, 2), "finished": utc_stamp(),
            }
            if scope == "month":
                book.update({"month": self.month, "code_version": self.code})
            write_json_atomic(path, book)

    def record_run(self, results: dict[str, StepResult], publish_key: str | None = None, **facts: object) -> None:
        """The last run's story in the month's manifest: each step ran or reused, why, and how long."""
        with self._lock:
            book = read_json(self.month_path)
            if publish_key:  # what reports/<M> shows once published; compared by the next run
                book["publish_key"] = publish_key
            run = book.setdefault("last_run", {})
            run.update(facts)
            run["steps"] = {r.name: {"status": r.status, "reason": r.reason, "seconds": round(r.seconds, 2)}
                            for r in results.values()}
            write_json_atomic(self.month_path, book)


class CacheKeys:
    """Each step's inputs, outputs and whether its recorded key still holds."""

    def __init__(self, root: Path, ctx: RunContext, code: str, manifest: Manifest, force: bool = False,
                 only: frozenset[str] = frozenset()):
        self.root = root
        self.ctx = ctx
        self.code = code
        self.manifest = manifest
        self.force = force
        self.only = only

    def raw_fingerprint(self) -> dict[str, str]:
        raw = self.ctx.raw_dir
        return files_fingerprint([p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".")], raw)

    def key_fingerprint(self) -> str:
        """One-way digest of the pseudonymisation key: a new key re-pseudonymises, and the key is never stored."""
        from analysis.ingest.pseudonym import load_key

        key, _source = load_key(self.ctx.raw_dir, self.root)  # PseudonymKeyError: exit 2, as its class says
        return hmac.new(key, b"analysis cache key", hashlib.sha256).hexdigest()[:16]

    def status_fingerprint(self) -> dict[str, str]:
        """The narrative files the memo of M can read: its own month's, or an earlier one as fallback."""
        status = self.ctx.raw_dir / "status"
        month = self.ctx.month_label
        files = [f for f in status.glob("*.yml") if f.stem <= month] if status.exists() else []
        return files_fingerprint(files, self.ctx.raw_dir)

    def expand(self, pattern: str) -> str:
        return pattern.format(processed=self.ctx.processed_dir, month_dir=self.ctx.month_dir, build=self.ctx.build_dir)

    def outputs(self, step: Step) -> dict[str, str]:
        files: list[Path] = []
        for pattern in step.patterns:
            expanded = Path(self.expand(pattern))
            files.extend(p for p in expanded.parent.glob(expanded.name) if p.is_file())
        return {str(p.relative_to(self.root) if p.is_relative_to(self.root) else p): file_sha256(p)
                for p in sorted(set(files))}

    def inputs(self, step: Step, results: dict[str, StepResult]) -> dict[str, str]:
        """A digest per input; the cache key combines them, the manifest keeps them to say which one changed."""
        inputs = {"notebook": file_sha256(self.root / step.notebook) if step.notebook else "", "code": self.code}
        if step.scope == "extract":  # ingest reads only its own parameters (size limits, quarantine share)
            ingest_params = {k: v for k, v in self.ctx.params.values().items() if k.startswith("ingest.")}
            return inputs | {"raw extract": combine(self.raw_fingerprint()), "pseudonym key": self.key_fingerprint(),
                             "parameters": combine(ingest_params)}
        inputs |= {"parameters": self.ctx.params.fingerprint(), "month": self.ctx.month_label}
        inputs |= {f"upstream {n}": combine(results[n].outputs) for n in step.needs}
        if step.reads_status:
            inputs["narrative"] = combine(self.status_fingerprint())
        return inputs

    def why_rerun(self, step: Step, key: str, inputs: dict[str, str]) -> str | None:
        """None when the step can be reused, else the reason it must run."""
        if self.force:
            return "forced (--force)"
        if step.name in self.only:
            return "requested (--only)"
        rec = self.manifest.recorded(step)
        if not rec:
            return "first run"
        if rec.get("key") != key:
            before = rec.get("inputs", {})
            changed = [name for name in sorted(inputs.keys() | before.keys()) if before.get(name) != inputs.get(name)]
            return f"inputs changed: {', '.join(changed)}" if before and changed else "inputs changed"
        now = self.outputs(step)
        if not now or now != rec.get("outputs"):
            return "outputs missing or altered since last run"
        return None
