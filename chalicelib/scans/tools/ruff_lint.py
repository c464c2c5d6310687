"""ruff over Python files, with the scanner's rules rather than the repository's own.

`--isolated` ignores every pyproject.toml/ruff.toml (a repository must not be able to switch
rules off), `--no-cache` writes nothing into the checkout, `--exit-zero` keeps exit 1 for
"it broke". Rule families: pyflakes (F), pycodestyle (E, W), bugbear (B), bandit (S).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from . import base
from .base import Finding, RawFinding, ToolError, argv_path, chunks, fingerprints, relative
from .linters import Linter, register

SELECT = "F,E,W,B,S"

# pyflakes rules that name code Python refuses to run: undefined names, syntax errors.
F_ERRORS = frozenset({"F821", "F822", "F823"})
F_ERROR_PREFIXES = ("F63", "F7")
# bandit rules worth an error: code execution (exec, eval, unpickling, yaml.load, a shell) and
# secrets committed with the code.
S_ERRORS = frozenset(
    {"S102", "S105", "S106", "S107", "S301", "S307", "S506", "S602", "S604", "S605"}
)


def classify(code: str) -> tuple[int, str]:
    """(severity, category) of a ruff code; syntax errors come as 'invalid-syntax' or E9xx."""
    if code == "invalid-syntax" or code.startswith("E9"):
        return 2, "correctness"
    if code.startswith("F"):
        error = code in F_ERRORS or code.startswith(F_ERROR_PREFIXES)
        return (2 if error else 3), "correctness"
    if code.startswith("S"):
        return (2 if code in S_ERRORS else 3), "security"
    if code.startswith("B"):
        return 3, "bugrisk"
    if code.startswith(("E", "W")):
        return 4, "style"
    return 3, ""


@register
class Ruff(Linter):
    """TCA's 'ruff' task for Python."""

    name = "ruff"
    language = "python"
    suffixes = frozenset({".py", ".pyi"})

    def lint(self, root: Path, paths: list[str], *, timeout_s: float = 600) -> list[Finding]:
        wanted = self.select(root, paths)
        if not wanted:
            return []
        binary = base.tool_binary("ruff")
        deadline = time.monotonic() + timeout_s
        raw: list[RawFinding] = []
        for batch in chunks(wanted):
            argv = [binary, "check", "--isolated", "--no-cache", "--exit-zero"]
            argv += ["--output-format", "json", "--select", SELECT, "--"]
            argv += [argv_path(p) for p in batch]
            proc = base.run_tool(argv, cwd=root, timeout_s=deadline - time.monotonic())
            if proc.returncode != 0:
                raise base.failed("ruff", proc, root)
            raw += self._parse(root, proc.stdout, set(batch))
        return fingerprints(root, raw)

    def _parse(self, root: Path, stdout: str, batch: set[str]) -> list[RawFinding]:
        try:
            items: list[dict[str, Any]] = json.loads(stdout or "[]")
            out = []
            for item in items:
                path = relative(root, item["filename"])
                if path not in batch:
                    continue
                code = item.get("code") or "invalid-syntax"
                severity, category = classify(code)
                loc = item.get("location") or {}
                out.append(
                    RawFinding(
                        tool=self.name,
                        rule=code,
                        severity=severity,
                        path=path,
                        line=max(int(loc.get("row") or 1), 1),
                        column=max(int(loc.get("column") or 1), 1),
                        message=str(item.get("message", "")),
                        category=category,
                    )
                )
            return out
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ToolError("ruff printed output that is not its JSON report") from None
