"""The scan engine's git client against a real smart-HTTP git server on loopback."""

from __future__ import annotations

import gzip
import io
import ipaddress
import os
import pickle
import socket
import tarfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import urllib3

from chalicelib.core import config
from chalicelib.scans import sources
from chalicelib.scans.sources import (
    Change,
    Credentials,
    GitPolicy,
    ScmError,
    Snapshot,
    check_address,
    fetch,
    head_revision,
    normalize_url,
)
from tests.scans.gitserver import GitRepo, GitServer

LOOPBACK = GitPolicy(allow_loopback=True)
SECRET = "s3cr3t-t0ken-9f8e7d"


def scm_code(excinfo: pytest.ExceptionInfo[ScmError]) -> int:
    return excinfo.value.code


def texts(exc: BaseException) -> str:
    """Everything an exception could show: its text, repr, chain and formatted traceback."""
    parts = [str(exc), repr(exc), getattr(exc, "message", "")]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            parts += [str(linked), repr(linked)]
    parts += traceback.format_exception(exc)
    return "\n".join(parts)


@pytest.fixture
def history(git_repo: GitRepo) -> list[str]:
    """Four commits on master: add, modify/delete/add, rename, add."""
    return [
        git_repo.commit({"a.py": "a = 1\n", "b.py": "b = 1\n", "c/d.py": "d = 1\n"}, message="one"),
        git_repo.commit({"a.py": "a = 2\n", "e.py": "e = 1\n"}, delete=["b.py"], message="two"),
        git_repo.commit({"c/moved.py": "d = 1\n"}, delete=["c/d.py"], message="three"),
        git_repo.commit({"f.py": "f = 1\n"}, message="four"),
    ]


# --- fetching and reading -------------------------------------------------------------------


def test_fetch_reads_files_and_blobs(git_server: GitServer, git_repo: GitRepo, tmp_path: Path):
    sha = git_repo.commit(
        {
            "README.md": "# demo\n",
            "src/app.py": "print('hi')\n",
            "bin/run.sh": "#!/bin/sh\necho run\n",
            "data/blob.bin": bytes(range(256)) * 4,
        },
        executable=["bin/run.sh"],
    )
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path / "work") as snap:
        assert snap.revision == sha
        files = snap.files()
        assert sorted(files) == ["README.md", "bin/run.sh", "data/blob.bin", "src/app.py"]
        assert files["data/blob.bin"].size == 1024
        assert files["bin/run.sh"].mode == 0o100755 and files["bin/run.sh"].executable
        assert files["README.md"].mode == 0o100644
        assert len(files["src/app.py"].blob_id) == 40
        assert snap.read("src/app.py") == b"print('hi')\n"
        assert snap.read("data/blob.bin") == bytes(range(256)) * 4
        assert snap.head("data/blob.bin", 4) == b"\x00\x01\x02\x03"
        assert snap.head("README.md") == b"# demo\n"
        with pytest.raises(ScmError) as missing:
            snap.read("nope.txt")
        assert scm_code(missing) == 112
        # A bare repository under `into`, nothing checked out.
        assert snap.path.is_relative_to(tmp_path / "work")
        assert not any(p.name == "README.md" for p in (tmp_path / "work").rglob("*"))


def test_head_revision(git_server: GitServer, git_repo: GitRepo, history: list[str]):
    assert head_revision(git_server.url("demo.git"), "master", None, LOOPBACK) == history[-1]
    git_repo.branch("feature", history[1])
    assert head_revision(git_server.url("demo.git"), "feature", None, LOOPBACK) == history[1]


def test_unknown_branch_and_repository(git_server: GitServer, history: list[str], tmp_path: Path):
    url = git_server.url("demo.git")
    with pytest.raises(ScmError) as branch:
        fetch(url, "nope", None, LOOPBACK, tmp_path)
    assert scm_code(branch) == 112 and "branch nope does not exist" in str(branch.value)
    with pytest.raises(ScmError) as head:
        head_revision(url, "nope", None, LOOPBACK)
    assert scm_code(head) == 112 and "branch nope does not exist" in head.value.message
    for call in (
        lambda: fetch(git_server.url("missing.git"), "master", None, LOOPBACK, tmp_path),
        lambda: head_revision(git_server.url("missing.git"), "master", None, LOOPBACK),
    ):
        with pytest.raises(ScmError) as repo:
            call()
        assert scm_code(repo) == 112


