"""Code repositories: registered with a URL the git policy allows, listed, read, and
revised by the workspace (all but their URL).

A repository's URL is checked when it is registered (syntax and allow-list, no network)
and again, with DNS, each time the engine fetches. Its credentials are encrypted at rest
and never answered, logged or put in an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlparse

from pynamodb.exceptions import DoesNotExist

from ..core import crypto, ids, resources, sequences
from ..core.conditions import applied
from ..core.errors import BadRequest, NotFound
from ..core.paging import OffsetPage, offset_page
from . import sources
from .codes import ScmRefused
from .models import ClaimModel, CounterModel, RepoModel
from .owners import Owner
from .schemas import RepoIn, ScmAuth


class RepoMissing(NotFound):
    """The repository does not exist in this owner."""


class RepoExists(BadRequest):
    """A repository with this URL is registered in this owner already."""


def policy() -> sources.GitPolicy:
    return sources.GitPolicy.from_settings()


def checked_url(url: str) -> str:
    """The canonical URL, or ScmRefused with TCA's SCM code (113 untrusted, 115 bad)."""
    try:
        return sources.normalize_url(url, policy())
    except sources.ScmError as exc:
        raise ScmRefused(exc.code, exc.message) from None


def claim_key(owner: Owner, url: str) -> str:
    return f"repo:{owner.key}:{hashlib.sha256(url.encode()).hexdigest()[:40]}"


def default_name(url: str) -> str:
    """`group/name` from the URL's path, as TCA names a repository it is not told to."""
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.rstrip("/").split("/") if p]
    name = "/".join(parts[-2:]) if parts else url
    return name.removesuffix(".git")[:128] or "repo"


def sealed(auth: ScmAuth) -> dict[str, str]:
    """The credentials as a repository keeps them: the secret encrypted (core.crypto)."""
    return {
        "auth_type": auth.auth_type,
        "scm_username": auth.scm_account.scm_username,
        "scm_secret": crypto.encrypt(auth.scm_account.scm_password),
    }


def create(owner: Owner, body: RepoIn, creator: str) -> RepoModel:
    if body.scm_type != "git":
        raise ScmRefused(115, "仅支持 git 代码库 (scm_type git)")
    url = checked_url(body.scm_url)
    repo_id = sequences.block(CounterModel, "ids", "repo", 1)[0]
    repo = RepoModel(
        owner.key,
        repo_id,
        name=body.name or default_name(url),
        scm_url=url,
        scm_type="git",
        ssh_url=body.ssh_url,
        created_from=body.created_from,
        creator=creator,
        created_time=ids.now_ms(),
        labels=body.labels,
    )
    if body.scm_auth is not None:
        for name, value in sealed(body.scm_auth).items():
            setattr(repo, name, value)

    def write() -> None:
        with resources.transaction() as tx:
            tx.save(
                ClaimModel(claim_key(owner, url), target=str(repo_id)),
                condition=ClaimModel.key.does_not_exist(),
            )
            tx.save(repo, condition=RepoModel.repo_id.does_not_exist())

    if not applied(write):
        raise RepoExists("代码库已存在", field="scm_url")
    return repo


def get(owner: Owner, repo_id: int) -> RepoModel:
    try:
        return RepoModel.get(owner.key, repo_id, consistent_read=True)
    except DoesNotExist:
        raise RepoMissing(f"repository {repo_id} not found") from None


def find(owner: Owner, url: str) -> RepoModel | None:
    """The repository registered in `owner` with this canonical URL (`checked_url`'s), if
    any: two point reads, its claim and the repository."""
    try:
        claim = ClaimModel.get(claim_key(owner, url), consistent_read=True)
        return RepoModel.get(owner.key, int(claim.target), consistent_read=True)
    except DoesNotExist:
        return None


def revise(repo: RepoModel, body: RepoIn) -> bool:
    """Make a registered repository what `body` says, but its URL and type (what it is) and
    its credentials when `body` gives none (they are never answered, so a body read back
    has none). True when something changed; counters and scans' fields are left alone."""
    wanted: dict[str, object] = {
        "name": body.name or default_name(repo.scm_url),
        "ssh_url": body.ssh_url,
        "created_from": body.created_from,
        "labels": list(body.labels),
    }
    if body.scm_auth is not None and not _same_credentials(repo, body.scm_auth):
        wanted.update(sealed(body.scm_auth))
    actions = [
        getattr(RepoModel, name).remove() if value is None else getattr(RepoModel, name).set(value)
        for name, value in wanted.items()
        if name == "scm_secret" or getattr(repo, name) != value
    ]
    if not actions:
        return False
    repo.update(actions=actions, condition=RepoModel.repo_id.exists())
    return True


def _same_credentials(repo: RepoModel, auth: ScmAuth) -> bool:
    stored = credentials(repo)
    return (
        stored is not None
        and repo.auth_type == auth.auth_type
        and stored.username == auth.scm_account.scm_username
        and stored.password == auth.scm_account.scm_password
    )


def credentials(repo: RepoModel) -> sources.Credentials | None:
    if not repo.scm_secret:
        return None
    return sources.Credentials(repo.scm_username or "", crypto.decrypt(repo.scm_secret))


def listing(
    owner: Owner, keep: Callable[[RepoModel], bool] | None, offset: int, limit: int
) -> OffsetPage:
    """Newest first (TCA orders by -created_time, which ids follow)."""
    results = RepoModel.query(owner.key, scan_index_forward=False)
    return offset_page(results, offset, limit, keep)
