"""Real git repositories and a loopback smart-HTTP git server, for tests without a git binary.

Lambda has no git, so neither do the tests: repositories are built with dulwich (objects
written straight into a bare repository, so symlinks, executables and submodules are easy),
and served by dulwich's smart-HTTP WSGI app on 127.0.0.1 from a background thread.

    with GitServer(tmp_path) as server:
        repo = GitRepo.init(tmp_path / "demo.git")
        sha = repo.commit({"README.md": "hello"})
        url = server.url("demo.git")
"""

from __future__ import annotations

import base64
import hmac
import io
import logging
import os
import socketserver
import stat
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit
from dulwich.repo import Repo
from dulwich.server import FileSystemBackend
from dulwich.web import make_wsgi_chain

logger = logging.getLogger(__name__)

AUTHOR = b"Taskhub Tests <tests@taskhub.invalid>"
EPOCH = 1_700_000_000  # the first commit's time; each commit is a minute after its parent

FILE_MODE = stat.S_IFREG | 0o644
EXEC_MODE = stat.S_IFREG | 0o755
LINK_MODE = stat.S_IFLNK
GITLINK_MODE = 0o160000


class GitRepo:
    """A bare repository with deterministic commits: same calls, same shas."""

    def __init__(self, path: Path, default_branch: str = "master") -> None:
        self.path = Path(path)
        self.default_branch = default_branch
        self.repo = Repo(str(self.path))

    @classmethod
    def init(cls, path: Path, branch: str = "master") -> GitRepo:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        Repo.init_bare(str(path)).close()
        repo = cls(path, branch)
        repo.repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/" + branch.encode())
        return repo

    def head(self, branch: str | None = None) -> str | None:
        """The sha `branch` (default: the default branch) points at, None when unborn."""
        ref = b"refs/heads/" + (branch or self.default_branch).encode()
        return self.repo.refs[ref].decode() if ref in self.repo.refs else None

    def commit(
        self,
        files: Mapping[str, str | bytes] | None = None,
        delete: Iterable[str] = (),
        message: str = "commit",
        branch: str | None = None,
        *,
        executable: Iterable[str] = (),
        symlinks: Mapping[str, str] | None = None,
        submodules: Mapping[str, str] | None = None,
    ) -> str:
        """Write `files` (and `symlinks` path→target, `submodules` path→commit sha), drop
        `delete`, and commit on `branch` (default: the default branch). A branch that does not
        exist yet starts a root commit; fork one with `branch()` first. Returns the sha."""
        ref = b"refs/heads/" + (branch or self.default_branch).encode()
        store = self.repo.object_store
        parent = self.repo.refs[ref] if ref in self.repo.refs else None  # noqa: SIM401
        entries: dict[bytes, tuple[bytes, int]] = {}
        when = EPOCH
        if parent is not None:
            parent_commit = store[parent]
            when = parent_commit.commit_time + 60
            for entry in store.iter_tree_contents(parent_commit.tree):
                entries[entry.path] = (entry.sha, entry.mode)
        for path in delete:
            del entries[path.encode()]  # KeyError: deleting what is not there is a test bug
        exec_paths = {p.encode() for p in executable}
        for path, content in (files or {}).items():
            blob = Blob.from_string(content.encode() if isinstance(content, str) else content)
            store.add_object(blob)
            key = path.encode()
            entries[key] = (blob.id, EXEC_MODE if key in exec_paths else FILE_MODE)
        for path, target in (symlinks or {}).items():
            blob = Blob.from_string(target.encode())
            store.add_object(blob)
            entries[path.encode()] = (blob.id, LINK_MODE)
        for path, sha in (submodules or {}).items():
            entries[path.encode()] = (sha.encode(), GITLINK_MODE)
        commit = Commit()
        commit.tree = commit_tree(store, [(p, sha, mode) for p, (sha, mode) in entries.items()])
        commit.parents = [parent] if parent is not None else []
        commit.author = commit.committer = AUTHOR
        commit.author_time = commit.commit_time = when
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = message.encode() + b"\n"
        store.add_object(commit)
        self.repo.refs[ref] = commit.id
        return commit.id.decode()

    def branch(self, name: str, from_ref: str) -> str:
        """Create or move branch `name` to `from_ref` (a sha or a branch name); returns the sha."""
        sha = self.head(from_ref) or from_ref
        self.repo.refs[b"refs/heads/" + name.encode()] = sha.encode()
        return sha

    def close(self) -> None:
        self.repo.close()


class _RootBackend(FileSystemBackend):
    """Repositories by URL path under `root`; dulwich's own joins the absolute path `/name`
    to the root, which names `/name` itself and is refused as outside the root."""

    def open_repository(self, path: str) -> Any:
        return super().open_repository(os.fsdecode(path).lstrip("/"))


class _QuietHandler(WSGIRequestHandler):
    """No access log (tests read `GitServer.requests`); the app's tracebacks go to logging,
    where pytest shows them with a failing test, and a client that hung up mid-answer (a
    fetch refused on purpose) is only debug news."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> io.StringIO:
        self._errors = io.StringIO()
        return self._errors

    def handle(self) -> None:
        super().handle()
        errors = getattr(self, "_errors", None)
        text = errors.getvalue() if errors is not None else ""
        if text:
            hung_up = "BrokenPipeError" in text or "ConnectionResetError" in text
            logger.log(logging.DEBUG if hung_up else logging.WARNING, "git server: %s", text)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-pack (e.g. a refused fetch) is expected, not news."""


class GitServer:
    """Serves the repositories under `root` at `url(name)` over git's smart HTTP protocol.

    `auth=(user, password)` demands basic auth (401 + `WWW-Authenticate: Basic` otherwise);
    `redirects={"old.git": target}` answers 302 for that repository, `target` being a URL or an
    absolute path (the rest of the request path and the query are kept). Every request line
    reaches `requests` before auth or redirects, so a test can tell nothing arrived.
    """

    def __init__(
        self,
        root: Path,
        *,
        auth: tuple[str, str] | None = None,
        redirects: Mapping[str, str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.auth = auth
        self.redirects = dict(redirects or {})
        self.requests: list[str] = []
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self._git = make_wsgi_chain(_RootBackend(str(self.root)))

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the git server is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name.strip('/')}"

    def start(self) -> GitServer:
        if self._server is None:
            self.root.mkdir(parents=True, exist_ok=True)
            # Listening once make_server returns: requests queue until serve_forever runs.
            self._server = make_server(
                "127.0.0.1",
                0,
                self._app,
                server_class=_ThreadingServer,
                handler_class=_QuietHandler,
            )
            # A short poll so stop() returns promptly; shutdown() waits for the loop to see it.
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="git-server", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> GitServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        self.requests.append(f"{environ['REQUEST_METHOD']} {path}{'?' + query if query else ''}")
        if self.auth is not None and not self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            start_response(
                "401 Unauthorized",
                [
                    ("WWW-Authenticate", 'Basic realm="taskhub-tests"'),
                    ("Content-Type", "text/plain"),
                ],
            )
            return [b"authentication required\n"]
        for name, target in self.redirects.items():
            prefix = "/" + name.strip("/")
            if path == prefix or path.startswith(prefix + "/"):
                location = urljoin(self.base_url + "/", target).rstrip("/") + path[len(prefix) :]
                if query:
                    location += "?" + query
                start_response("302 Found", [("Location", location), ("Content-Length", "0")])
                return [b""]
        return self._git(environ, start_response)

    def _authorized(self, header: str) -> bool:
        assert self.auth is not None
        expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        return hmac.compare_digest(header.encode(), expected.encode())
