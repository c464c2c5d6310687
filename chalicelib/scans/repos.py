"""Code repositories: registered with a URL the git policy allows, listed, read.

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
from .schemas import RepoIn


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


def _claim_key(owner: Owner, url: str) -> str:
    return f"repo:{owner.key}:{hashlib.sha256(url.encode()).hexdigest()[:40]}"


def default_name(url: str) -> str:
    """`group/name` from the URL's path, as TCA names a repository it is not told to."""
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.rstrip("/").split("/") if p]
    name = "/".join(parts[-2:]) if parts else url
    return name.removesuffix(".git")[:128] or "repo"


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
        repo.auth_type = body.scm_auth.auth_type
        repo.scm_username = body.scm_auth.scm_account.scm_username
        repo.scm_secret = crypto.encrypt(body.scm_auth.scm_account.scm_password)

    def write() -> None:
        with resources.transaction() as tx:
            tx.save(
                ClaimModel(_claim_key(owner, url), target=str(repo_id)),
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
