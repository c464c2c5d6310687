"""A project made whole for a client that names only a repository URL and a branch (a
CodeArts task): the repository found by its URL in the owner, or registered; a scheme of the
project's own; the project. All of it, and whatever the caller adds for its own record of the
project, goes in one transaction, so a refusal or a failure writes nothing.

The URL passes the same policy as a registered repository (`repos.checked_url`) and the
branch is checked live, as TCA checks a new project's branch, before anything is written.
Credentials given with the project become the repository's (encrypted, never answered); a
repository the owner registered before keeps its own when none are given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.transactions import TransactWrite

from ..core import crypto, ids, resources, sequences
from ..core.conditions import applied
from ..core.errors import Conflict
from . import projects, repos
from .models import ClaimModel, CounterModel, ProjectModel, RepoModel, SchemeModel
from .owners import Owner, repo_key

ATTEMPTS = 3  # a repository registered by another writer meanwhile: found on the next try

Also = Callable[[TransactWrite, ProjectModel, SchemeModel], None]


@dataclass(frozen=True)
class Account:
    """Who the repository is fetched as (a username and a password or token)."""

    username: str
    secret: str
    auth_type: str = "token"


@dataclass
class Made:
    repo: RepoModel
    project: ProjectModel
    scheme: SchemeModel


def make(
    owner: Owner,
    *,
    url: str,
    branch: str,
    creator: str,
    name: str | None = None,
    account: Account | None = None,
    scheme: dict[str, Any] | None = None,
    also: Also | None = None,
) -> Made:
    """The repository (found or registered), a new scheme made of `scheme`'s fields and a
    new project of `branch` with it, written together with what `also` adds to the
    transaction. ScmRefused (URL, reachability), BranchMissing: nothing is written."""
    canonical = repos.checked_url(url)
    for _ in range(ATTEMPTS):
        made = _attempt(owner, canonical, branch, creator, name, account, scheme or {}, also)
        if made is not None:
            return made
    raise Conflict("the repository is being registered by others; try again")


def _attempt(
    owner: Owner,
    url: str,
    branch: str,
    creator: str,
    name: str | None,
    account: Account | None,
    fields: dict[str, Any],
    also: Also | None,
) -> Made | None:
    repo = repos.find(owner, url)
    fresh = repo is None
    sealed = None
    if account is not None:
        sealed = {
            "auth_type": account.auth_type,
            "scm_username": account.username,
            "scm_secret": crypto.encrypt(account.secret),
        }
    if repo is None:
        repo = RepoModel(
            owner.key,
            0,
            name=repos.default_name(url),
            scm_url=url,
            scm_type="git",
            created_from="api",
            creator=creator,
            created_time=ids.now_ms(),
            scheme_count=1,
            project_count=1,
        )
    probe = RepoModel(owner.key, repo.repo_id, scm_url=url, **(sealed or {}))
    if sealed is None:
        probe.auth_type, probe.scm_username = repo.auth_type, repo.scm_username
        probe.scm_secret = repo.scm_secret
    revision = projects.check_branch(probe, branch)  # with the credentials it will have

    got = sequences.take(CounterModel, "ids", scheme=1, project=1, **({"repo": 1} if fresh else {}))
    if fresh:
        repo.repo_id = got["repo"]
        for attr, value in (sealed or {}).items():
            setattr(repo, attr, value)
    now = ids.now_ms()
    made_scheme = SchemeModel(
        repo_key(repo.repo_id),
        got["scheme"],
        name=name or f"scheme-{got['scheme']}",
        creator=creator,
        created_time=now,
        **fields,
    )
    project = ProjectModel(
        repo.repo_id,
        got["project"],
        owner=owner.key,
        branch=branch,
        scheme_id=made_scheme.scheme_id,
        created_from="api",
        creator=creator,
        created_time=now,
        name=name,
        initial_revision=revision,
    )

    def write() -> None:
        with resources.transaction() as tx:
            if fresh:
                tx.save(
                    ClaimModel(repos.claim_key(owner, url), target=str(repo.repo_id)),
                    condition=ClaimModel.key.does_not_exist(),
                )
                tx.save(repo, condition=RepoModel.repo_id.does_not_exist())
            else:
                actions = [RepoModel.scheme_count.add(1), RepoModel.project_count.add(1)]
                for attr, value in (sealed or {}).items():
                    actions.append(getattr(RepoModel, attr).set(value))
                tx.update(
                    RepoModel(repo.owner, repo.repo_id),
                    actions=actions,
                    condition=RepoModel.repo_id.exists(),
                )
            tx.save(made_scheme, condition=SchemeModel.scheme_id.does_not_exist())
            tx.save(
                ClaimModel(
                    projects.claim_key(repo.repo_id, made_scheme.scheme_id, branch),
                    target=str(project.project_id),
                ),
                condition=ClaimModel.key.does_not_exist(),
            )
            tx.save(project, condition=ProjectModel.project_id.does_not_exist())
            if also is not None:
                also(tx, project, made_scheme)

    if not applied(write):
        return None
    if not fresh and sealed is not None:
        for attr, value in sealed.items():
            setattr(repo, attr, value)
    return Made(repo, project, made_scheme)
