"""The output folder of a batch job: Parquet parts, a manifest, a lock and the summary.

Layout of ``DIR`` (names starting with ``_`` or ``.`` are skipped by Parquet readers such
as pyarrow, pandas, Spark and DuckDB, so ``DIR`` reads as one table)::

    _frankly_job.json            the job: its inputs (with size and mtime), model, options
    _frankly_job.lock            held (flock) while a job runs: one writer at a time
    part-00000-000000.parquet    input file 0, chunk 0 (rows 1..chunk_rows), and so on
    .part-00000-000001.parquet.<pid>-<hex>.tmp    a part being written
    _frankly_summary.json        written last: the job is complete
    _SUCCESS                     the same, for tools that look for Hadoop's marker

Exactly once: a part is written to a temporary name, synced and renamed, so it exists
whole or not at all. Chunk k of an input file holds the same rows on every run (the chunk
size is in the manifest), so a restarted job skips the parts that exist and writes the
rest. A job restarted with other settings, or with files added or gone, is refused, never
mixed in; an input file edited since (another size or time) has its parts removed and is
scored again.
Each part's footer carries its counts and the first failed rows, so the summary is read
from the footers without reading any rows.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from frankly.batch.job import Summary
from frankly.batch.tables import ParquetWriter
from frankly.errors import DataError, FranklyError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, one job per folder is on the user
    fcntl = None  # type: ignore[assignment]

MANIFEST = "_frankly_job.json"
LOCK = "_frankly_job.lock"
SUMMARY = "_frankly_summary.json"
SUCCESS = "_SUCCESS"
MANIFEST_VERSION = 1
PART = re.compile(r"^part-(\d{5})-(\d{6})\.parquet$")
FOOTER_KEY = "frankly"
# Failed rows named (place and reason) per part and in the summary; the rest are counted.
FAILED_KEPT = 20
FAILED_SHOWN = 100


class JobConflict(FranklyError):
    """DIR holds another job, or another process is writing it."""

    code = "job_conflict"


def part_name(input_index: int, chunk: int) -> str:
    return f"part-{input_index:05d}-{chunk:06d}.parquet"


def input_fingerprint(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@dataclass
class BatchSummary(Summary):
    """A job's counts (see :class:`~frankly.batch.job.Summary`) and its failed rows:
    ``failed`` holds (input file, place, reason) for the first ``FAILED_SHOWN``."""

    failed: list[tuple[str, str, str]] = field(default_factory=list)
    parts: int = 0

    def merge(self, stats: dict[str, Any], source: str = "") -> None:
        """Add a part's footer stats (``part_stats``)."""
        self.n += stats["n"]
        for label, count in stats["counts"].items():
            self.counts[label] = self.counts.get(label, 0) + count
        self.needs_review += stats["needs_review"]
        self.errors += stats["errors"]
        if stats.get("urgent") is not None:
            self.urgent = (self.urgent or 0) + stats["urgent"]
        self.model = stats.get("model") or self.model
        room = FAILED_SHOWN - len(self.failed)
        self.failed += [(source, where, why) for where, why in stats.get("failed", [])[:room]]
        self.parts += 1

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "parts": self.parts,
                "failed": [{"input": s, "where": w, "reason": r} for s, w, r in self.failed]}


def part_stats(summary: Summary, failed: list[tuple[str, str]]) -> dict[str, Any]:
    """What a part's footer says about its rows."""
    return {**{k: v for k, v in summary.to_dict().items() if k != "shares"},
            "failed": [list(f) for f in failed[:FAILED_KEPT]]}