@pytest.mark.parametrize(
    "branch", ["", "-rf", "a..b", "a b", "a\x01b", "a~1", "x^", "a:b", "a?", "a*", "a[b", "a\\b",
               "/a", "a/", "a//b", "a.", "a.lock", ".hidden", "a/.b", "@", "a@{1}", "HEAD"]
)  # fmt: skip
def test_bad_branch_names(branch: str, tmp_path: Path):
    with pytest.raises(ScmError) as excinfo:
        fetch("http://127.0.0.1:9/x.git", branch, None, LOOPBACK, tmp_path)
    assert scm_code(excinfo) == 115
    with pytest.raises(ScmError):
        head_revision("http://127.0.0.1:9/x.git", branch, None, LOOPBACK)


def test_good_branch_names():
    for branch in ("main", "feature/x-1", "release/2026.05", "user@team", "日本"):
        assert sources.check_branch(branch) == branch


# --- history and incremental scans ----------------------------------------------------------


def test_changes_since_across_commits(git_server: GitServer, history: list[str], tmp_path: Path):
    one, two, three, four = history
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path, depth=4) as snap:
        assert snap.changes_since(one) == [
            Change("a.py", "mod"),
            Change("b.py", "del"),
            Change("c/d.py", "del"),
            Change("c/moved.py", "add"),
            Change("e.py", "add"),
            Change("f.py", "add"),
        ]
        assert snap.changes_since(three) == [Change("f.py", "add")]
        assert snap.changes_since(two) == [
            Change("c/d.py", "del"),
            Change("c/moved.py", "add"),
            Change("f.py", "add"),
        ]
        assert snap.changes_since(four) == []
        assert snap.changes_since("0" * 40) is None
        assert snap.changes_since("not-a-sha") is None


def test_base_outside_the_fetched_depth(git_server: GitServer, history: list[str], tmp_path: Path):
    one, two, three, four = history
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path, depth=2) as snap:
        assert snap.revision == four
        assert snap.changes_since(three) == [Change("f.py", "add")]  # the shallow boundary
        assert snap.changes_since(two) is None
        assert snap.changes_since(one) is None


def test_revision_behind_the_branch_head(
    git_server: GitServer, git_repo: GitRepo, history: list[str], tmp_path: Path
):
    url = git_server.url("demo.git")
    with fetch(url, "master", None, LOOPBACK, tmp_path, revision=history[1], depth=3) as snap:
        assert snap.revision == history[1]
        assert sorted(snap.files()) == ["a.py", "c/d.py", "e.py"]
        assert snap.read("a.py") == b"a = 2\n"
    with pytest.raises(ScmError) as gone:
        fetch(url, "master", None, LOOPBACK, tmp_path, revision=history[0], depth=2)
    assert scm_code(gone) == 112 and "not found" in str(gone.value)
    with pytest.raises(ScmError) as malformed:
        fetch(url, "master", None, LOOPBACK, tmp_path, revision="abc123")
    assert scm_code(malformed) == 115


def test_symlinks_and_submodules_are_skipped(
    git_server: GitServer, git_repo: GitRepo, tmp_path: Path
):
    base = git_repo.commit({"a.txt": "a\n", ".gitmodules": "[submodule]\n"})
    git_repo.commit(
        {"b.txt": "b\n"},
        symlinks={"link.txt": "a.txt", "escape": "/etc/passwd"},
        submodules={"vendor/lib": "1" * 40},
    )
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path) as snap:
        assert sorted(snap.files()) == [".gitmodules", "a.txt", "b.txt"]
        assert snap.changes_since(base) == [Change("b.txt", "add")]
        with pytest.raises(ScmError):
            snap.read("link.txt")


def test_fetch_size_limit(git_server: GitServer, git_repo: GitRepo, tmp_path: Path):
    git_repo.commit({"big.bin": os.urandom(64 * 1024)})
    small = GitPolicy(allow_loopback=True, max_fetch_bytes=16 * 1024)
    with pytest.raises(ScmError) as excinfo:
        fetch(git_server.url("demo.git"), "master", None, small, tmp_path)
    assert scm_code(excinfo) == 110 and "limit" in str(excinfo.value)


# --- credentials ------------------------------------------------------------------------------


