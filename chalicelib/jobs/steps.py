"""What a JOBX step (seed 002) runs, and how its values reach the script: `local` (a process
on a worker host, see runner.py) or `ssm` (Run Command on instance ids, see executors.py).

Variables reach scripts only as environment variables. The local executor writes the step's
script to a file and runs `<interpreter> <file>` with a minimal environment (the worker's own
environment, which holds its AWS credentials, is never passed on). The SSM executor cannot
set an environment, so its generated wrapper exports each value from base64 text: the only
thing spliced into shell text is base64, which cannot be code.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .schemas import reserved_name

MAX_OUTPUT = 4 * 1024 * 1024
SHELLS = {"bash", "sh"}
# names a shell or the environment provides; never reported as `variable undef`
SHELL_NAMES = frozenset(
    [
        "HOME",
        "PATH",
        "USER",
        "PWD",
        "OLDPWD",
        "SHELL",
        "HOSTNAME",
        "RANDOM",
        "LINENO",
        "SECONDS",
        "UID",
        "EUID",
        "PPID",
        "BASH",
        "BASHPID",
        "BASH_SOURCE",
        "BASH_VERSION",
        "FUNCNAME",
        "IFS",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "LOGNAME",
        "TERM",
        "OPTARG",
        "OPTIND",
        "REPLY",
        "PIPESTATUS",
        "HOSTTYPE",
        "OSTYPE",
        "MACHTYPE",
        "EPOCHSECONDS",
        "EPOCHREALTIME",
        "AWS_SSM_INSTANCE_ID",  # set by the SSM agent on the instance
        "AWS_SSM_REGION_NAME",
    ]
)
_SINGLE_QUOTED = re.compile(r"'[^']*'")
_COMMENT = re.compile(r"(^|\s)#[^\n]*")
# `${name:-default}` (and `-`, `=`, `+` with or without `:`) does not need `name` defined
_REFERENCE = re.compile(
    r"(?<!\\)\$(?:\{[#!]?([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_]|:?[-=+])|([A-Za-z_][A-Za-z0-9_]*))"
)
_ASSIGNED = re.compile(
    r"(?:^|[\s;&|(`])(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*|typeset\s+)?"
    r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?="
)
_LOOP = re.compile(r"\b(?:for|select)\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b")
_READ = re.compile(r"\bread\s+((?:-[A-Za-z]+\s+(?:\S+\s+)?)*)((?:[A-Za-z_][A-Za-z0-9_]*\s*)+)")
_GETOPTS = re.compile(r"\bgetopts\s+\S+\s+([A-Za-z_][A-Za-z0-9_]*)")


def referenced_variables(script: str) -> set[str]:
    """Names the script expands with `$name` / `${name}` (not inside single quotes)."""
    text = _COMMENT.sub(r"\1", _SINGLE_QUOTED.sub("''", script))
    return {a or b for a, b in _REFERENCE.findall(text)}


def assigned_variables(script: str) -> set[str]:
    text = _SINGLE_QUOTED.sub("''", script)
    names = set(_ASSIGNED.findall(text)) | set(_LOOP.findall(text)) | set(_GETOPTS.findall(text))
    for _, group in _READ.findall(text):
        names.update(group.split())
    return names


def undefined_variables(script: str, known: Iterable[str]) -> list[str]:
    """Referenced names that nothing defines: not a variable, not set by the script itself,
    not a shell or environment name. The step fails with `variable undef: <name>`."""
    missing = referenced_variables(script) - assigned_variables(script) - set(known) - SHELL_NAMES
    return sorted(missing)


@dataclass
class StepCommand:
    """What every node of a step runs: interpreter, script text, and per-step variables."""

    interpreter: str
    script: str
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None


SCP_SCRIPT = """set -e
umask 022
mkdir -p "$(dirname "$TASKHUB_SCP_DST")"
printf '%s' "$TASKHUB_SCP_CONTENT_B64" | base64 -d > "$TASKHUB_SCP_DST.taskhub-tmp"
chmod "$TASKHUB_SCP_MODE" "$TASKHUB_SCP_DST.taskhub-tmp"
mv -f "$TASKHUB_SCP_DST.taskhub-tmp" "$TASKHUB_SCP_DST"
echo "copied $(wc -c < "$TASKHUB_SCP_DST") bytes to $TASKHUB_SCP_DST"
"""


def command_for(step: dict[str, Any], variables: dict[str, str]) -> StepCommand:
    # reserved names are refused when saved; dropped here too, whatever a stored task holds
    variables = {k: v for k, v in variables.items() if not reserved_name(k)}
    if step["kind"] == "scp":
        env = {
            **variables,
            "TASKHUB_SCP_CONTENT_B64": base64.b64encode(step.get("content", "").encode()).decode(),
            "TASKHUB_SCP_DST": step["dst"],
            "TASKHUB_SCP_MODE": step.get("mode") or "0644",
        }
        return StepCommand("bash", SCP_SCRIPT, env, step.get("user"))
    return StepCommand(
        step.get("interpreter") or "bash", step["script"], dict(variables), step.get("user")
    )


@dataclass
class Outcome:
    status: str  # success | fail
    exit_code: int | None
    error: str
    starttime_ms: int
    duration_ms: int
    output: bytes


@dataclass
class StepRun:
    """One step of one batch in one attempt: what it runs, on which nodes, until when."""

    task: str
    batch: int
    attempt: int
    step: int
    command: StepCommand
    timeout: float
    nodes: dict[str, dict[str, str]]  # node -> its own variables (node, node_address, ip)
    reach: dict[str, list[Any]]  # node -> [executor, address, instance id]
    started_ms: int = 0

    def executor_of(self, node: str) -> str:
        return (self.reach.get(node) or ["local"])[0]

    def instance_of(self, node: str) -> str | None:
        entry = self.reach.get(node) or [None, None, None]
        return entry[2] if len(entry) > 2 else None


class Executor(Protocol):
    """Where a step runs. The engine drives it: `dispatch` starts nodes and returns at once,
    `poll` reports the nodes whose outcome it can tell (others are still running), `cancel`
    stops whatever was sent. Nodes that ran record their rows themselves or through `poll`."""

    def dispatch(self, run: StepRun, nodes: list[str]) -> dict[str, Outcome]: ...

    def poll(self, run: StepRun, rows: dict[str, Any]) -> dict[str, Outcome]: ...

    def cancel(self, run: StepRun, rows: dict[str, Any]) -> None: ...


SSM_DONE = {
    "Success",
    "Failed",
    "Cancelled",
    "TimedOut",
    "Cancelling",
    "Undeliverable",
    "Terminated",
}


_INSTANCE = re.compile(r"(i|mi)-[0-9a-f]{8,17}")
SSM_MAX_TARGETS = 50  # instance ids per SendCommand
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # whole names only (fullmatch)


def _export(name: str, value: str) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return f"export {name}=\"$(printf '%s' '{encoded}' | base64 -d)\""


def ssm_script(
    command: StepCommand,
    env: dict[str, str],
    per_instance: dict[str, dict[str, str]] | None = None,
) -> str:
    """The AWS-RunShellScript text: exports from base64 (per-node values chosen by the
    instance id the SSM agent sets), the script from base64, then run it."""
    lines = ["set +x"]
    for name, value in {**command.env, **env}.items():
        if _SHELL_NAME.fullmatch(name):
            lines.append(_export(name, value))
    if per_instance:
        lines.append('case "$AWS_SSM_INSTANCE_ID" in')
        for instance, values in per_instance.items():
            if not _INSTANCE.fullmatch(instance):
                continue
            exports = "; ".join(
                _export(n, v) for n, v in values.items() if _SHELL_NAME.fullmatch(n)
            )
            lines.append(f"  {instance}) {exports};;")
        lines.append("esac")
    body = base64.b64encode(command.script.encode()).decode()
    lines.append('TASKHUB_STEP="$(mktemp)"')
    lines.append(f"printf '%s' '{body}' | base64 -d > \"$TASKHUB_STEP\"")
    runner = f'{command.interpreter} "$TASKHUB_STEP"'
    if command.user:
        runner = f"runuser -u {command.user} -- {runner}"  # user matched ^[a-z_][a-z0-9_-]*$
    lines.append(f"{runner}; TASKHUB_RC=$?")
    lines.append('rm -f "$TASKHUB_STEP"; exit $TASKHUB_RC')
    return "\n".join(lines)