class JobDir:
    """The output folder of one job. Use as a context manager: it holds the lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self.redone: list[str] = []  # inputs changed since the last run, scored again

    # -- opening ---------------------------------------------------------------------------

    def __enter__(self) -> "JobDir":
        if self.path.exists() and not self.path.is_dir():
            raise DataError(f"cannot write the job to {self.path}: it is a file; --output "
                            f"names a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _lock(self) -> None:
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise JobConflict(f"another frankly batch is writing {self.path}: wait for "
                                  f"it to finish, or stop it and run this again") from None
        self._lock_fd = fd

    def start(self, job: dict[str, Any], *, restart: bool = False) -> bool:
        """Record ``job`` as this folder's job, or check that it is the recorded one.

        Returns True when the folder already held this job (a resumed run). Raises
        JobConflict when it holds another job, or files that are not a job's, unless
        ``restart`` (then the old job's files are removed first).
        """
        manifest = self.path / MANIFEST
        self.remove_temporary()
        if restart and manifest.exists():  # never a folder that holds no job: not ours
            self.clear()
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise JobConflict(f"{manifest} cannot be read ({exc}): pass --restart to "
                                  f"start the job over") from None
            if old.get("version") != MANIFEST_VERSION:
                raise JobConflict(f"{self.path} holds a job of another frankly version: "
                                  f"pass --restart to start it over, or use a new folder")
            differences = _differences(old, job)
            if differences:
                raise JobConflict(
                    f"{self.path} holds a job with other settings ({'; '.join(differences)}):"
                    f" run the same command as before to resume it, pass --restart to "
                    f"start over with these settings, or use a new --output folder")
            self._redo_changed(old, job)
            return True
        strangers = [p.name for p in self.path.iterdir() if p.name != LOCK]
        if strangers:
            (self.path / LOCK).unlink(missing_ok=True)  # leave their folder as it was
            shown = ", ".join(sorted(strangers)[:3]) + (", ..." if len(strangers) > 3 else "")
            raise JobConflict(f"{self.path} is not empty and holds no frankly batch job "
                              f"({shown}): use a new or empty --output folder")
        _write_atomic(manifest, json.dumps({"version": MANIFEST_VERSION, **job}, indent=1))
        return False

    def _redo_changed(self, old: dict[str, Any], job: dict[str, Any]) -> None:
        """Inputs edited since the last run (the same file, another size or time, say a
        malformed line fixed): their parts go, so they are scored again; the parts of the
        other files are kept. Parts first, then the manifest: a kill between the two finds
        the file still changed, and removes nothing more."""
        changed = {i for i, (a, b) in enumerate(zip(old["inputs"], job["inputs"])) if a != b}
        if not changed:
            return
        self.unfinish()
        for p in self.path.iterdir():
            m = PART.match(p.name)
            if m and int(m[1]) in changed:
                p.unlink()
        _write_atomic(self.path / MANIFEST,
                      json.dumps({"version": MANIFEST_VERSION, **job}, indent=1))
        self.redone = [job["inputs"][i]["path"] for i in sorted(changed)]

    def clear(self) -> None:
        """Remove what a job wrote (parts, manifest, markers, Spark's leftovers)."""
        self.clear_output()
        (self.path / MANIFEST).unlink(missing_ok=True)

    def clear_output(self) -> None:
        """Remove everything but the manifest and the lock (an incomplete Spark output)."""
        for p in self.path.iterdir():
            if p.name in (MANIFEST, LOCK):
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()

    def remove_temporary(self) -> None:
        """Parts a killed run left half-written (their workers are gone: we hold the lock)."""
        for p in self.path.glob(".*.tmp"):
            p.unlink(missing_ok=True)

    # -- parts -----------------------------------------------------------------------------

    def done_parts(self) -> dict[tuple[int, int], dict[str, Any]]:
        """The complete parts: (input, chunk) -> footer stats. A part whose footer cannot
        be read (the disk failed under it) is removed, so it is written again."""
        import pyarrow.parquet as pq

        done = {}
        for p in self.path.iterdir():
            m = PART.match(p.name)
            if not m:
                continue
            try:
                meta = pq.read_schema(p).metadata or {}
                done[int(m[1]), int(m[2])] = json.loads(meta[FOOTER_KEY.encode()])
            except Exception:  # unreadable: write it again rather than trust it
                p.unlink(missing_ok=True)
        return done

    def write_part(self, input_index: int, chunk: int, rows: list[dict[str, Any]],
                   columns: Sequence[str], types: dict[str, Any],
                   stats: dict[str, Any]) -> None:
        """Write one part atomically (temporary name, fsync, rename)."""
        writer = ParquetWriter(self.path / part_name(input_index, chunk), columns,
                               types=types, metadata={FOOTER_KEY: json.dumps(stats)})
        with writer:
            writer.write(rows)

    # -- finishing -------------------------------------------------------------------------

    def finish(self, summary: BatchSummary, extra: dict[str, Any]) -> None:
        """Mark the job complete: the summary file, then Hadoop's _SUCCESS."""
        _write_atomic(self.path / SUMMARY,
                      json.dumps({**summary.to_dict(), **extra}, indent=1))
        _write_atomic(self.path / SUCCESS, "")
        self.remove_temporary()

    def finished(self) -> bool:
        """Whether the job ran to its end (``finish``), and its summary can be read."""
        return (self.path / SUCCESS).exists() and (self.path / SUMMARY).exists()

    def saved_summary(self) -> BatchSummary:
        """The summary ``finish`` wrote."""
        saved = json.loads((self.path / SUMMARY).read_text(encoding="utf-8"))
        summary = BatchSummary(n=saved["n"], counts=saved["counts"],
                               needs_review=saved["needs_review"], errors=saved["errors"],
                               urgent=saved["urgent"], model=saved["model"])
        summary.parts = saved["parts"]
        summary.failed = [(f["input"], f["where"], f["reason"]) for f in saved["failed"]]
        return summary

    def unfinish(self) -> None:
        """The job is running again: it is not complete until ``finish``."""
        for name in (SUCCESS, SUMMARY):
            (self.path / name).unlink(missing_ok=True)


def _flat(job: dict[str, Any]) -> dict[str, Any]:
    """The settings as one level: the analyzer's are named as the others are."""
    flat = {k: v for k, v in job.items() if k not in ("version", "inputs", "analyzer")}
    flat.update(job.get("analyzer") or {})
    return flat


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found = []
    before, now = _flat(old), _flat(new)
    for key in sorted(set(before) | set(now)):
        if before.get(key) == now.get(key):
            continue
        base = key.removesuffix("_fingerprint")
        if base != key:
            if before.get(base) == now.get(base):  # same name, other contents
                found.append(f"{base}: its files changed since the job started")
            continue
        found.append(f"{key}: {before.get(key)!r} before, {now.get(key)!r} now")
    was = {i["path"]: i for i in old.get("inputs", [])}
    is_ = {i["path"]: i for i in new.get("inputs", [])}
    # A file edited in place is scored again (_redo_changed); one added or gone is refused:
    # it is more often a mistyped glob than the same job.
    changed = [f"{p} (new)" for p in is_ if p not in was]
    changed += [f"{p} (gone)" for p in was if p not in is_]
    if not changed and list(was) != list(is_):
        changed = ["the same files in another order"]
    if changed:
        found.append("inputs: " + ", ".join(changed[:3])
                     + (f" and {len(changed) - 3} more" if len(changed) > 3 else ""))
    return found


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