def test_basic_auth(git_root: Path, history: list[str], tmp_path: Path):
    with GitServer(git_root, auth=("alice", SECRET)) as server:
        url = server.url("demo.git")
        for creds in (None, Credentials("alice", "wrong-" + SECRET), Credentials("bob", SECRET)):
            for call in (
                lambda c=creds: fetch(url, "master", c, LOOPBACK, tmp_path),
                lambda c=creds: head_revision(url, "master", c, LOOPBACK),
            ):
                with pytest.raises(ScmError) as excinfo:
                    call()
                assert scm_code(excinfo) == 111
                assert SECRET not in texts(excinfo.value)
                wanted = "requires credentials" if creds is None else "refused the credentials"
                assert wanted in excinfo.value.message
        good = Credentials("alice", SECRET)
        assert head_revision(url, "master", good, LOOPBACK) == history[-1]
        with fetch(url, "master", good, LOOPBACK, tmp_path) as snap:
            assert snap.revision == history[-1]


def test_scm_error_shape():
    error = ScmError(112, "The branch x does not exist.")
    assert error.code == 112 and error.message == str(error) == "The branch x does not exist."
    assert repr(error) == "ScmError(112, 'The branch x does not exist.')"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.code, copy.message) == (112, error.message)


def test_credentials_repr_hides_the_password():
    creds = Credentials("alice", SECRET)
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert "alice" in repr(creds)


def test_git_server_challenges_with_basic_auth(git_root: Path, history: list[str]):
    with GitServer(git_root, auth=("alice", SECRET)) as server:
        response = urllib3.PoolManager().request("GET", server.url("demo.git") + "/info/refs")
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


# --- network failures ---------------------------------------------------------------------------


def test_connection_refused(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/demo.git"
        with pytest.raises(ScmError) as excinfo:
            fetch(url, "master", None, LOOPBACK, tmp_path)
        assert scm_code(excinfo) == 110
        with pytest.raises(ScmError) as head:
            head_revision(url, "master", None, LOOPBACK)
        assert scm_code(head) == 110


def test_read_timeout(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # connects through the backlog, never answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/demo.git"
        quick = GitPolicy(allow_loopback=True, timeout_s=0.3)
        with pytest.raises(ScmError) as excinfo:
            head_revision(url, "master", None, quick)
        assert scm_code(excinfo) == 110 and "timed out" in str(excinfo.value)


@pytest.fixture
def not_git() -> Iterator[str]:
    """A loopback web server answering 200 text/plain to everything."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello\n"]

    server = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_dumb_servers_are_refused(not_git: str, tmp_path: Path):
    with pytest.raises(ScmError) as excinfo:
        fetch(not_git + "/demo.git", "master", None, LOOPBACK, tmp_path)
    assert scm_code(excinfo) == 110 and "smart HTTP" in str(excinfo.value)


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("elsewhere", ["other-port", "metadata"])
def test_redirects_to_another_host_are_not_followed(
    git_root: Path, git_server: GitServer, history: list[str], tmp_path: Path, elsewhere: str
):
    target = git_server.url("demo.git") if elsewhere == "other-port" else "http://169.254.169.254/x"
    with GitServer(git_root, redirects={"moved.git": target}) as redirector:
        before = len(git_server.requests)
        with pytest.raises(ScmError) as excinfo:
            fetch(redirector.url("moved.git"), "master", None, LOOPBACK, tmp_path)
        assert scm_code(excinfo) == 113
        assert redirector.requests == ["GET /moved.git/info/refs?service=git-upload-pack"]
        assert len(git_server.requests) == before


def test_same_host_redirects_are_followed(git_root: Path, history: list[str], tmp_path: Path):
    with GitServer(git_root, redirects={"old-name.git": "/demo.git"}) as server:
        with fetch(server.url("old-name.git"), "master", None, LOOPBACK, tmp_path) as snap:
            assert snap.revision == history[-1]
        assert server.requests[0].startswith("GET /old-name.git/info/refs")
        assert "POST /demo.git/git-upload-pack" in server.requests


def test_connections_check_the_address_they_reach(git_server: GitServer, history: list[str]):
    """The last line of defence (DNS rebinding): the socket's peer is held to the policy."""
    no_loopback = GitPolicy(hosts=("127.0.0.1",))
    pool = sources._GuardedPoolManager(no_loopback, sources._Budget(1 << 20), has_credentials=False)
    before = len(git_server.requests)
    with pytest.raises(ScmError) as excinfo:
        pool.request("GET", git_server.url("demo.git") + "/info/refs?service=git-upload-pack")
    assert scm_code(excinfo) == 113
    assert len(git_server.requests) == before


# --- the URL policy ---------------------------------------------------------------------------------


POLICY = GitPolicy(
    hosts=("github.com", "*.example.com", "git.corp:8443"),
    networks=(ipaddress.ip_network("10.0.0.0/8"),),
)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("  https://GitHub.com/org/repo/  ", "https://github.com/org/repo"),
        ("https://github.com:443/org/repo.git", "https://github.com/org/repo.git"),
        ("https://git.example.com/team/repo", "https://git.example.com/team/repo"),
        ("https://a.b.example.com/x", "https://a.b.example.com/x"),
        ("https://git.corp:8443/x.git", "https://git.corp:8443/x.git"),
        ("https://10.1.2.3/group/repo.git", "https://10.1.2.3/group/repo.git"),
    ],
)
def test_normalize_url_accepts(url: str, canonical: str):
    assert normalize_url(url, POLICY) == canonical


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://gitlab.com/org/repo.git", 113),  # not on the allow-list
        ("https://example.com/org/repo.git", 113),  # the wildcard wants a subdomain
        ("https://github.com.evil.io/org/repo.git", 113),
        ("https://git.corp/x.git", 113),  # listed for port 8443 only
        ("http://github.com/org/repo.git", 113),  # plain http off loopback
        ("http://127.0.0.1:8080/x.git", 113),  # loopback not allowed
        ("https://localhost/x.git", 113),
        ("https://[::1]/x.git", 113),
        ("https://169.254.169.254/latest/meta-data", 113),
        ("https://169.254.10.10/x.git", 113),
        ("https://[fd00:ec2::254]/x.git", 113),
        ("https://[fe80::1]/x.git", 113),
        ("https://192.168.1.10/x.git", 113),  # private, not in `networks`
        ("https://172.16.0.1/x.git", 113),
        ("https://[::ffff:127.0.0.1]/x.git", 113),
        ("https://0.0.0.0/x.git", 113),
        ("https://224.0.0.1/x.git", 113),
        ("https://8.8.8.8/x.git", 113),  # public, but not listed
        ("ssh://git@github.com/org/repo.git", 115),
        ("ssh://github.com/org/repo.git", 115),
        ("git://github.com/org/repo.git", 115),
        ("ftp://github.com/org/repo.git", 115),
        ("git@github.com:org/repo.git", 115),
        ("https:///org/repo.git", 115),
        ("https://github.com", 115),
        ("https://github.com/", 115),
        ("https://github.com/org/../repo.git", 115),
        ("https://github.com/org/%2e%2e/repo.git", 115),
        ("https://github.com/org/repo.git?x=1", 115),
        ("https://github.com/org/repo.git#frag", 115),
        ("https://github.com:99999/org/repo.git", 115),
        ("https://github.com/org repo", 115),
        ("https://127.1/x.git", 115),  # resolvers read it as 127.0.0.1
        ("https://2130706433/x.git", 115),
        ("", 115),
        ("/srv/git/repo.git", 114),  # local paths not allowed here
        ("file:///srv/git/repo.git", 114),
    ],
)
def test_normalize_url_refuses(url: str, code: int):
    with pytest.raises(ScmError) as excinfo:
        normalize_url(url, POLICY)
    assert scm_code(excinfo) == code


