"""The scan engine's limits, from the environment (`.chalice/config.json` per stage).

Read on each use (cheap), so tests and operators can change them without a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    shard_files: int  # a task over more files is split into shards of at most this many
    shard_bytes: int  # ... or of at most this many bytes of source
    max_file_bytes: int  # bigger files are not scanned (generated code, data)
    job_timeout_s: int  # a job still open after this is closed with 297 (TCA: one day)
    heartbeat_s: int  # no progress for this long: re-driven, then 298
    lease_s: int  # a claimed shard, start or store is another worker's after this (past
    # the scan worker's 300 s Lambda timeout, so a live worker never loses its claim)
    max_redrives: int
    fetch_depth: int  # commits fetched: an incremental scan's base must be among them


def limits() -> Limits:
    return Limits(
        shard_files=_int("TASKHUB_SCAN_SHARD_FILES", 500),
        shard_bytes=_int("TASKHUB_SCAN_SHARD_BYTES", 32 * 1024 * 1024),
        max_file_bytes=_int("TASKHUB_SCAN_MAX_FILE_BYTES", 1024 * 1024),
        job_timeout_s=_int("TASKHUB_SCAN_JOB_TIMEOUT", 24 * 3600),
        heartbeat_s=_int("TASKHUB_SCAN_HEARTBEAT", 1800),
        lease_s=_int("TASKHUB_SCAN_LEASE", 360),
        max_redrives=_int("TASKHUB_SCAN_MAX_REDRIVES", 3),
        fetch_depth=_int("TASKHUB_SCAN_FETCH_DEPTH", 50),
    )
