"""Lines of code, comments and blanks per file, by tokei (pytokei).

Only the given files are counted (each is handed to tokei by name; a directory would be
walked), and files tokei has no language for are left out, as cloc leaves them out.

tokei's conventions, which the TCA line fields follow: a Python docstring is code (cloc
counts it as comment; tokei can treat it as comment only through a config file it reads
from the working directory and HOME, which a threaded server must not switch), and a
comment after code on the same line makes it a code line, as cloc has it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytokei

from .base import Record, regular_files


@dataclass(frozen=True)
class FileCount(Record):
    """One file's counts, with the language as tokei names it ("Python", "Shell", "BASH")."""

    path: str
    language: str
    code: int
    comment: int
    blank: int
    total: int


def _config() -> pytokei.Config:
    """tokei's built-in defaults: a `Config()` reads no config file, so neither a
    repository's nor a user's tokei.toml changes the counts."""
    return pytokei.Config()


def count(root: Path, paths: list[str]) -> list[FileCount]:
    """Counts for the given repo-relative paths under root that tokei recognises, by path."""
    wanted = regular_files(root, paths)
    if not wanted:
        return []
    base = root.resolve()
    by_name = {str(base / p): p for p in wanted}
    languages = pytokei.Languages()
    languages.get_statistics(list(by_name), [], _config())
    out = []
    for language_type, language in languages.get_languages().items():
        name = language_type.name()
        for report in language.reports:
            path = by_name.get(str(report.name))
            if path is None:
                continue
            stats = report.stats.summarise()  # embedded languages (code in Markdown) included
            code, comment, blank = stats.code, stats.comments, stats.blanks
            out.append(FileCount(path, name, code, comment, blank, code + comment + blank))
    return sorted(out, key=lambda c: c.path)


def summarise(counts: Iterable[FileCount]) -> dict[str, Any]:
    """Totals over all files and per language: {files, code, comment, blank, total, languages}."""

    def zero() -> dict[str, int]:
        return {"files": 0, "code": 0, "comment": 0, "blank": 0, "total": 0}

    total = zero()
    per: dict[str, dict[str, int]] = {}
    for c in counts:
        for bucket in (total, per.setdefault(c.language, zero())):
            bucket["files"] += 1
            bucket["code"] += c.code
            bucket["comment"] += c.comment
            bucket["blank"] += c.blank
            bucket["total"] += c.total
    return {**total, "languages": dict(sorted(per.items()))}
