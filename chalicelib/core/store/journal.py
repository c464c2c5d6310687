"""The embedded store's write-ahead journal: framed records, group commit, snapshots.

A data directory holds one generation at a time: `snapshot-<n>.log` (everything the store
held when generation n began; absent for n = 0) and `journal-<n>.log` (every change since).
Each record is a frame `length, crc32, JSON payload`; a torn or corrupt frame ends the
journal (a crash mid-append), and the tail after it is cut off on open. A snapshot counts
only once its closing `end` record is on disk and the file has its final name, so a crash
while compacting leaves the previous generation in charge. Large values (S3 objects) are
content-addressed files under `blobs/`; records name them by SHA-256.

Appends happen under the store's lock, in the order requests were applied. `wait(seq)` is
the group commit: whoever finds the journal behind calls fsync for everyone appended so far,
so N concurrent writers share one fsync instead of queueing for N.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

FRAME = struct.Struct(">II")  # payload length, crc32 of the payload
MAX_RECORD = 512 * 1024 * 1024
_GENERATION = re.compile(r"^(snapshot|journal)-(\d{8})\.log$")


class CorruptStore(RuntimeError):
    """A snapshot that cannot be read: refusing to start beats starting empty."""


def _encode(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Records of a file up to the first torn or corrupt frame, and the offset where it ends."""
    records: list[dict[str, Any]] = []
    good = 0
    with open(path, "rb") as fh:
        data = fh.read()
    while good + FRAME.size <= len(data):
        length, crc = FRAME.unpack_from(data, good)
        start, end = good + FRAME.size, good + FRAME.size + length
        if length > MAX_RECORD or end > len(data):
            break
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            break
        try:
            records.append(json.loads(payload))
        except ValueError:
            break
        good = end
    return records, good


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    def __init__(self, directory: Path, *, sync: bool = True, compact_bytes: int = 64 << 20):
        self.directory = Path(directory)
        self.blobs = self.directory / "blobs"
        self.sync = sync
        self.compact_bytes = compact_bytes
        self.generation = 0
        self._fd: int | None = None
        self._size = 0
        self._written = 0  # records appended (all generations)
        self._durable = 0  # records known to be on disk
        self._syncing = False
        self._cv = threading.Condition()

    # ---- opening ---------------------------------------------------------------------------

    def _path(self, kind: str, generation: int) -> Path:
        return self.directory / f"{kind}-{generation:08d}.log"

    def _generations(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {"snapshot": [], "journal": []}
        for entry in self.directory.iterdir():
            match = _GENERATION.match(entry.name)
            if match:
                found[match.group(1)].append(int(match.group(2)))
        return found

    def replay(self) -> Iterator[dict[str, Any]]:
        """Every record of the newest complete snapshot, then of its journal. Afterwards the
        journal is open for appending, its torn tail cut off and older generations removed."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.blobs.mkdir(exist_ok=True, mode=0o700)
        found = self._generations()
        complete: list[dict[str, Any]] = []
        snapshots = sorted(found["snapshot"], reverse=True)
        for generation in snapshots:
            records, _ = read_frames(self._path("snapshot", generation))
            if records and records[-1].get("k") == "end":
                complete, self.generation = records[:-1], generation
                break
        else:
            if snapshots:
                raise CorruptStore(f"no complete snapshot in {self.directory}")
        yield from complete
        journal = self._path("journal", self.generation)
        if journal.exists():
            records, good = read_frames(journal)
            if good != journal.stat().st_size:
                with open(journal, "r+b") as fh:
                    fh.truncate(good)
                    fh.flush()
                    os.fsync(fh.fileno())
            yield from records
        self._open_journal(self.generation)
        self._remove_other_generations()
        for stray in self.directory.glob("*.tmp"):
            stray.unlink()

    def _open_journal(self, generation: int) -> None:
        path = self._path("journal", generation)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self.generation, self._size = fd, generation, os.fstat(fd).st_size
        _fsync_dir(self.directory)

    def _remove_other_generations(self) -> None:
        for kind, generations in self._generations().items():
            for generation in generations:
                if generation != self.generation:
                    self._path(kind, generation).unlink(missing_ok=True)

    # ---- appending -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        return self._written

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Write records (the caller holds the store's lock); returns the seq to `wait` for."""
        data = b"".join(_encode(r) for r in records)
        if data:
            assert self._fd is not None, "replay() opens the journal"
            os.write(self._fd, data)
            self._size += len(data)
            with self._cv:
                self._written += 1
        return self._written

    def wait(self, seq: int) -> None:
        """Return once every record up to `seq` is on disk (one fsync serves all waiters)."""
        if not self.sync:
            return
        with self._cv:
            while self._durable < seq:
                if self._syncing:
                    self._cv.wait()
                    continue
                self._syncing, target, fd = True, self._written, self._fd
                self._cv.release()
                try:
                    if fd is not None:
                        os.fsync(fd)
                finally:
                    self._cv.acquire()
                    self._syncing = False
                    self._durable = max(self._durable, target)
                    self._cv.notify_all()

    def _quiesce(self) -> None:
        """Everything appended is on disk and no fsync is running (before switching files)."""
        with self._cv:
            while self._syncing:
                self._cv.wait()
            if self._fd is not None:
                os.fsync(self._fd)
            self._durable = self._written
            self._cv.notify_all()

    # ---- blobs -----------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            tmp = self.blobs / f"{digest}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
                if self.sync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
            if self.sync:
                _fsync_dir(self.blobs)
        return digest

    def read_blob(self, digest: str) -> bytes:
        return (self.blobs / digest).read_bytes()

    # ---- compaction ------------------------------------------------------------------------

    @property
    def needs_compaction(self) -> bool:
        return self._size >= self.compact_bytes

    def compact(self, records: Iterable[dict[str, Any]], blobs: set[str]) -> None:
        """Start the next generation from `records`, the store's whole state (the caller holds
        the store's lock, so nothing is appended meanwhile); drop blobs not in `blobs`."""
        self._quiesce()
        generation = self.generation + 1
        final = self._path("snapshot", generation)
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            for record in records:
                fh.write(_encode(record))
            fh.write(_encode({"k": "end"}))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.directory)
        self._open_journal(generation)
        self._remove_other_generations()
        for entry in self.blobs.iterdir():
            if entry.name not in blobs and not entry.name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

    def close(self) -> None:
        if self._fd is not None:
            self._quiesce()
            os.close(self._fd)
            self._fd = None