def test_userinfo_is_refused_without_echoing_it():
    for url in (
        f"https://alice:{SECRET}@github.com/org/repo.git",
        f"https://{SECRET}@github.com/org/repo.git",
        f"https://alice:{SECRET}@github.com:notaport/org/repo.git",
    ):
        with pytest.raises(ScmError) as excinfo:
            normalize_url(url, POLICY)
        assert scm_code(excinfo) == 115
        assert SECRET not in texts(excinfo.value)


def test_loopback_when_allowed():
    assert normalize_url("http://127.0.0.1:8080/x.git/", LOOPBACK) == "http://127.0.0.1:8080/x.git"
    assert normalize_url("http://localhost:8080/x.git", LOOPBACK) == "http://localhost:8080/x.git"
    assert normalize_url("http://[::1]:8080/x.git", LOOPBACK) == "http://[::1]:8080/x.git"
    with pytest.raises(ScmError) as excinfo:
        normalize_url("https://github.com/org/repo.git", LOOPBACK)  # loopback only, in local
    assert scm_code(excinfo) == 113


def test_check_address_refuses_names_resolving_to_loopback():
    listed = GitPolicy(hosts=("localhost",))
    assert normalize_url("https://localhost/x.git", listed) == "https://localhost/x.git"
    with pytest.raises(ScmError) as excinfo:
        check_address("https://localhost/x.git", listed)
    assert scm_code(excinfo) == 113
    check_address("https://localhost/x.git", GitPolicy(hosts=("localhost",), allow_loopback=True))
    with pytest.raises(ScmError) as literal:
        check_address("https://169.254.169.254/x.git", POLICY)
    assert scm_code(literal) == 113


