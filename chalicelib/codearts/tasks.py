"""CodeArts tasks: made on the scan engine, read by id, listed by project, deleted.

Making a task checks the git URL against the engine's policy and the branch live, then
writes the repository (found by URL in the project, or registered), the task's own scheme,
its scan project, the task and the project's task count in one transaction: a refusal
writes nothing. Its scheme lints the languages given that the engine has linters for
(all of them when none is given) and measures complexity, duplication and lines.

Most of the SDK's paths name only the task: the task is read first, then the caller's
rights in its project are checked (403 without them). A path that names a project and a
task of another project is answered as an unknown task.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from ..core import ids, resources
from ..core.auth import Principal
from ..core.conditions import applied
from ..core.errors import BadRequest, Forbidden, NotFound
from ..core.identity import service as identity
from ..scans import owners, projects, provisioning, repos, scanning
from ..scans.owners import Owner
from ..scans.schemas import LANGUAGES
from .models import CheckTaskModel, ProjectTasksModel
from .schemas import FACE, CreateTaskIn

TASK_ID = re.compile(r"^[0-9a-f]{32}$")
PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAGE_DEPTH = 50_000  # tasks a page may sit behind: Huawei's limit on a tenant's tasks
METRICS = {"cc_scan_enabled": True, "dup_scan_enabled": True, "cloc_scan_enabled": True}


class TaskMissing(NotFound):
    """No such task, or not in the project the path names."""


def creator(principal: Principal) -> str:
    return principal.user.name or principal.uuid


def project(principal: Principal, project_id: str, permission: str) -> Owner:
    """The CodeArts project named by the path, if it exists and the caller may."""
    return owners.require(principal, FACE, project_id, permission)


def check_header_project(principal: Principal, value: str | None) -> None:
    """`X-Project-Id`: the SDK sends its credentials' project there. When it names a
    CodeArts project, the caller must have rights in it (403); an IAM project id, which
    names none, is not this service's to judge."""
    value = (value or "").strip()
    if not value or not PROJECT_ID.fullmatch(value) or principal.user.is_admin:
        return
    if principal.role(FACE, value) is None and identity.get_namespace(FACE, value) is not None:
        raise Forbidden("permission denied: X-Project-Id")


def get(
    principal: Principal, task_id: str, permission: str, project_id: str | None = None
) -> CheckTaskModel:
    if not TASK_ID.fullmatch(task_id):
        raise TaskMissing(f"task {task_id[:64]} not found")
    try:
        task = CheckTaskModel.get(task_id, consistent_read=True)
    except DoesNotExist:
        raise TaskMissing(f"task {task_id} not found") from None
    if project_id is not None and task.project != project_id:
        raise TaskMissing(f"task {task_id} not found")
    if not principal.can(FACE, task.project, permission):
        raise Forbidden(f"permission denied: {permission}")
    return task


def exists(task_id: str, project_id: str) -> bool:
    """Whether the project has this task (one GetItem), for a check that has no caller."""
    if not TASK_ID.fullmatch(task_id):
        return False
    try:
        task = CheckTaskModel.get(task_id, consistent_read=True, attributes_to_get=["project"])
    except DoesNotExist:
        return False
    return task.project == project_id


def scan_project(task: CheckTaskModel):
    """The task's project on the engine."""
    return projects.get(task.repo_id, task.scan_project)


def scan_target(task: CheckTaskModel):
    """(repository, scan project) of the task on the engine."""
    return repos.get(Owner(FACE, task.project), task.repo_id), scan_project(task)


def task_name(url: str, now_ms: int) -> str:
    """The repository's name and the creation time, as CodeArts names a task it is not
    told to name (`CSharp_02201119`)."""
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%m%d%H%M")
    return f"{repos.default_name(url).rsplit('/', 1)[-1]}_{stamp}"[:128]


def create(principal: Principal, project_id: str, body: CreateTaskIn, permission: str):
    owner = project(principal, project_id, permission)
    if body.username and not body.access_token:
        raise BadRequest("username needs access_token", field="access_token")
    account = None
    if body.access_token:
        account = provisioning.Account(body.username or "oauth2", body.access_token)
    url = repos.checked_url(body.git_url)
    now = ids.now_ms()
    task = CheckTaskModel(
        uuid.uuid4().hex,
        project=project_id,
        created_at=now,
        name=task_name(url, now),
        creator_id=principal.uuid,
        git_url=url,
        git_branch=body.git_branch,
        languages=body.language,
        check_type=body.check_type,
        task_type=body.task_type,
        rule_sets=[r.model_dump(exclude_none=True) for r in body.rule_sets],
        repo_id=0,
        scan_project=0,
        scheme_id=0,
    )

    def also(tx, scan_project, scheme) -> None:
        task.repo_id, task.scan_project = scan_project.repo_id, scan_project.project_id
        task.scheme_id = scheme.scheme_id
        tx.save(task, condition=CheckTaskModel.task_id.does_not_exist())
        tx.update(ProjectTasksModel(project_id), actions=[ProjectTasksModel.task_count.add(1)])

    provisioning.make(
        owner,
        url=url,
        branch=body.git_branch,
        creator=creator(principal),
        name=task.name,
        account=account,
        scheme={
            "languages": body.language or list(LANGUAGES),
            "lint_enabled": True,
            "metric": dict(METRICS),
            "description": f"CodeArts Check task {task.task_id}",
        },
        also=also,
    )
    return task


def count(project_id: str) -> int:
    try:
        return int(ProjectTasksModel.get(project_id, consistent_read=True).task_count)
    except DoesNotExist:
        return 0


def listing(
    principal: Principal, project_id: str, page: int, limit: int, permission: str
) -> tuple[list[CheckTaskModel], int]:
    """(the tasks of page `page`, newest first, and the project's task count): the count's
    item, the keys before and on the page (one Query of the keys-only index while they fit
    in 1 MB) and the page's rows in one BatchGetItem."""
    project(principal, project_id, permission)
    total = count(project_id)
    skip = page * limit
    if skip >= min(total, PAGE_DEPTH):
        return [], total
    keys = CheckTaskModel.by_project.query(project_id, scan_index_forward=False, limit=skip + limit)
    wanted = [key.task_id for key in keys][skip:]
    if not wanted:
        return [], total
    found = {t.task_id: t for t in CheckTaskModel.batch_get(wanted, consistent_read=True)}
    return [found[t] for t in wanted if t in found], total


def cancel_runs(task: CheckTaskModel, remarks: str, who: str) -> int:
    """Stop every open run of the task (the engine revokes them as cancelled by the user,
    301); how many there were."""
    target = scan_project(task)
    stopped = 0
    for job_id in sorted(target.open_jobs or ()):
        try:
            job = scanning.get_job(target, int(job_id))
        except scanning.JobMissing:
            continue
        scanning.cancel(job, remarks, who)
        stopped += 1
    return stopped


def delete(principal: Principal, task_id: str, permission: str) -> None:
    """Stop its runs, then remove the task and count it out, in one transaction. Its scan
    project and issues stay on the engine, out of every CodeArts answer."""
    task = get(principal, task_id, permission)
    cancel_runs(task, "task deleted", creator(principal))

    def write() -> None:
        with resources.transaction() as tx:
            tx.delete(task, condition=CheckTaskModel.task_id.exists())
            tx.update(
                ProjectTasksModel(task.project), actions=[ProjectTasksModel.task_count.add(-1)]
            )

    if not applied(write):
        raise TaskMissing(f"task {task_id} not found")
