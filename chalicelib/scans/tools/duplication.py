"""Duplicated blocks across files, by lizard's duplicate extension, in two phases.

Phase 1 (`samples`, per shard) tokenises each file the way `lizard -Eduplicate` does
(comments and whitespace dropped, identifiers renamed per scope, constants unified) and keeps
one digest per token position of the 31-token window starting there. Phase 2 (`find`, once,
over every shard's samples) runs lizard's DuplicateFinder on those digests, files sorted by
path, so the result does not depend on how the files were sharded.

`min_tokens` is the length of each copy in lizard's tokens. lizard itself compares
`copies * length >= 2 * min_duplicate_tokens` (it doubles the option), which means tokens per
copy only for pairs and less for three or more copies; here the finder runs with no minimum
and a block is kept when one copy's length is at least `min_tokens`, TCA's
dup_block_length_min (default 120) in the same unit. The length is lizard's:
end index - start index + 31 (its SAMPLE_SIZE).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any, Self

import lizard
from lizard_ext import auto_read
from lizard_ext.lizardduplicate import (
    DuplicateFinder,
    LizardExtension,
    NestingStackWithUnifiedTokens,
)

from .base import Record, regular_files

SAMPLE_SIZE = NestingStackWithUnifiedTokens.SAMPLE_SIZE
DEFAULT_MIN_TOKENS = 120  # TCA's dup_block_length_min
DEFAULT_MIN_DUP_TIMES = 2


def digest(unified: str) -> str:
    """8 bytes of blake2b: a window of unified tokens, small enough to store per token."""
    return blake2b(unified.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


@dataclass
class FileSamples:
    """One file's physical line count and its (digest, start_line, end_line) per token."""

    path: str
    lines: int
    samples: list[tuple[str, int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "lines": self.lines, "samples": [list(s) for s in self.samples]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        samples = [(str(h), int(a), int(b)) for h, a, b in d["samples"]]
        return cls(d["path"], int(d["lines"]), samples)


@dataclass(frozen=True)
class DupBlock:
    """One duplicated block: its copies as (path, start_line, end_line), and copy length."""

    locations: list[tuple[str, int, int]]
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {"locations": [list(loc) for loc in self.locations], "tokens": self.tokens}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        locations = [(str(p), int(a), int(b)) for p, a, b in d["locations"]]
        return cls(locations, int(d["tokens"]))


@dataclass(frozen=True)
class DupFile(Record):
    """A file with duplicates: its lines, the distinct lines any copy covers, copies in it."""

    path: str
    total_lines: int
    duplicated_lines: int
    block_count: int


@dataclass
class DupReport:
    """SonarQube-style totals: every copy counts, and rate is duplicated_lines / lines * 100."""

    blocks: list[DupBlock]
    files: list[DupFile]
    lines: int
    duplicated_lines: int
    duplicated_blocks: int
    duplicated_files: int
    rate: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocks": [b.to_dict() for b in self.blocks],
            "files": [f.to_dict() for f in self.files],
            "lines": self.lines,
            "duplicated_lines": self.duplicated_lines,
            "duplicated_blocks": self.duplicated_blocks,
            "duplicated_files": self.duplicated_files,
            "rate": self.rate,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        return cls(
            blocks=[DupBlock.from_dict(b) for b in d["blocks"]],
            files=[DupFile.from_dict(f) for f in d["files"]],
            lines=int(d["lines"]),
            duplicated_lines=int(d["duplicated_lines"]),
            duplicated_blocks=int(d["duplicated_blocks"]),
            duplicated_files=int(d["duplicated_files"]),
            rate=float(d["rate"]),
        )


def _physical_lines(code: str) -> int:
    return code.count("\n") + (1 if code and not code.endswith("\n") else 0)


def samples(root: Path, paths: list[str]) -> list[FileSamples]:
    """Phase 1: the token samples of the given files lizard has a reader for, by path."""
    base = root.resolve()
    analyzer = lizard.FileAnalyzer(lizard.get_extensions([LizardExtension()]))
    out = []
    for path in regular_files(root, paths):
        if lizard.get_reader_for(path) is None:
            continue
        full = str(base / path)
        try:
            code = auto_read(full)
        except (OSError, UnicodeDecodeError):
            continue
        info = analyzer.analyze_source_code(full, code)
        nodes = getattr(info, "hash_nodes", [])
        out.append(
            FileSamples(
                path=path,
                lines=_physical_lines(code),
                samples=[(digest(n.hash), n.start_line, n.end_line) for n in nodes],
            )
        )
    return out


@dataclass(frozen=True)
class _Node:
    """What DuplicateFinder reads of lizard's Sequence: the hash (and lines, for us)."""

    hash: str
    start_line: int
    end_line: int


def _covered(ranges: list[tuple[int, int]]) -> int:
    """Distinct lines in inclusive (start, end) ranges."""
    total, last = 0, 0
    for start, end in sorted(ranges):
        start = max(start, last + 1)
        if end >= start:
            total += end - start + 1
            last = end
    return total


def find(
    files: list[FileSamples],
    *,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    min_dup_times: int = DEFAULT_MIN_DUP_TIMES,
) -> DupReport:
    """Phase 2: duplicated blocks of at least `min_tokens` tokens per copy, `min_dup_times` copies.

    Files are taken in path order whatever order the shards came in; a path given twice is a
    ValueError (the same file's samples would read as a copy of itself).
    """
    ordered = sorted(files, key=lambda f: f.path)
    if len({f.path for f in ordered}) != len(ordered):
        raise ValueError("a path is in more than one FileSamples")
    nodes: list[_Node] = []
    starts: list[int] = []
    owners: list[FileSamples] = []
    for f in ordered:
        if f.samples:
            starts.append(len(nodes))
            owners.append(f)
            nodes += [_Node(h, a, b) for h, a, b in f.samples]
    finder = DuplicateFinder(nodes, starts or [0], min_duplicate_tokens=0, sample_size=SAMPLE_SIZE)
    blocks: list[DupBlock] = []
    for dup in finder.find_start_and_ends():
        tokens = dup[0][1] - dup[0][0] + SAMPLE_SIZE
        if tokens < min_tokens or len(dup) < min_dup_times:
            continue
        locations = [
            (owners[bisect_right(starts, s) - 1].path, nodes[s].start_line, nodes[e].end_line)
            for s, e in dup
        ]
        blocks.append(DupBlock(sorted(locations), tokens))
    blocks.sort(key=lambda b: (b.locations, b.tokens))

    ranges: dict[str, list[tuple[int, int]]] = {}
    for block in blocks:
        for path, start, end in block.locations:
            ranges.setdefault(path, []).append((start, end))
    lines = {f.path: f.lines for f in ordered}
    dup_files = [
        DupFile(path, lines[path], min(_covered(r), lines[path]), len(r))
        for path, r in sorted(ranges.items())
    ]
    total = sum(lines.values())
    duplicated = sum(f.duplicated_lines for f in dup_files)
    return DupReport(
        blocks=blocks,
        files=dup_files,
        lines=total,
        duplicated_lines=duplicated,
        duplicated_blocks=sum(len(b.locations) for b in blocks),
        duplicated_files=len(dup_files),
        rate=duplicated / total * 100 if total else 0.0,
    )
