"""Projects: a branch of a repository scanned with a scheme.

The branch is checked against the repository when the project is made, as TCA checks it
live: a branch that does not exist, or a repository that cannot be reached, is refused and
nothing is written (the workspace, which applies without network, checks only the name).
One project per (branch, scheme) of a repository.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..core import ids, resources, sequences
from ..core.conditions import applied
from ..core.errors import BadRequest, NotFound
from ..core.paging import OffsetPage, offset_page
from . import repos, schemes, sources
from .codes import SCM_NOT_FOUND, ScmRefused
from .models import ClaimModel, CounterModel, ProjectModel, RepoModel, SchemeModel
from .owners import Owner, repo_key
from .schemas import ProjectIn


class ProjectMissing(NotFound):
    """The project does not exist in this repository."""


class BranchMissing(BadRequest):
    """The branch does not exist in the repository (TCA: 代码库分支不存在)."""


class NoScheme(BadRequest):
    """Neither scan_scheme_id nor global_scheme_id was given."""


class ProjectExists(BadRequest):
    """The repository has a project for this branch and scheme."""


def check_branch(repo: RepoModel, branch: str, *, live: bool = True) -> str | None:
    """The branch's head revision, or the error TCA gives for it. `live=False` checks only
    the name (git's rules; 115 for a bad one) and asks the repository nothing: None."""
    try:
        if not live:
            sources.check_branch(branch)
            return None
        return sources.head_revision(repo.scm_url, branch, repos.credentials(repo), repos.policy())
    except sources.ScmError as exc:
        if exc.code == SCM_NOT_FOUND and "branch" in exc.message.lower():
            raise BranchMissing("代码库分支不存在", field="branch") from None
        raise ScmRefused(exc.code, exc.message) from None


def claim_key(repo_id: int, scheme_id: int, branch: str) -> str:
    return f"project:{repo_id}:{scheme_id}:{branch}"


def create(
    owner: Owner, repo: RepoModel, body: ProjectIn, creator: str, *, live: bool = True
) -> tuple:
    """(project, scheme). The scheme is the repository's own (`scan_scheme_id`) or a new
    copy of an organisation template (`global_scheme_id`). `live=False` checks the branch's
    name but does not ask the repository for it (the workspace, which applies without
    network): a branch that is not there fails the project's first scan instead."""
    if body.scan_scheme_id is None and body.global_scheme_id is None:
        raise NoScheme("未指定扫描方案模板或扫描方案", field="cd_error")
    if body.scan_scheme_id is not None:
        try:
            scheme = schemes.of_repo(repo.repo_id, body.scan_scheme_id)
        except schemes.SchemeMissing:
            raise BadRequest("当前代码库不存在该扫描方案", field="scan_scheme_id") from None
        template = None
    else:
        try:
            template = schemes.template(owner.face, owner.org, body.global_scheme_id)
        except schemes.SchemeMissing:
            raise BadRequest("方案模板不存在", field="global_scheme_id") from None
        scheme = None
    revision = check_branch(repo, body.branch, live=live)
    made = None
    if scheme is None:
        scheme = made = schemes.copy_of(
            template, repo_key(repo.repo_id), body.custom_scheme_name, creator
        )
    project_id = sequences.block(CounterModel, "ids", "project", 1)[0]
    project = ProjectModel(
        repo.repo_id,
        project_id,
        owner=owner.key,
        branch=body.branch,
        scheme_id=scheme.scheme_id,
        scan_path=body.scan_path or None,
        created_from=body.created_from,
        creator=creator,
        created_time=ids.now_ms(),
        initial_revision=revision,
    )

    def write() -> None:
        with resources.transaction() as tx:
            claim = claim_key(repo.repo_id, scheme.scheme_id, body.branch)
            tx.save(
                ClaimModel(claim, target=str(project_id)),
                condition=ClaimModel.key.does_not_exist(),
            )
            tx.save(project, condition=ProjectModel.project_id.does_not_exist())
            repo_counts = [RepoModel.project_count.add(1)]
            if made is not None:
                tx.save(made, condition=SchemeModel.scheme_id.does_not_exist())
                repo_counts.append(RepoModel.scheme_count.add(1))
            tx.update(
                RepoModel(repo.owner, repo.repo_id),
                actions=repo_counts,
                condition=RepoModel.repo_id.exists(),
            )

    if not applied(write):
        raise ProjectExists("分支项目已存在", field="branch")
    return project, scheme


def get(repo_id: int, project_id: int) -> ProjectModel:
    try:
        return ProjectModel.get(repo_id, project_id, consistent_read=True)
    except DoesNotExist:
        raise ProjectMissing(f"project {project_id} not found") from None


def find(repo_id: int, scheme_id: int, branch: str) -> ProjectModel | None:
    """The repository's project of this branch and scheme, if any (its claim, then it)."""
    try:
        claim = ClaimModel.get(claim_key(repo_id, scheme_id, branch), consistent_read=True)
        return ProjectModel.get(repo_id, int(claim.target), consistent_read=True)
    except DoesNotExist:
        return None


def revise(project: ProjectModel, *, scan_path: str | None, created_from: str) -> bool:
    """Set a project's scan path and origin (its branch and scheme are what it is); True
    when something changed. Its jobs' fields are left alone."""
    actions = []
    if (project.scan_path or None) != (scan_path or None):
        attr = ProjectModel.scan_path
        actions.append(attr.set(scan_path) if scan_path else attr.remove())
    if project.created_from != created_from:
        actions.append(ProjectModel.created_from.set(created_from))
    if not actions:
        return False
    project.update(actions=actions, condition=ProjectModel.project_id.exists())
    return True


def listing(repo_id: int, offset: int, limit: int, keep=None) -> OffsetPage:
    return offset_page(ProjectModel.query(repo_id, scan_index_forward=False), offset, limit, keep)


def scheme_of(project: ProjectModel) -> SchemeModel:
    return schemes.of_repo(project.repo_id, project.scheme_id)
