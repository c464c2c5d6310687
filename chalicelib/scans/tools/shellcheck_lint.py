"""shellcheck over shell scripts, by suffix or by a shell's shebang.

`--norc` ignores a repository's .shellcheckrc (it must not switch checks off); no `-x`, so a
`source` is never followed into files outside the shard. json1 counts a tab as one column.
"""

from __future__ import annotations

import json
import time
from pathlib import Path, PurePosixPath
from typing import Any

from . import base
from .base import Finding, RawFinding, ToolError, argv_path, chunks, fingerprints, relative
from .linters import Linter, register

SHELLS = frozenset({"sh", "bash", "dash", "ksh"})
LEVELS = {
    "error": (2, "correctness"),
    "warning": (3, "correctness"),
    "info": (4, "style"),
    "style": (4, "style"),
}


def shebang_shell(head: bytes) -> str | None:
    """The shell a `#!` line names, through `env` (and its options) if need be."""
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    names = [PurePosixPath(words[0]).name, *words[1:]]
    if names[0] == "env":
        names = [w for w in names[1:] if not w.startswith("-") and "=" not in w][:1]
    return names[0] if names and names[0] in SHELLS else None


@register
class ShellCheck(Linter):
    """TCA's 'shellcheck' task for shell."""

    name = "shellcheck"
    language = "shell"
    suffixes = frozenset({".sh", ".bash", ".ksh", ".dash"})

    def wants(self, path: str, head: bytes) -> bool:
        return super().wants(path, head) or shebang_shell(head) is not None

    def lint(self, root: Path, paths: list[str], *, timeout_s: float = 600) -> list[Finding]:
        wanted = self.select(root, paths)
        if not wanted:
            return []
        binary = base.tool_binary("shellcheck")
        deadline = time.monotonic() + timeout_s
        raw: list[RawFinding] = []
        for batch in chunks(wanted):
            argv = [binary, "--norc", "--format=json1", "--severity=style", "--"]
            argv += [argv_path(p) for p in batch]
            proc = base.run_tool(argv, cwd=root, timeout_s=deadline - time.monotonic())
            # 1 means "found issues"; >= 2 is fine only if the report came out anyway (a file
            # vanished, say), since then the JSON still covers the rest.
            try:
                raw += self._parse(root, proc.stdout, set(batch))
            except ToolError:
                if proc.returncode >= 2 or proc.returncode < 0:
                    raise base.failed("shellcheck", proc, root) from None
                raise
        return fingerprints(root, raw)

    def _parse(self, root: Path, stdout: str, batch: set[str]) -> list[RawFinding]:
        try:
            comments: list[dict[str, Any]] = json.loads(stdout)["comments"]
            out = []
            for c in comments:
                path = relative(root, c["file"])
                if path not in batch:
                    continue
                severity, category = LEVELS.get(c.get("level", ""), (3, "correctness"))
                out.append(
                    RawFinding(
                        tool=self.name,
                        rule=f"SC{int(c['code'])}",
                        severity=severity,
                        path=path,
                        line=max(int(c.get("line") or 1), 1),
                        column=max(int(c.get("column") or 1), 1),
                        message=str(c.get("message", "")),
                        category=category,
                    )
                )
            return out
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ToolError("shellcheck printed output that is not its JSON report") from None
