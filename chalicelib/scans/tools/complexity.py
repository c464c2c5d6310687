"""Cyclomatic complexity per function and per file, by lizard.

Functions over the threshold are reported the way TCA reports them: a function is over when
its CCN *exceeds* `min_ccn` (TCA's client: `if issue["ccn"] <= custom_min_ccn: continue`, in
task/basic/datahandler/addpersoninfo.py, default 20), so `ccn > min_ccn`, and a function of
CCN exactly 20 is not reported under the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lizard

from .base import Record, regular_files

DEFAULT_MIN_CCN = 20


@dataclass(frozen=True)
class Function(Record):
    """A function over the threshold; `line`..`end_line` 1-based, `params` its parameter count."""

    path: str
    name: str
    long_name: str
    line: int
    end_line: int
    ccn: int
    nloc: int
    token_count: int
    params: int


@dataclass(frozen=True)
class FileComplexity(Record):
    """One analysed file: lizard's language name ("python"), nloc and its functions' CCN."""

    path: str
    language: str
    nloc: int
    function_count: int
    ccn_total: int
    ccn_max: int


def analyze(
    root: Path, paths: list[str], min_ccn: int = DEFAULT_MIN_CCN
) -> tuple[list[FileComplexity], list[Function]]:
    """Every file lizard has a reader for, and the functions with `ccn > min_ccn` (TCA's rule)."""
    base = root.resolve()
    files: list[FileComplexity] = []
    over: list[Function] = []
    for path in regular_files(root, paths):
        reader = lizard.get_reader_for(path)
        if reader is None:
            continue
        info = lizard.analyze_file(str(base / path))
        ccns = [f.cyclomatic_complexity for f in info.function_list]
        files.append(
            FileComplexity(
                path=path,
                language=reader.language_names[0],
                nloc=info.nloc,
                function_count=len(ccns),
                ccn_total=sum(ccns),
                ccn_max=max(ccns, default=0),
            )
        )
        over += [
            Function(
                path=path,
                name=f.name,
                long_name=f.long_name,
                line=f.start_line,
                end_line=f.end_line,
                ccn=f.cyclomatic_complexity,
                nloc=f.nloc,
                token_count=f.token_count,
                params=f.parameter_count,
            )
            for f in info.function_list
            if f.cyclomatic_complexity > min_ccn
        ]
    over.sort(key=lambda f: (f.path, f.line, f.name))
    return files, over