# --- local paths -----------------------------------------------------------------------------------


def test_local_paths(git_root: Path, git_repo: GitRepo, history: list[str], tmp_path: Path):
    repo = str(git_repo.path)
    rooted = GitPolicy(allow_local_paths=True, local_roots=(git_root,))
    assert normalize_url(repo + "/", rooted) == str(git_repo.path.resolve())
    assert normalize_url("file://" + repo, rooted) == str(git_repo.path.resolve())
    assert normalize_url(repo, GitPolicy(allow_local_paths=True)) == str(git_repo.path.resolve())
    with fetch(repo, "master", None, rooted, tmp_path / "work") as snap:
        assert snap.revision == history[-1]
        assert sorted(snap.files()) == ["a.py", "c/moved.py", "e.py", "f.py"]
    assert head_revision(repo, "master", None, rooted) == history[-1]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (git_root / "sneaky").symlink_to(outside)
    cases = [
        (repo, GitPolicy(), 114),  # local paths off
        (str(outside), rooted, 113),  # outside the roots
        (str(git_root / "sneaky"), rooted, 113),  # a symlink out of the roots
        (repo + "/../../elsewhere", rooted, 115),
        (str(git_root / "absent.git"), rooted, 112),
        ("file://server/share/repo.git", rooted, 115),
        ("relative/path", rooted, 115),
    ]
    for url, policy, code in cases:
        with pytest.raises(ScmError) as excinfo:
            normalize_url(url, policy)
        assert scm_code(excinfo) == code, url
    tiny = GitPolicy(allow_local_paths=True, max_fetch_bytes=64)
    with pytest.raises(ScmError) as too_big:
        fetch(repo, "master", None, tiny, tmp_path / "w3")
    assert scm_code(too_big) == 110 and "limit" in str(too_big.value)
    with pytest.raises(ScmError) as not_a_repo:
        fetch(str(outside), "master", None, GitPolicy(allow_local_paths=True), tmp_path / "w2")
    assert scm_code(not_a_repo) == 112


# --- export and tarballs ----------------------------------------------------------------------------


