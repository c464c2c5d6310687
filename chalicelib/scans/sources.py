"""The scan engine's git client: fetch a branch, list and read its files, diff, pack for S3.

Lambda has no git binary, so this is dulwich all the way down (smart HTTP through urllib3,
or a local repository in the local stage). Repository URLs come from users, so every URL is
held to a `GitPolicy` twice: `normalize_url` checks its syntax and host without touching the
network when a repository is registered, and every connection made while fetching checks the
address it actually reached (which closes DNS tricks and cross-host redirects). Errors are
`ScmError`s carrying Tencent Code Analysis's SCM result codes, with messages that never hold
credentials.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import logging
import os
import re
import shutil
import socket
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from dulwich.client import GitClient, HTTPUnauthorized, LocalGitClient, Urllib3HttpGitClient
from dulwich.diff_tree import tree_changes
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.objects import Commit, Tree
from dulwich.repo import Repo
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from chalicelib.core import outbound
from chalicelib.core.config import settings

logger = logging.getLogger("taskhub.scans")

# Tencent Code Analysis's SCM result codes.
SCM_ERROR = 110  # generic: connection refused, timeout, protocol error
SCM_AUTH_FAILED = 111  # 401/403 from the server
SCM_NOT_FOUND = 112  # repository, branch or revision missing
SCM_UNTRUSTED = 113  # URL refused by the allow-list or the address policy
SCM_FORBIDDEN = 114  # e.g. local paths in a stage that does not allow them
SCM_BAD_PARAMS = 115  # malformed URL, bad branch name

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_FETCH_BYTES = 1 << 30
MAX_REDIRECTS = 5

IPNetwork = outbound.IPNetwork
IPAddress = outbound.IPAddress
_HOSTNAME = re.compile(
    r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*"
)
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_REFUSED_SCHEMES = {"ssh", "git", "git+ssh", "ssh+git", "ftp", "ftps", "rsync", "sftp"}


class ScmError(Exception):
    """A git operation failed; `code` is an SCM result code, `message` safe to show users."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ScmError({self.code}, {self.message!r})"

    def __reduce__(self) -> tuple[type[ScmError], tuple[int, str]]:
        return type(self), (self.code, self.message)


