"""A task's tool, as the engine runs it: over one shard's files (`run`), then over the
shards' results (`merge`, into the task's report and its summary). Everything in and out
is JSON, because shard results wait in S3 for the merge."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import lizard

from .tools import codecount, complexity, duplication, linters
from .tools.base import Finding, ToolError

__all__ = ["ToolError", "merge", "run", "scans_file"]

CC, DUP, COUNT = "lizard", "cpd", "codecount"
LINT_TIMEOUT_S = 600.0


def scans_file(task_name: str, path: str) -> bool:
    """Whether a metric task measures this file: lizard's languages for complexity and
    duplication; every file for line counts (tokei leaves out what it does not know)."""
    if task_name == COUNT:
        return True
    return lizard.get_reader_for(path) is not None


def run(task_name: str, root: Path, paths: list[str], params: dict[str, Any]) -> dict[str, Any]:
    if task_name in linters.LINTERS:
        found = linters.LINTERS[task_name].lint(root, paths, timeout_s=LINT_TIMEOUT_S)
        return {"findings": [f.to_dict() for f in found]}
    if task_name == COUNT:
        return {"files": [c.to_dict() for c in codecount.count(root, paths)]}
    if task_name == CC:
        files, functions = complexity.analyze(root, paths, int(params.get("min_ccn", 20)))
        return {
            "files": [f.to_dict() for f in files],
            "functions": [f.to_dict() for f in functions],
        }
    if task_name == DUP:
        return {"samples": [s.to_dict() for s in duplication.samples(root, paths)]}
    raise ToolError(f"unknown tool {task_name}")


def merge(
    task_name: str, parts: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(report, summary) of the whole task from its shards' results."""
    if task_name in linters.LINTERS:
        findings = [Finding.from_dict(f) for part in parts for f in part["findings"]]
        findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
        severities = Counter(str(f.severity) for f in findings)
        report = {"findings": [f.to_dict() for f in findings]}
        return report, {"issue_count": len(findings), "by_severity": dict(severities)}
    if task_name == COUNT:
        files = sorted((f for part in parts for f in part["files"]), key=lambda f: f["path"])
        return {"files": files}, codecount.summarise(map(codecount.FileCount.from_dict, files))
    if task_name == CC:
        files = sorted((f for part in parts for f in part["files"]), key=lambda f: f["path"])
        functions = sorted(
            (f for part in parts for f in part["functions"]),
            key=lambda f: (-f["ccn"], f["path"], f["line"]),
        )
        summary = {
            "min_ccn": int(params.get("min_ccn", 20)),
            "file_count": len(files),
            "func_count": sum(f["function_count"] for f in files),
            "ccn_total": sum(f["ccn_total"] for f in files),
            "over_cc_func_count": len(functions),
            "over_cc_sum": sum(f["ccn"] for f in functions),
            "max_ccn": max((f["ccn_max"] for f in files), default=0),
        }
        return {"files": files, "functions": functions}, summary
    if task_name == DUP:
        samples = [duplication.FileSamples.from_dict(s) for part in parts for s in part["samples"]]
        found = duplication.find(
            samples,
            min_tokens=int(params.get("min_tokens", 120)),
            min_dup_times=int(params.get("min_dup_times", 2)),
        )
        report = found.to_dict()
        summary = {
            "file_count": len(samples),
            "total_line_count": found.lines,
            "duplicate_line_count": found.duplicated_lines,
            "duplicate_block_count": found.duplicated_blocks,
            "duplicate_file_count": found.duplicated_files,
            "duplicate_rate": round(found.rate, 2),
        }
        return report, summary
    raise ToolError(f"unknown tool {task_name}")
