"""Where a JOBX step (seed 002) runs: `local` (a subprocess on the worker host) or `ssm`
(AWS Systems Manager Run Command on instance ids).

Variables reach scripts only as environment variables. The local executor writes the step's
script to a file and runs `<interpreter> <file>` with a minimal environment (the worker's own
environment, which holds its AWS credentials, is never passed on). The SSM executor cannot
set an environment, so its generated wrapper exports each value from base64 text: the only
thing spliced into shell text is base64, which cannot be code.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..core import aws
from ..core.warden import warden
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


def _base_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME") or tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "TMPDIR": tempfile.gettempdir(),
    }


class LocalExecutor:
    """Runs a step on every node of a batch as subprocesses of the worker host, in parallel
    with a bounded pool. A timeout or a stop kills the node's whole process group."""

    def __init__(self, max_workers: int = 16, tick: float = 0.05, flush_s: float = 2.0):
        self.max_workers = max_workers
        self.tick = tick
        self.flush_s = flush_s  # how often a running node's output so far is published

    def run(
        self,
        command: StepCommand,
        node_env: dict[str, dict[str, str]],
        timeout: float,
        stop: threading.Event,
        on_done: Callable[[str, Outcome], None],
        on_progress: Callable[[str, bytes], None] | None = None,
    ) -> None:
        """Run on every node of `node_env` (node -> its own variables); report each result
        through `on_done` as soon as it is known, so a killed worker keeps finished nodes, and
        a long-running node's output so far through `on_progress` every `flush_s`."""
        if not node_env:
            return
        with warden().scratch("step-") as scratch:
            workdir = str(scratch)
            path = os.path.join(workdir, "step")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(command.script)
            workers = max(1, min(self.max_workers, len(node_env)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jobx-node") as pool:
                futures = [
                    pool.submit(
                        self._one,
                        command,
                        path,
                        workdir,
                        node,
                        env,
                        timeout,
                        stop,
                        on_done,
                        on_progress,
                    )
                    for node, env in node_env.items()
                ]
                for future in futures:
                    future.result()

    def _argv(self, command: StepCommand, path: str) -> list[str]:
        argv = [command.interpreter, path]
        if command.user and command.user != _current_user():
            argv = ["sudo", "-n", "-E", "-u", command.user, "--", *argv]
        return argv

    def _one(self, command, path, workdir, node, env, timeout, stop, on_done, on_progress) -> None:
        started = time.time()
        if stop.is_set():
            on_done(
                node, Outcome("fail", None, "killed: task stopped", int(started * 1000), 0, b"")
            )
            return
        out_path = os.path.join(workdir, f"out-{threading.get_ident()}-{time.time_ns()}")
        full_env = {**_base_env(), **command.env, **env}
        error = ""
        try:
            child = warden().spawn(
                self._argv(command, path), env=full_env, cwd=workdir, output=out_path
            )
        except OSError as exc:
            on_done(node, Outcome("fail", None, f"{exc}", int(started * 1000), 0, b""))
            return
        deadline = started + timeout
        flushed_at, flushed_size = started, 0
        while child.wait(self.tick) is None:
            if stop.is_set():
                error = "killed: task stopped"
            elif time.time() >= deadline:
                error = f"timeout after {timeout:g}s"
            if error:
                child.kill()
                child.wait(5)
                break
            if on_progress and time.time() - flushed_at >= self.flush_s:
                flushed_at = time.time()
                size = os.path.getsize(out_path) if os.path.exists(out_path) else 0
                if size != flushed_size:
                    flushed_size = size
                    on_progress(node, _read(out_path))
        output = _read(out_path) if os.path.exists(out_path) else b""
        code = child.returncode
        status = "success" if code == 0 and not error else "fail"
        if not error and code != 0:
            error = f"exit code {code}"
        ended = time.time()
        on_done(
            node,
            Outcome(
                status, code, error, int(started * 1000), int((ended - started) * 1000), output
            ),
        )


def _read(path: str) -> bytes:
    """Read through a separate handle: the child shares the offset of the one it writes to."""
    with open(path, "rb") as fh:
        return fh.read(MAX_OUTPUT)


def _current_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry in some containers
        return ""


# ---- SSM -----------------------------------------------------------------------------------

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


class SsmExecutor:
    """Send one command to up to 50 instances (each picks its own `node` values by its
    instance id) and poll each invocation later from a delayed message; never waits."""

    def send(
        self,
        per_instance: dict[str, dict[str, str]],
        command: StepCommand,
        env: dict[str, str],
        timeout: int,
        comment: str,
    ) -> str:
        response = aws.client("ssm").send_command(
            InstanceIds=list(per_instance),
            DocumentName="AWS-RunShellScript",
            Comment=comment[:100],
            TimeoutSeconds=max(30, min(int(timeout), 2592000)),
            Parameters={
                "commands": [ssm_script(command, env, per_instance)],
                "executionTimeout": [str(int(timeout))],
            },
        )
        return response["Command"]["CommandId"]

    def poll(self, command_id: str, instance_id: str) -> Outcome | None:
        """The node's outcome once SSM reports a final status; None while it runs."""
        client = aws.client("ssm")
        try:
            got = client.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except client.exceptions.InvocationDoesNotExist:
            return None
        status = got.get("Status", "Pending")
        if status not in SSM_DONE:
            return None
        output = (got.get("StandardOutputContent") or "") + (got.get("StandardErrorContent") or "")
        code = got.get("ResponseCode")
        code = None if code is None or code == -1 else int(code)
        ok = status == "Success" and (code in (0, None))
        error = (
            "" if ok else f"ssm {status}" + (f", exit code {code}" if code not in (None, 0) else "")
        )
        return Outcome("success" if ok else "fail", code, error, 0, 0, output.encode())

    def cancel(self, command_id: str, instance_ids: list[str]) -> None:
        aws.client("ssm").cancel_command(CommandId=command_id, InstanceIds=instance_ids)
