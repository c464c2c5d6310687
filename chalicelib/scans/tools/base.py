"""What every scan tool shares: findings, their fingerprints, and one safe way to run a binary.

The tools run inside SQS workers whose environment holds AWS credentials, over repositories
anyone may have written, so a binary gets an argument list (never a shell), no stdin, a
minimal environment and a deadline; and the paths handed to a tool are regular files inside
the checkout, never symlinks that could point a linter at the worker's own files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Any, Self

SEVERITIES = {1: "fatal", 2: "error", 3: "warning", 4: "info"}

FINGERPRINT_HEX = 32
CHUNK_PATHS = 500
CHUNK_BYTES = 100_000  # well under Linux's ARG_MAX (2 MiB) with the tool's own arguments


class ToolError(Exception):
    """A tool could not run or its output was unusable; str() is safe to show users."""


class Record:
    """JSON round trips for flat dataclasses: shard outputs are stored in S3 and merged later."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class RawFinding(Record):
    """A finding as a tool reports it, before it has a fingerprint."""

    tool: str
    rule: str
    severity: int
    path: str
    line: int
    column: int
    message: str
    category: str = ""


@dataclass(frozen=True)
class Finding(Record):
    """One issue at a repo-relative posix path, 1-based line and column; severity per SEVERITIES."""

    tool: str
    rule: str
    severity: int
    path: str
    line: int
    column: int
    message: str
    fingerprint: str
    category: str = ""


def normalise(text: str) -> str:
    """Collapse whitespace, so reindenting a line does not make its finding new."""
    return " ".join(text.split())


def fingerprint(tool: str, rule: str, path: str, line_text: str, ordinal: int) -> str:
    """A stable id of a finding that leaves out the line number.

    Inserting or deleting unrelated lines keeps it; editing the flagged line changes it; the
    ordinal tells apart identical findings on identical lines of one file.
    """
    key = "\0".join((tool, rule, path, normalise(line_text), str(ordinal)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_HEX]


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _lines(path: Path) -> list[str]:
    try:
        return _NEWLINE.split(path.read_bytes().decode("utf-8", "replace"))
    except OSError:
        return []


def fingerprints(root: Path, raw: Iterable[RawFinding]) -> list[Finding]:
    """Fingerprint findings, reading each file once, in a deterministic order.

    Sorted by path, line, column, rule (then tool and message) before ordinals are given, so
    the same findings get the same fingerprints whatever order a tool printed them in.
    """
    ordered = sorted(raw, key=lambda r: (r.path, r.line, r.column, r.rule, r.tool, r.message))
    out: list[Finding] = []
    texts: list[str] = []
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    current = None
    for r in ordered:
        if r.path != current:
            current, texts = r.path, _lines(root / r.path)
            seen.clear()
        text = normalise(texts[r.line - 1]) if 0 < r.line <= len(texts) else ""
        ordinal = seen[(r.tool, r.rule, text)]
        seen[(r.tool, r.rule, text)] += 1
        fp = fingerprint(r.tool, r.rule, r.path, text, ordinal)
        out.append(Finding(**{**asdict(r), "fingerprint": fp}))
    return out


def regular_files(root: Path, paths: Iterable[str]) -> list[str]:
    """The given repo-relative paths that are regular files inside root, sorted, once each.

    Symlinks (to a file or through a directory), absolute paths and `..` are dropped: a
    checkout may hold a link to /proc/self/environ, and a linter must not read it.
    """
    base = root.resolve()
    keep: set[str] = set()
    for p in paths:
        rel = PurePosixPath(p)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            continue
        full = base.joinpath(*rel.parts)
        try:
            if not stat.S_ISREG(full.lstat().st_mode) or full.resolve() != full:
                continue
        except (OSError, RuntimeError):
            continue
        keep.add(rel.as_posix())
    return sorted(keep)


def head(root: Path, path: str, size: int = 128) -> bytes:
    """The first bytes of a file, for shebang sniffing."""
    try:
        with (root / path).open("rb") as f:
            return f.read(size)
    except OSError:
        return b""


def chunks(
    paths: list[str], max_count: int = CHUNK_PATHS, max_bytes: int = CHUNK_BYTES
) -> Iterator[list[str]]:
    """Split paths into argument lists a kernel accepts."""
    batch: list[str] = []
    size = 0
    for p in paths:
        n = len(os.fsencode(p)) + 1
        if batch and (len(batch) >= max_count or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += n
    if batch:
        yield batch


def argv_path(path: str) -> str:
    """A relative path no tool can read as an option or as stdin ('-')."""
    return "./" + path


def relative(root: Path, filename: str) -> str | None:
    """A tool's filename (absolute, or relative to root) as a repo-relative posix path."""
    p = Path(filename)
    if not p.is_absolute():
        return PurePosixPath(os.path.normpath(filename)).as_posix()
    for base in (root.resolve(), root.absolute()):
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            continue
    return None


_ABSOLUTE = re.compile(r"(?<![\w.~-])/[^\s'\"`:,;()]+")


def scrub(text: str, cwd: Path) -> str:
    """A tool's complaint, short and without the machine's absolute paths."""
    for base in {str(cwd.resolve()), str(cwd.absolute())}:
        text = text.replace(base + os.sep, "").replace(base, ".")
    text = _ABSOLUTE.sub("<path>", normalise(text))
    return text[:200]


def run_tool(argv: list[str], *, cwd: Path, timeout_s: float) -> subprocess.CompletedProcess:
    """Run a tool binary: no shell, no stdin, a minimal environment, a deadline.

    The worker's environment holds AWS credentials; the tool gets PATH (its own directory),
    LANG and HOME (the checkout) only. A missing binary or the deadline raise ToolError.
    """
    name = Path(argv[0]).name
    env = {
        "PATH": str(Path(argv[0]).parent) if os.sep in argv[0] else os.defpath,
        "LANG": "C.UTF-8",
        "HOME": str(cwd),
    }
    try:
        return subprocess.run(  # noqa: S603 - an argument list, never a shell
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=max(timeout_s, 0.001),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{name} timed out after {round(timeout_s, 1):g} s") from None
    except FileNotFoundError:
        raise ToolError(f"{name} is not installed") from None
    except OSError as exc:
        raise ToolError(f"{name} could not start: {exc.strerror or 'OS error'}") from None


def failed(name: str, proc: subprocess.CompletedProcess, cwd: Path) -> ToolError:
    """A ToolError for a run that ended badly, quoting (scrubbed) what it said."""
    said = scrub(proc.stderr or proc.stdout or "", cwd)
    return ToolError(f"{name} failed (exit {proc.returncode})" + (f": {said}" if said else ""))


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def tool_binary(name: str) -> str:
    """The absolute path of a tool binary installed with the Python packages (ruff, shellcheck).

    Looked for where pip puts scripts rather than on the worker's PATH first, so the pinned
    version is the one that runs.
    """
    if name == "ruff":
        try:
            from ruff.__main__ import find_ruff_bin

            found = Path(find_ruff_bin())
            if _executable(found):
                return str(found.absolute())
        except (ImportError, FileNotFoundError):
            pass
    exe = name + (".exe" if sys.platform == "win32" else "")
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for d in dirs:
        if d and _executable(Path(d) / exe):
            return str((Path(d) / exe).absolute())
    which = shutil.which(name)
    if which:
        return str(Path(which).absolute())
    raise ToolError(f"{name} is not installed")