def test_export(git_server: GitServer, git_repo: GitRepo, tmp_path: Path):
    git_repo.commit(
        {"a/b.py": "b\n", "run.sh": "#!/bin/sh\n", "c.py": "c\n"}, executable=["run.sh"]
    )
    dest = tmp_path / "out"
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path / "work") as snap:
        snap.export(["a/b.py", "run.sh"], dest)
        assert (dest / "a/b.py").read_bytes() == b"b\n"
        assert os.access(dest / "run.sh", os.X_OK)
        assert not (dest / "c.py").exists()
        for bad in ("../x.py", "/etc/passwd", "a/../../x", "", "a//b.py"):
            with pytest.raises(ScmError):
                snap.export([bad], dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repos", "work"]


def test_tar_round_trip(git_server: GitServer, git_repo: GitRepo, tmp_path: Path):
    git_repo.commit(
        {"a/b.py": "b\n", "run.sh": "#!/bin/sh\n", "c.py": "c\n", "ü.txt": "u\n"},
        executable=["run.sh"],
    )
    with fetch(git_server.url("demo.git"), "master", None, LOOPBACK, tmp_path / "work") as snap:
        first, second = io.BytesIO(), io.BytesIO()
        written = snap.write_tar(["run.sh", "a/b.py", "ü.txt"], first)
        snap.write_tar(["ü.txt", "a/b.py", "run.sh", "a/b.py"], second)
        assert written == len(first.getvalue()) > 0
        assert first.getvalue() == second.getvalue()  # deterministic
        with tarfile.open(fileobj=io.BytesIO(first.getvalue()), mode="r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["a/b.py", "run.sh", "ü.txt"]
        assert members["run.sh"].mode == 0o755 and members["a/b.py"].mode == 0o644
        assert all(m.isreg() and m.uid == 0 and m.uname == "" for m in members.values())
        assert {m.mtime for m in members.values()} == {snap.commit_time}

    first.seek(0)
    dest = tmp_path / "extracted"
    assert sorted(Snapshot.extract_tar(first, dest)) == ["a/b.py", "run.sh", "ü.txt"]
    assert (dest / "a/b.py").read_bytes() == b"b\n"
    assert (dest / "ü.txt").read_bytes() == b"u\n"
    assert os.access(dest / "run.sh", os.X_OK)

    first.seek(0)
    some = tmp_path / "some"
    assert Snapshot.extract_tar(first, some, paths={"run.sh"}) == ["run.sh"]
    assert sorted(p.name for p in some.iterdir()) == ["run.sh"]


class _Unseekable(io.RawIOBase):
    """A streaming body, like S3's."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_extract_tar_from_a_stream(tmp_path: Path):
    blob = _tarball([_file("x/y.txt", b"y\n")])
    assert Snapshot.extract_tar(_Unseekable(blob), tmp_path / "d") == ["x/y.txt"]
    assert (tmp_path / "d/x/y.txt").read_bytes() == b"y\n"


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _tarball(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


@pytest.mark.parametrize(
    "evil",
    [
        _file("../x", b"x"),
        _file("a/../../x", b"x"),
        _file("/etc/evil", b"x"),
        _link("link", "/etc/passwd"),
        _link("inside", "ok.txt"),
        _link("hard", "ok.txt", tarfile.LNKTYPE),
        _link("dev", "", tarfile.CHRTYPE),
        _link("fifo", "", tarfile.FIFOTYPE),
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink-out",
        "symlink-in",
        "hardlink",
        "device",
        "fifo",
    ],
)
def test_extract_tar_refuses_malicious_members(tmp_path: Path, evil):
    blob = _tarball([_file("ok.txt", b"fine\n"), evil])
    dest = tmp_path / "dest"
    with pytest.raises(ScmError):
        Snapshot.extract_tar(io.BytesIO(blob), dest)
    assert not dest.exists() or not any(dest.iterdir())  # nothing written, not even ok.txt
    assert not (tmp_path / "x").exists()


def test_extract_tar_refuses_garbage(tmp_path: Path):
    with pytest.raises(ScmError):
        Snapshot.extract_tar(io.BytesIO(b"not a tarball at all"), tmp_path / "d")


# --- configuration ----------------------------------------------------------------------------------


@pytest.fixture
def stage_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name.startswith("TASKHUB_SCAN_"):
            monkeypatch.delenv(name)
    yield monkeypatch
    monkeypatch.undo()
    config.reload()


def test_from_settings_local_stage(stage_env: pytest.MonkeyPatch):
    stage_env.setenv("TASKHUB_STAGE", "local")
    config.reload()
    policy = GitPolicy.from_settings()
    assert policy.hosts == () and policy.networks == ()
    assert policy.allow_loopback and policy.allow_local_paths
    assert policy.timeout_s == 30 and policy.max_fetch_bytes == 1 << 30
    assert normalize_url("http://127.0.0.1:1234/x.git", policy) == "http://127.0.0.1:1234/x.git"
    with pytest.raises(ScmError):
        normalize_url("https://github.com/org/repo.git", policy)


def test_from_settings_other_stages(stage_env: pytest.MonkeyPatch, tmp_path: Path):
    stage_env.setenv("TASKHUB_STAGE", "prod")
    config.reload()
    policy = GitPolicy.from_settings()
    assert policy.hosts == () and not policy.allow_loopback and not policy.allow_local_paths

    stage_env.setenv("TASKHUB_SCAN_GIT_HOSTS", "GitHub.com, *.corp.example ,git.corp:8443")
    stage_env.setenv("TASKHUB_SCAN_GIT_NETWORKS", "10.0.0.0/8,fd12::/16")
    stage_env.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "yes")
    stage_env.setenv("TASKHUB_SCAN_LOCAL_PATHS", "1")
    stage_env.setenv("TASKHUB_SCAN_LOCAL_ROOTS", str(tmp_path))
    stage_env.setenv("TASKHUB_SCAN_GIT_TIMEOUT", "5.5")
    policy = GitPolicy.from_settings()
    assert policy.hosts == ("github.com", "*.corp.example", "git.corp:8443")
    assert policy.networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd12::/16"),
    )
    assert policy.allow_loopback and policy.allow_local_paths
    assert policy.local_roots == (tmp_path.resolve(),)
    assert policy.timeout_s == 5.5

    stage_env.setenv("TASKHUB_STAGE", "local")
    stage_env.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "false")
    stage_env.setenv("TASKHUB_SCAN_LOCAL_PATHS", "0")
    config.reload()
    policy = GitPolicy.from_settings()
    assert not policy.allow_loopback and not policy.allow_local_paths