@dataclass(frozen=True)
class Credentials:
    """Basic-auth credentials for a git server; a token goes in `password`."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class GitPolicy:
    """Which repositories a scan may fetch; deny by default."""

    hosts: tuple[str, ...] = ()  # "github.com", "*.example.com", "git.corp:8443"
    networks: tuple[IPNetwork, ...] = ()  # private ranges allowed, e.g. an on-prem GitLab's
    allow_loopback: bool = False
    allow_local_paths: bool = False
    local_roots: tuple[Path, ...] = ()  # empty: any absolute path, when local paths are allowed
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES

    def __post_init__(self) -> None:
        # Accept lists and strings from callers; keep comparable, hashable, lower-case tuples.
        hosts = tuple(_host_entry(h) for h in self.hosts if h.strip())
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in self.networks)
        roots = tuple(Path(r).expanduser().resolve() for r in self.local_roots)
        object.__setattr__(self, "hosts", hosts)
        object.__setattr__(self, "networks", networks)
        object.__setattr__(self, "local_roots", roots)

    @classmethod
    def from_settings(cls) -> GitPolicy:
        """From the environment. Loopback and local paths default to allowed only in the local
        stage, whose allow-list is otherwise empty; elsewhere nothing is allowed until the
        hosts are configured."""
        local = settings().stage == "local"
        return cls(
            hosts=tuple(_csv("TASKHUB_SCAN_GIT_HOSTS")),
            networks=tuple(_csv("TASKHUB_SCAN_GIT_NETWORKS")),  # type: ignore[arg-type]
            allow_loopback=_flag("TASKHUB_SCAN_ALLOW_LOOPBACK", local),
            allow_local_paths=_flag("TASKHUB_SCAN_LOCAL_PATHS", local),
            local_roots=tuple(Path(r) for r in _csv("TASKHUB_SCAN_LOCAL_ROOTS")),
            timeout_s=float(os.environ.get("TASKHUB_SCAN_GIT_TIMEOUT") or DEFAULT_TIMEOUT_S),
            max_fetch_bytes=int(
                os.environ.get("TASKHUB_SCAN_GIT_MAX_BYTES") or DEFAULT_MAX_FETCH_BYTES
            ),
        )


def _csv(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _host_entry(entry: str) -> str:
    """An allow-list entry in canonical form: lower case, no trailing dot, IPv6 bracketed."""
    entry = entry.strip().lower()
    host, port = _split_host_port(entry)
    if host is None or not (_HOSTNAME.fullmatch(host.removeprefix("*.")) or _ip(host)):
        raise ValueError(f"not a git host allow-list entry: {entry!r}")
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


def _split_host_port(entry: str) -> tuple[str | None, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port is None:
            return None, None
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host, port = entry, None
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        return None, None
    return host.rstrip("."), int(port) if port is not None else None


def _ip(host: str) -> IPAddress | None:
    return outbound.ip(host)


def _address_refusal(address: IPAddress, policy: GitPolicy) -> str | None:
    """Why the policy refuses a connection to `address`, or None when it allows it."""
    return outbound.refusal(address, networks=policy.networks, allow_loopback=policy.allow_loopback)


def _is_loopback_host(host: str) -> bool:
    return outbound.is_loopback_host(host)


def _host_listed(host: str, port: int | None, scheme: str, policy: GitPolicy) -> bool:
    effective = port or (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    for entry in policy.hosts:
        name, entry_port = _split_host_port(entry)
        if name is None or (entry_port is not None and entry_port != effective):
            continue
        name = name.strip("[]")
        if name.startswith("*."):
            if host.endswith(name[1:]):
                return True
        elif name in (host, shown):
            return True
    return False


def normalize_url(url: str, policy: GitPolicy) -> str:
    """Check a repository URL's syntax and policy, without network or DNS, and return its
    canonical form. Registration calls this; fetching calls it again, then checks addresses."""
    url = (url or "").strip()
    if not url:
        raise ScmError(SCM_BAD_PARAMS, "The repository URL is empty.")
    if _URL_FORBIDDEN.search(url):
        raise ScmError(
            SCM_BAD_PARAMS, "The repository URL contains spaces, backslashes or control characters."
        )
    if url.startswith("/") or url.lower().startswith("file:"):
        return str(_local_path(url, policy))
    # No raising inside `except` here or below: a chained exception would keep the URL's text.
    parts = _attempt(lambda: urlsplit(url))
    if parts is not None and "@" in parts.netloc:
        raise ScmError(
            SCM_BAD_PARAMS,
            "The repository URL must not contain credentials; pass them separately.",
        )
    port = _attempt(lambda: parts.port) if parts is not None else None
    if parts is None or port is False:
        raise ScmError(SCM_BAD_PARAMS, "The repository URL is malformed.")
    scheme = parts.scheme.lower()
    if scheme in _REFUSED_SCHEMES:
        raise ScmError(
            SCM_BAD_PARAMS, f"{scheme}:// repository URLs are not supported; use https://."
        )
    if scheme not in {"http", "https"} or not parts.netloc:
        raise ScmError(SCM_BAD_PARAMS, "The repository URL must be an https:// URL.")
    host = _url_host(parts.hostname or "")
    if port == 0:
        raise ScmError(SCM_BAD_PARAMS, "The repository URL has an invalid port.")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ScmError(SCM_BAD_PARAMS, "The repository URL must not have a query or a fragment.")
    path = parts.path.rstrip("/")
    segments = path.split("/")[1:]
    if (
        not path
        or any(s in {"", ".", ".."} for s in segments)
        or any(s in {".", ".."} for s in unquote(path).split("/"))
    ):
        raise ScmError(SCM_BAD_PARAMS, "The repository URL must name a repository path.")
    _check_host(host, port, scheme, policy)
    if port == (443 if scheme == "https" else 80):
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}"


def _url_host(raw: str) -> str:
    host = raw.lower().rstrip(".")
    if not host:
        raise ScmError(SCM_BAD_PARAMS, "The repository URL has no host.")
    if _ip(host) is not None:
        return host
    name = _attempt(lambda: host.encode("idna").decode("ascii")) or ""
    if not _HOSTNAME.fullmatch(name) or len(name) > 253 or name.rsplit(".", 1)[-1].isdigit():
        # An all-digit last label is no name: resolvers read "127.1" or "2130706433" as IPv4.
        raise ScmError(SCM_BAD_PARAMS, "The repository URL has an invalid host name.")
    return name


def _check_host(host: str, port: int | None, scheme: str, policy: GitPolicy) -> None:
    loopback = _is_loopback_host(host)
    if scheme == "http" and not (loopback and policy.allow_loopback):
        raise ScmError(
            SCM_UNTRUSTED, "Plain http:// is allowed only for loopback test servers; use https://."
        )
    address = _ip(host)
    if address is not None:
        refusal = _address_refusal(address, policy)
        if refusal is not None:
            raise ScmError(
                SCM_UNTRUSTED, f"The repository host is {refusal}, which is not allowed."
            )
        if (
            address.is_loopback
            or any(address in n for n in policy.networks)
            or _host_listed(host, port, scheme, policy)
        ):
            return
        raise ScmError(SCM_UNTRUSTED, f"The host {host} is not on the git allow-list.")
    if loopback and policy.allow_loopback:
        return
    if not _host_listed(host, port, scheme, policy):
        raise ScmError(SCM_UNTRUSTED, f"The host {host} is not on the git allow-list.")


def _local_path(url: str, policy: GitPolicy) -> Path:
    if not policy.allow_local_paths:
        raise ScmError(SCM_FORBIDDEN, "Local repository paths are not allowed in this stage.")
    if url.lower().startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in {"", "localhost"} or parts.query or parts.fragment:
            raise ScmError(SCM_BAD_PARAMS, "Only file:///absolute/path URLs are supported.")
        raw = unquote(parts.path)
    else:
        raw = url
    if not raw.startswith("/") or "\x00" in raw:
        raise ScmError(SCM_BAD_PARAMS, "A local repository must be an absolute path.")
    if ".." in raw.split("/"):
        raise ScmError(SCM_BAD_PARAMS, "A local repository path must not contain '..'.")
    path = Path(raw).resolve()
    if policy.local_roots and not any(path.is_relative_to(root) for root in policy.local_roots):
        raise ScmError(SCM_UNTRUSTED, "The local repository is outside the allowed roots.")
    if not path.is_dir():
        raise ScmError(SCM_NOT_FOUND, "The local repository does not exist.")
    return path


def check_address(url: str, policy: GitPolicy) -> None:
    """At fetch time: the policy again, then every address the host resolves to must be
    allowed, so an allow-listed name that resolves to a private or metadata address fails."""
    canonical = normalize_url(url, policy)
    if canonical.startswith("/"):
        return
    parts = urlsplit(canonical)
    host = parts.hostname or ""
    infos = _attempt(lambda: socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM))
    if not infos:
        raise ScmError(SCM_ERROR, f"Could not resolve the host {host}.")
    for info in infos:
        address = _ip(str(info[4][0]).split("%", 1)[0])
        refusal = "an unparseable address" if address is None else _address_refusal(address, policy)
        if refusal is not None:
            raise ScmError(
                SCM_UNTRUSTED, f"The host {host} resolves to {refusal}, which is not allowed."
            )


def _attempt(call: Callable[[], Any]) -> Any:
    """`call()`, or False when it raises ValueError/OSError (bad syntax, DNS failure)."""
    try:
        return call()
    except (ValueError, OSError):
        return False


def check_branch(branch: str) -> str:
    """A branch name by git's check-ref-format rules (plus no leading '-'), or 115."""
    bad = (
        not isinstance(branch, str)
        or not branch
        or len(branch) > 255
        or branch in {"@", "HEAD"}
        or branch.startswith(("-", "/"))
        or branch.endswith(("/", "."))
        or ".." in branch
        or "//" in branch
        or "@{" in branch
        or _REF_FORBIDDEN.search(branch) is not None
        or any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/"))
    )
    if bad:
        raise ScmError(SCM_BAD_PARAMS, "The branch name is not a valid git branch name.")
    return branch


