"""Secrets leave the server's environment once they are read.

The local server gets its admin token (and any tracker secret) through its environment,
and a step the server starts could read that environment back from
`/proc/<server>/environ`, which shows the environment the process started with, whatever
`os.environ` says since. So once start-up has read what it needs, `scrub` removes every
secret-looking variable and overwrites its value in that initial block too.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

log = logging.getLogger("taskhub")

SECRET = re.compile(r"^TASKHUB_\w*(TOKEN|SECRET|PASSWORD|API_KEY|SECRET_KEY)$")
_readers: list[Callable[[], object]] = []


def read_at_start(reader: Callable[[], object]) -> Callable[[], object]:
    """Register a (cached) reader of settings that must run before the secrets go."""
    _readers.append(reader)
    return reader


def scrub() -> list[str]:
    """Read what must be read, then drop the secrets; the names dropped."""
    for reader in _readers:
        reader()
    values = {name: value for name, value in os.environ.items() if SECRET.match(name)}
    for name in values:
        del os.environ[name]
    try:
        _overwrite_initial(values)
    except OSError as exc:  # no /proc/self/mem here: os.environ is scrubbed all the same
        log.warning("could not scrub the initial environment: %s", exc)
    return sorted(values)


def _overwrite_initial(values: dict[str, str]) -> None:
    with open("/proc/self/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[47]), int(fields[48])  # env_start, env_end (proc(5))
    with open("/proc/self/mem", "r+b", buffering=0) as mem:
        mem.seek(start)
        block = mem.read(end - start)
        for name, value in values.items():
            entry = f"{name}={value}".encode() + b"\0"
            at = 0 if block.startswith(entry) else block.find(b"\0" + entry) + 1
            if at <= 0 and not block.startswith(entry):
                continue
            mem.seek(start + at + len(name) + 1)
            mem.write(b"\0" * len(value.encode()))
