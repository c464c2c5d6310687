"""Lines of code, comments and blanks per file, by tokei (pytokei).

Only the given files are counted (each is handed to tokei by name; a directory would be
walked), and files tokei has no language for are left out, as cloc leaves them out. Python
docstrings count as comments, cloc's convention; note tokei's rule for that: a docstring that
spans lines is comment, one opened and closed on a single line stays code.

pytokei exposes tokei's Config read-only, with settings only from tokei's config files
(the config dir, HOME and the current directory). So the Config is built once per process
from a tokei.toml of ours, with all three pointed at a private directory for that moment:
a repository's or a user's tokei.toml never changes the counts.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytokei

from .base import Record, ToolError, regular_files

_CONFIG: pytokei.Config | None = None
_LOCK = threading.Lock()


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
    """tokei's Config with docstrings as comments, built from our tokei.toml alone."""
    global _CONFIG
    with _LOCK:
        if _CONFIG is not None:
            return _CONFIG
        keys = ("XDG_CONFIG_HOME", "HOME")
        saved = {k: os.environ.get(k) for k in keys}
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="tokei-") as d:
            Path(d, "tokei.toml").write_text("treat_doc_strings_as_comments = true\n")
            try:
                os.environ.update(dict.fromkeys(keys, d))
                os.chdir(d)
                config = pytokei.Config.from_config_files()
            finally:
                os.chdir(cwd)
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        if config.treat_doc_strings_as_comments is not True:
            raise ToolError("tokei did not take its configuration")
        _CONFIG = config
        return config


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