def _check_revision(revision: str) -> str:
    value = revision.strip().lower() if isinstance(revision, str) else ""
    if not _SHA.fullmatch(value):
        raise ScmError(SCM_BAD_PARAMS, "The revision must be a full commit sha.")
    return value


# --- transport ---------------------------------------------------------------------------


class _Budget:
    """Bytes a fetch may still receive; past the policy's limit the fetch fails."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ScmError(
                SCM_ERROR, f"The repository is larger than the fetch limit of {self.limit} bytes."
            )


class _PeerChecked:
    """Mixed into urllib3's connections: refuse the socket when the address it reached is not
    allowed, before a byte (or a TLS hello) is sent. DNS answers can change between
    `check_address` and here; the peer address cannot lie."""

    policy: GitPolicy | None = None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            peer = str(sock.getpeername()[0]).split("%", 1)[0]
        except OSError:
            sock.close()
            raise
        address = _ip(peer)
        policy = self.policy or GitPolicy()
        refusal = "an unparseable address" if address is None else _address_refusal(address, policy)
        if refusal is not None:
            sock.close()
            raise ScmError(SCM_UNTRUSTED, f"The git server is at {refusal}, which is not allowed.")
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _PolicyPool:
    policy: GitPolicy | None = None

    def _new_conn(self) -> Any:
        conn = super()._new_conn()  # type: ignore[misc]
        conn.policy = self.policy
        return conn


class _HTTPPool(_PolicyPool, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_PolicyPool, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection  # type: ignore[assignment]


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class _GuardedPoolManager(urllib3.PoolManager):
    """The only way out to the network: peer-checked connections, no proxies, timeouts on
    connect and read, same-host redirects only, HTTP errors as `ScmError`s, and every byte
    received counted against the fetch budget."""

    def __init__(self, policy: GitPolicy, budget: _Budget, has_credentials: bool) -> None:
        try:
            import certifi

            ca_certs: str | None = certifi.where()
        except ImportError:  # the system's trust store then
            ca_certs = None
        super().__init__(
            num_pools=4,
            headers={"User-Agent": "taskhub-scan (dulwich)"},
            timeout=urllib3.Timeout(connect=policy.timeout_s, read=policy.timeout_s),
            retries=urllib3.Retry(total=0, redirect=False),
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
        )
        self.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}  # type: ignore[dict-item]
        self.policy = policy
        self.budget = budget
        self.has_credentials = has_credentials

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> Any:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.policy = self.policy
        return pool

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> Any:  # type: ignore[override]
        for _hop in range(MAX_REDIRECTS + 1):
            response = super().urlopen(method, url, redirect=False, **kw)
            location = response.get_redirect_location()
            if not location:
                break
            response.close()  # not drained: a hostile server's body may never end
            target = urljoin(url, location)
            if method != "GET":
                raise ScmError(SCM_ERROR, "The git server redirected a fetch request.")
            if _origin(target) != _origin(url):
                raise ScmError(
                    SCM_UNTRUSTED,
                    "The git server redirected to another host; only same-host redirects are followed.",
                )
            url = target
        else:
            raise ScmError(SCM_ERROR, "The git server redirected too many times.")
        self._check_status(method, url, response)
        response.url = url  # dulwich compares it with what it asked for to spot redirects
        self._meter(response)
        return response

    def _check_status(self, method: str, url: str, response: Any) -> None:
        status = response.status
        if status == 200:
            if method == "GET" and "/info/refs" in url:
                content_type = response.headers.get("Content-Type") or ""
                if not content_type.startswith("application/x-git-"):
                    # dulwich would fall back to the dumb protocol: no depth, no limits.
                    response.close()
                    raise ScmError(
                        SCM_ERROR, "The server does not speak git's smart HTTP protocol."
                    )
            return
        response.close()
        if status == 401:
            if self.has_credentials:
                raise ScmError(SCM_AUTH_FAILED, "The git server refused the credentials.")
            raise ScmError(SCM_AUTH_FAILED, "The git server requires credentials.")
        if status == 403:
            raise ScmError(SCM_AUTH_FAILED, "The git server denied access to the repository.")
        if status == 404:
            raise ScmError(SCM_NOT_FOUND, "The repository does not exist.")
        raise ScmError(SCM_ERROR, f"The git server answered HTTP {status}.")

    def _meter(self, response: Any) -> None:
        length = response.headers.get("Content-Length")
        if length and length.isdigit():
            remaining = self.budget.limit - self.budget.used
            if int(length) > remaining:
                response.close()
                self.budget.take(int(length))
        read = response.read
        budget = self.budget

        def metered(amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
            data: bytes = read(amt, *args, **kwargs)
            budget.take(len(data))
            return data

        response.read = metered


def _client(
    canonical: str, creds: Credentials | None, policy: GitPolicy, budget: _Budget
) -> tuple[GitClient, str]:
    if canonical.startswith("/"):
        return LocalGitClient(), canonical
    parts = urlsplit(canonical)
    pool = _GuardedPoolManager(policy, budget, has_credentials=creds is not None)
    client = Urllib3HttpGitClient(
        f"{parts.scheme}://{parts.netloc}/",
        pool_manager=pool,
        username=creds.username if creds else None,
        password=creds.password if creds else None,
    )
    return client, parts.path


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            yield reason
            seen.add(id(reason))
        current = current.__cause__ or current.__context__


def _translate(exc: BaseException, host: str) -> ScmError:
    """An exception from dulwich, urllib3 or the OS as an ScmError with a message of ours:
    their texts carry URLs and server output, so none of it is passed on."""
    if isinstance(exc, ScmError):
        return exc
    if isinstance(exc, HTTPUnauthorized):
        return ScmError(SCM_AUTH_FAILED, "The git server requires credentials.")
    if isinstance(exc, NotGitRepository):
        return ScmError(SCM_NOT_FOUND, "The repository does not exist.")
    errors = urllib3.exceptions
    for cause in _exception_chain(exc):
        if isinstance(cause, ScmError):
            return cause
        if isinstance(cause, errors.NameResolutionError | socket.gaierror):
            return ScmError(SCM_ERROR, f"Could not resolve the host {host}.")
        if isinstance(cause, errors.NewConnectionError | ConnectionRefusedError):
            return ScmError(SCM_ERROR, f"Could not connect to {host}.")
        if isinstance(cause, errors.TimeoutError | TimeoutError):
            return ScmError(SCM_ERROR, f"The connection to {host} timed out.")
        if isinstance(cause, errors.SSLError):
            return ScmError(SCM_ERROR, f"The TLS connection to {host} failed.")
        if isinstance(cause, errors.ProtocolError | ConnectionError):
            return ScmError(SCM_ERROR, f"The connection to {host} broke.")
    if isinstance(exc, HangupException):
        return ScmError(SCM_ERROR, "The git server hung up.")
    if isinstance(exc, GitProtocolError):
        return ScmError(SCM_ERROR, f"Git protocol error talking to {host}.")
    return ScmError(SCM_ERROR, f"The git operation failed ({type(exc).__name__}).")


def _guarded(op: Callable[[], Any], canonical: str, creds: Credentials | None) -> Any:
    """Run `op`, raising only ScmErrors whose text and chain hold no credentials."""
    try:
        return op()
    except Exception as exc:
        host = (
            "the local repository"
            if canonical.startswith("/")
            else urlsplit(canonical).hostname or "?"
        )
        error = _translate(exc, host)
        if creds is not None and len(creds.password) >= 4 and creds.password in error.message:
            error = ScmError(error.code, error.message.replace(creds.password, "***"))
        logger.info("git %s failed: %s (%s)", host, error.message, type(exc).__name__)
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    raise error


class _BranchMissing(Exception):
    pass


def head_revision(url: str, branch: str, creds: Credentials | None, policy: GitPolicy) -> str:
    """The commit sha `refs/heads/<branch>` points at on the server (git ls-remote)."""
    check_branch(branch)
    canonical = normalize_url(url, policy)
    ref = b"refs/heads/" + branch.encode()

    def op() -> str:
        check_address(canonical, policy)
        client, path = _client(canonical, creds, policy, _Budget(policy.max_fetch_bytes))
        try:
            refs = client.get_refs(path, ref_prefix=[ref]).refs
        finally:
            client.close()
        sha = refs.get(ref)
        if not sha:
            raise ScmError(SCM_NOT_FOUND, f"The branch {branch} does not exist.")
        return sha.decode("ascii")

    result: str = _guarded(op, canonical, creds)
    return result


def fetch(
    url: str,
    branch: str,
    creds: Credentials | None,
    policy: GitPolicy,
    into: Path,
    *,
    revision: str | None = None,
    depth: int = 50,
) -> Snapshot:
    """Fetch the last `depth` commits of `branch` into a bare repository under `into` (the
    caller's to remove) and return the snapshot at `revision` (default: the branch head),
    which must be in that history. No work tree: files are read from the objects."""
    check_branch(branch)
    wanted = _check_revision(revision) if revision is not None else None
    if not isinstance(depth, int) or depth < 1:
        raise ScmError(SCM_BAD_PARAMS, "The fetch depth must be a positive number of commits.")
    canonical = normalize_url(url, policy)
    ref = b"refs/heads/" + branch.encode()

    def op() -> Snapshot:
        check_address(canonical, policy)
        budget = _Budget(policy.max_fetch_bytes)
        Path(into).mkdir(parents=True, exist_ok=True)
        target = Repo.init_bare(tempfile.mkdtemp(prefix="git-", dir=into))
        try:
            head = _fetch_into(target, canonical, ref, creds, policy, budget, depth)
            target.refs[ref] = head
            revision_id = wanted.encode() if wanted else head
            if revision_id != head and revision_id not in _history(target, head):
                raise ScmError(
                    SCM_NOT_FOUND,
                    f"The revision {wanted} was not found in the last {depth} commits of {branch}.",
                )
            return Snapshot(target, revision_id.decode("ascii"))
        except BaseException:
            target.close()
            raise

    def fetch_branch() -> Snapshot:
        try:
            return op()
        except _BranchMissing:
            raise ScmError(SCM_NOT_FOUND, f"The branch {branch} does not exist.") from None

    result: Snapshot = _guarded(fetch_branch, canonical, creds)
    return result


def _fetch_into(
    target: Repo,
    canonical: str,
    ref: bytes,
    creds: Credentials | None,
    policy: GitPolicy,
    budget: _Budget,
    depth: int,
) -> bytes:
    """GitClient.fetch, with the pack counted against the limit as it arrives (the HTTP layer
    counts too; a local repository has only this)."""
    client, path = _client(canonical, creds, policy, budget)
    heads: list[bytes] = []

    def determine_wants(refs: Mapping[bytes, bytes], depth: int | None = None) -> list[bytes]:
        sha = refs.get(ref)
        if not sha:
            raise _BranchMissing
        heads.append(sha)
        return [sha]

    pack_budget = _Budget(policy.max_fetch_bytes)
    spool_dir = target.object_store.path
    with tempfile.SpooledTemporaryFile(
        max_size=16 << 20, prefix="incoming-", dir=spool_dir
    ) as spool:

        def pack_data(data: bytes) -> int:
            pack_budget.take(len(data))
            spool.write(data)
            return len(data)

        try:
            result = client.fetch_pack(
                path,
                determine_wants,
                target.get_graph_walker(),
                pack_data,
                depth=depth,
                ref_prefix=[ref],
            )
        finally:
            client.close()
        if spool.tell():
            spool.seek(0)
            target.object_store.add_thin_pack(spool.read, None)
    target.update_shallow(result.new_shallow, result.new_unshallow)
    if not heads:
        raise _BranchMissing
    head = heads[0]
    if head not in target.object_store or not isinstance(target.object_store[head], Commit):
        raise ScmError(SCM_NOT_FOUND, "The branch does not point at a commit.")
    return head


def _history(repo: Repo, head: bytes) -> set[bytes]:
    """Commits reachable from `head` among those fetched; a shallow fetch's boundary commits
    are in it, their missing parents are not."""
    store = repo.object_store
    shallow = repo.get_shallow()
    seen: set[bytes] = set()
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in store:
            continue
        commit = store[sha]
        if not isinstance(commit, Commit):
            continue
        seen.add(sha)
        if sha not in shallow:
            stack.extend(commit.parents)
    return seen


# --- snapshots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    path: str  # posix, relative to the repository root
    size: int
    blob_id: str
    mode: int  # 0o100644 or 0o100755

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


@dataclass(frozen=True)
class Change:
    path: str
    kind: Literal["add", "mod", "del"]


def _entry_name(name: bytes) -> str | None:
    """A tree entry name git would check out, decoded; None for what a hostile server could
    put in a tree by hand (`..`, slashes, `.git`) or for names that are not UTF-8."""
    if (
        not name
        or name in {b".", b".."}
        or b"/" in name
        or b"\x00" in name
        or name.lower() == b".git"
    ):
        return None
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _safe_relpath(path: str) -> str | None:
    """`path` when it is relative and stays below its root, else None."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\x00" in path:
        return None
    parts = path.split("/")
    if any(part in {"", ".", ".."} for part in parts):
        return None
    return path


def _normal_mode(mode: int) -> int:
    return 0o100755 if mode & 0o111 else 0o100644


class Snapshot:
    """The files of one fetched revision, read from the object store."""

    def __init__(self, repo: Repo, revision: str) -> None:
        self.repo = repo
        self.revision = revision
        sha = revision.encode("ascii")
        if sha not in repo.object_store or not isinstance(commit := repo.object_store[sha], Commit):
            raise ScmError(SCM_NOT_FOUND, f"The revision {revision} is not in this repository.")
        self.commit_time: int = commit.commit_time
        self._tree: bytes = commit.tree
        self._files: dict[str, FileEntry] | None = None

    @property
    def path(self) -> Path:
        """The bare repository's directory."""
        return Path(self.repo.path)

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _walk(self, tree_id: bytes) -> Iterator[tuple[str, int, bytes]]:
        """(path, mode, sha) of the regular files below `tree_id`: no symlinks, no gitlinks."""
        store = self.repo.object_store
        stack: list[tuple[str, bytes]] = [("", tree_id)]
        while stack:
            prefix, sha = stack.pop()
            tree = store[sha]
            if not isinstance(tree, Tree):
                continue
            for entry in tree.iteritems():
                name = _entry_name(entry.path)
                if name is None:
                    continue
                path = prefix + name
                if stat.S_ISDIR(entry.mode):
                    stack.append((path + "/", entry.sha))
                elif stat.S_ISREG(entry.mode):
                    yield path, entry.mode, entry.sha

    def files(self) -> dict[str, FileEntry]:
        """Regular files at this revision by path (symlinks and submodules skipped)."""
        if self._files is None:
            store = self.repo.object_store
            found: dict[str, FileEntry] = {}
            for path, mode, sha in self._walk(self._tree):
                _, data = store.get_raw(sha)
                found[path] = FileEntry(path, len(data), sha.decode("ascii"), _normal_mode(mode))
            self._files = dict(sorted(found.items()))
        return dict(self._files)

    def _entry(self, path: str) -> FileEntry:
        if self._files is None:
            self.files()
        assert self._files is not None
        entry = self._files.get(path)
        if entry is None:
            raise ScmError(SCM_NOT_FOUND, f"No file {path} at revision {self.revision}.")
        return entry

    def read(self, path: str) -> bytes:
        _, data = self.repo.object_store.get_raw(self._entry(path).blob_id.encode("ascii"))
        return data

    def head(self, path: str, n: int = 128) -> bytes:
        return self.read(path)[:n]

    def changes_since(self, base_revision: str) -> list[Change] | None:
        """Files added, modified or deleted since `base_revision` (renames are a delete and an
        add), or None when the base is not in the fetched history: scan everything then."""
        value = base_revision.strip().lower() if isinstance(base_revision, str) else ""
        if not _SHA.fullmatch(value):
            return None
        store = self.repo.object_store
        base = value.encode("ascii")
        if base not in store:
            return None
        commit = store[base]
        if not isinstance(commit, Commit) or commit.tree not in store:
            return None
        changes: dict[str, Literal["add", "mod", "del"]] = {}
        for change in tree_changes(store, commit.tree, self._tree):
            old = self._regular(change.old.path, change.old.mode) if change.old else None
            new = self._regular(change.new.path, change.new.mode) if change.new else None
            if old and new:
                changes[new] = "mod"
            elif old:
                changes[old] = "mod" if old in changes else "del"
            elif new:
                changes[new] = "mod" if new in changes else "add"
        return [Change(path, kind) for path, kind in sorted(changes.items())]

    @staticmethod
    def _regular(path: bytes | None, mode: int | None) -> str | None:
        if path is None or mode is None or not stat.S_ISREG(mode):
            return None
        names = [_entry_name(part) for part in path.split(b"/")]
        return None if None in names else "/".join(n for n in names if n is not None)

    def export(self, paths: Iterable[str], dest: Path) -> None:
        """Write `paths` under `dest`, never outside it (no absolute paths, no `..`, no
        following symlinks already there)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for path in paths:
            safe = _safe_relpath(path)
            if safe is None:
                raise ScmError(SCM_BAD_PARAMS, f"Refusing to export the unsafe path {path!r}.")
            entry = self._entry(safe)
            target = root / safe
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.parent.resolve().is_relative_to(root):
                raise ScmError(
                    SCM_BAD_PARAMS, f"Refusing to export {path!r} outside the destination."
                )
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(target, flags, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(self.read(safe))
                os.fchmod(out.fileno(), 0o755 if entry.executable else 0o644)

    def write_tar(self, paths: Iterable[str], fileobj: IO[bytes]) -> int:
        """A gzip tarball of `paths` (sorted, regular files only, 0o644/0o755, no owners, the
        commit's time as mtime): the same revision and paths give the same bytes. Returns
        the number of bytes written."""
        counter = _CountingWriter(fileobj)
        wanted = sorted(set(paths))
        entries = [self._entry(path) for path in wanted]
        with (
            gzip.GzipFile(filename="", mode="wb", fileobj=counter, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for entry in entries:
                data = self.read(entry.path)
                info = tarfile.TarInfo(entry.path)
                info.size = len(data)
                info.mode = 0o755 if entry.executable else 0o644
                info.mtime = self.commit_time
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        return counter.count

    @staticmethod
    def extract_tar(fileobj: IO[bytes], dest: Path, paths: set[str] | None = None) -> list[str]:
        """Extract the regular files of a tarball (only `paths`, when given) under `dest` and
        return their paths. The whole archive is refused, before anything is written, when
        any member is a link, a device, absolute or climbs out with `..`."""
        dest = Path(dest)
        source: IO[bytes] = fileobj
        spooled = None
        if not (hasattr(fileobj, "seekable") and fileobj.seekable()):
            spooled = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115
            shutil.copyfileobj(fileobj, spooled)
            spooled.seek(0)
            source = spooled  # type: ignore[assignment]
        try:
            with tarfile.open(fileobj=source, mode="r:*") as tar:
                members = tar.getmembers()
                regular: list[tarfile.TarInfo] = []
                for member in members:
                    name = _safe_relpath(member.name.rstrip("/") if member.isdir() else member.name)
                    if name is None:
                        raise ScmError(
                            SCM_BAD_PARAMS, f"The tarball holds an unsafe path {member.name!r}."
                        )
                    if member.isdir():
                        continue
                    if not member.isreg():
                        raise ScmError(
                            SCM_BAD_PARAMS, f"The tarball holds a link or device {member.name!r}."
                        )
                    regular.append(member)
                dest.mkdir(parents=True, exist_ok=True)
                extracted: list[str] = []
                for member in regular:
                    if paths is not None and member.name not in paths:
                        continue
                    tar.extract(member, dest, filter="data")
                    extracted.append(member.name)
                return extracted
        except tarfile.FilterError:
            error = ScmError(
                SCM_BAD_PARAMS, "The tarball holds a member that is unsafe to extract."
            )
        except tarfile.TarError:
            error = ScmError(SCM_BAD_PARAMS, "The tarball is damaged or not a tarball.")
        finally:
            if spooled is not None:
                spooled.close()
        raise error


class _CountingWriter:
    def __init__(self, fileobj: IO[bytes]) -> None:
        self.fileobj = fileobj
        self.count = 0

    def write(self, data: bytes) -> int:
        self.fileobj.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        flush = getattr(self.fileobj, "flush", None)
        if flush is not None:
            flush()


__all__ = [
    "SCM_AUTH_FAILED",
    "SCM_BAD_PARAMS",
    "SCM_ERROR",
    "SCM_FORBIDDEN",
    "SCM_NOT_FOUND",
    "SCM_UNTRUSTED",
    "Change",
    "Credentials",
    "FileEntry",
    "GitPolicy",
    "ScmError",
    "Snapshot",
    "check_address",
    "check_branch",
    "fetch",
    "head_revision",
    "normalize_url",
]
