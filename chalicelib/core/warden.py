"""Child processes and scratch files that cannot outlive the process that asked for them.

A process that runs untrusted steps (a JOBX `local` step, a scan tool) asks its warden to
start them. The warden is a small process of its own, started on first use, that:

- starts each child in its own session, with exactly the environment it is given (and, when
  it runs as root, as the unprivileged user it is given);
- is a child subreaper, so whatever a step leaves behind (`setsid`, double forks) becomes its
  child rather than init's;
- holds the read end of a pipe whose only writer is its parent: when the parent dies, by
  SIGTERM or kill -9 alike, the read ends, and the warden kills every process it has or
  inherited, removes the scratch directory, and exits.

So a server that crashes leaves no step running and no temporary file behind. The protocol is
one JSON object per line each way; nothing in it is ever run through a shell.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PR_SET_CHILD_SUBREAPER = 36


# ---- the parent's side -----------------------------------------------------------------------


class Child:
    """A process the warden started for us."""

    def __init__(self, warden: Warden, number: int):
        self.warden, self.number = warden, number
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error: str | None = None
        self._started = threading.Event()
        self._ended = threading.Event()

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running."""
        self._ended.wait(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        """Kill the child's whole process group."""
        if self.returncode is None:
            self.warden.send({"op": "kill", "id": self.number})


class Warden:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._children: dict[int, Child] = {}
        self._next = 0
        self.scratch_root: Path | None = None

    def _ensure(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self.scratch_root = Path(tempfile.mkdtemp(prefix=f"taskhub-{os.getpid()}-"))
        self.scratch_root.chmod(0o711)  # a step user may enter its own directory, not list
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        root = str(Path(__file__).resolve().parents[2])
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-S", "-m", "chalicelib.core.warden", str(self.scratch_root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env={**env, "PYTHONPATH": root},
            start_new_session=True,  # a Ctrl-C for the server is not one for the warden
            close_fds=True,
        )
        thread = threading.Thread(target=self._read, args=(self._proc,), daemon=True)
        thread.name = "warden-reader"
        thread.start()
        return self._proc

    def send(self, message: dict[str, Any]) -> None:
        proc = self._ensure()
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()

    def spawn(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: str,
        output: str,
        user: str | None = None,
        timeout: float = 30.0,
    ) -> Child:
        """Start `argv` (never through a shell) with stdout and stderr to the file `output`.
        Raises OSError when it cannot start."""
        with self._lock:
            self._ensure()
            self._next += 1
            child = Child(self, self._next)
            self._children[child.number] = child
            self.send(
                {
                    "op": "spawn",
                    "id": child.number,
                    "argv": argv,
                    "env": env,
                    "cwd": cwd,
                    "output": output,
                    "user": user,
                }
            )
        if not child._started.wait(timeout):
            raise OSError("the warden did not start the process in time")
        if child.error is not None:
            with self._lock:
                self._children.pop(child.number, None)
            raise OSError(child.error)
        return child

    @contextlib.contextmanager
    def scratch(self, prefix: str = "step-", *, user: str | None = None) -> Iterator[Path]:
        """A temporary directory removed on exit, or by the warden if this process dies;
        owned by `user` when given (the unprivileged user a step runs as)."""
        with self._lock:
            self._ensure()
        assert self.scratch_root is not None
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch_root))
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                child = self._children.get(event.get("id"))
                if child is None:
                    continue
                if "pid" in event:
                    child.pid = event["pid"]
                    child._started.set()
                elif "error" in event:
                    child.error = event["error"]
                    child._started.set()
                elif "exit" in event:
                    child.returncode = event["exit"]
                    self._children.pop(child.number, None)
                    child._ended.set()
        with self._lock:  # the warden is gone: nothing it ran is still running
            for child in self._children.values():
                child.error = child.error or "the warden exited"
                if child.returncode is None:
                    child.returncode = -signal.SIGKILL
                child._started.set()
                child._ended.set()
            self._children.clear()


_warden: Warden | None = None
_warden_lock = threading.Lock()


def warden() -> Warden:
    global _warden
    with _warden_lock:
        if _warden is None:
            _warden = Warden()
        return _warden


# ---- the warden's side -----------------------------------------------------------------------


def _descendants() -> list[int]:
    """Our children (as a subreaper, that includes every orphan of theirs)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def _kill_everything() -> None:
    for _round in range(50):
        pids = _descendants()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _reap()


def _reap() -> list[tuple[int, int]]:
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, os.waitstatus_to_exitcode(status)))


def _start(request: dict[str, Any]) -> int:
    """fork and exec (the warden is single-threaded, and is the only one reaping children:
    `subprocess` would reap them behind its back)."""
    argv, env, cwd = request["argv"], request["env"], request["cwd"]
    if not argv or any("\0" in a for a in argv):
        raise ValueError("an argument holds a NUL")
    if any("\0" in k or "=" in k or "\0" in v for k, v in env.items()) or not all(env):
        raise ValueError("an environment variable holds a NUL or '='")
    ids = None
    if request.get("user") and os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(request["user"])
        ids = (entry.pw_uid, entry.pw_gid)
    out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if ids:
        os.fchown(out, *ids)
    errors_r, errors_w = os.pipe()  # close-on-exec: EOF means exec happened
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(errors_r)
            for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.closerange(3, errors_w)
            os.closerange(errors_w + 1, 65536)
            os.chdir(cwd)
            if ids:
                os.setgroups([])
                os.setgid(ids[1])
                os.setuid(ids[0])
            os.execvpe(argv[0], argv, env)  # noqa: S606 - an argv list, never a shell
        except BaseException as exc:
            os.write(errors_w, f"{type(exc).__name__}: {exc}".encode()[:500])
        finally:
            os._exit(127)
    os.close(errors_w)
    os.close(out)
    failure = os.read(errors_r, 1024)
    os.close(errors_r)
    if failure:
        os.waitpid(pid, 0)
        raise OSError(failure.decode("utf-8", "replace"))
    return pid


def main(scratch_root: str) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    ours: dict[int, int] = {}  # pid -> request id
    inbox = sys.stdin.buffer
    out = sys.stdout

    def tell(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    buffered = b""
    try:
        while True:
            ready, _, _ = select.select([inbox, wake_r], [], [], 1.0)
            if wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 512)
            for pid, code in _reap():
                number = ours.pop(pid, None)
                if number is not None:
                    tell({"id": number, "exit": code})
            if inbox not in ready:
                continue
            chunk = os.read(inbox.fileno(), 65536)
            if not chunk:
                return  # the parent is gone
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                request = json.loads(line)
                if request["op"] == "spawn":
                    try:
                        pid = _start(request)
                    except (OSError, ValueError, KeyError) as exc:
                        tell({"id": request["id"], "error": f"cannot start: {exc}"})
                        continue
                    ours[pid] = request["id"]
                    tell({"id": request["id"], "pid": pid})
                elif request["op"] == "kill":
                    for pid, number in ours.items():
                        if number == request["id"]:
                            with contextlib.suppress(ProcessLookupError, PermissionError):
                                os.killpg(pid, signal.SIGKILL)
    finally:
        _kill_everything()
        shutil.rmtree(scratch_root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
