"""Starting and cancelling scans.

A scan is one job with one task per tool of the project's scheme, written in one
transaction with the project's set of open jobs: without force_create a project with an
unclosed job refuses (TCA's 300, naming the open scans); with it the new job runs beside
them and supersedes the older ones when it closes. A client may name its scan with an
idempotency key: the same key on the same project gives back the job it made the first
time, however often the request is repeated within a week (`IDEMPOTENCY_S`; then DynamoDB's
TTL deletes the claim), and makes no second one.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable

from pynamodb.exceptions import DoesNotExist

from ..core import ids, resources, sequences
from ..core.conditions import applied
from ..core.errors import BadRequest, NotFound
from ..webhooks import allowlist
from . import engine, projects, schemes
from .codes import CLOSED, STORING, USER_CANCEL, WAITING, ProjectBusy
from .config import limits
from .models import ClaimModel, CounterModel, JobModel, ProjectModel, RepoModel, TaskModel
from .schemas import ScanIn

MAX_KEY = 128
IDEMPOTENCY_S = 7 * 86400  # how long an Idempotency-Key names its job


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ids.now_ms() / 1000, tz=datetime.UTC)


def _claim_key(project: ProjectModel, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"scan:{project.project_id}:{digest}"


def _existing(project: ProjectModel, key: str | None) -> JobModel | None:
    if not key:
        return None
    try:
        claim = ClaimModel.get(_claim_key(project, key), consistent_read=True)
    except DoesNotExist:
        return None
    if claim.expires_at is not None and claim.expires_at <= _now():
        return None  # past its TTL, not yet deleted
    return engine.load_job(project.project_id, int(claim.target))


def create(
    repo: RepoModel,
    project: ProjectModel,
    body: ScanIn,
    creator: str,
    key: str | None = None,
    *,
    callbacks: list[str] | None = None,
    link: Callable[[int], str] | None = None,
) -> JobModel:
    """`callbacks`: webhook URLs told when the scan ends, each on the allow-list of the
    repository's namespace; `link(job_id)`: the path of the job's details on the face."""
    if key is not None and not 1 <= len(key) <= MAX_KEY:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    face, namespace = repo.owner.split(":", 1)
    urls = allowlist.check_callbacks(face, namespace, callbacks or [])
    known = _existing(project, key)
    if known is not None:
        return known
    plans = schemes.tools(projects.scheme_of(project))
    got = sequences.take(CounterModel, "ids", job=1, scan=1, task=len(plans))
    job_id, scan_id = got["job"], got["scan"]
    task_ids = list(range(got["task"] - len(plans) + 1, got["task"] + 1))
    now = ids.now_ms()
    job = JobModel(
        project.project_id,
        job_id,
        repo_id=repo.repo_id,
        scan_id=scan_id,
        state=WAITING,
        phase="init",
        created_from=body.created_from,
        creator=creator,
        create_time=now,
        incr_scan=True if body.incr_scan is None else body.incr_scan,
        force_create=body.force_create,
        task_num=len(plans),
        task_ids=task_ids,
        beat=now,
        hard_deadline=now + limits().job_timeout_s * 1000,
        watch=engine.watch_of(job_id),
        deadline=now + engine.START_GRACE_S * 1000,
    )
    if urls:
        job.hooks = {
            "face": face,
            "namespace": namespace,
            "urls": urls,
            "link": link(job_id) if link else "",
        }
    tasks = [
        TaskModel(
            job_id,
            task_id,
            project_id=project.project_id,
            module=plan.module,
            task_name=plan.task_name,
            params=plan.params,
        )
        for task_id, plan in zip(task_ids, plans, strict=True)
    ]

    def write() -> None:
        with resources.transaction() as tx:
            tx.save(job, condition=JobModel.job_id.does_not_exist())
            for task in tasks:
                tx.save(task, condition=TaskModel.task_id.does_not_exist())
            condition = ProjectModel.project_id.exists()
            if not body.force_create:
                condition = condition & ProjectModel.open_jobs.does_not_exist()
            tx.update(
                ProjectModel(project.repo_id, project.project_id),
                actions=[ProjectModel.open_jobs.add({job_id}), ProjectModel.job_count.add(1)],
                condition=condition,
            )
            if key:
                now = _now()
                tx.save(
                    ClaimModel(
                        _claim_key(project, key),
                        target=str(job_id),
                        expires_at=now + datetime.timedelta(seconds=IDEMPOTENCY_S),
                    ),
                    condition=ClaimModel.key.does_not_exist() | (ClaimModel.expires_at <= now),
                )

    if not applied(write):
        known = _existing(project, key)
        if known is not None:  # the same key won a race
            return known
        raise ProjectBusy(project.branch, open_scan_ids(project))
    engine.send(job, "start")
    return job


def open_scan_ids(project: ProjectModel) -> list[int]:
    project.refresh(consistent_read=True)
    open_ids = sorted(project.open_jobs or ())
    if not open_ids:
        return []
    found = JobModel.batch_get([(project.project_id, j) for j in open_ids])
    return sorted(job.scan_id for job in found if job.state != CLOSED)


def cancel(job: JobModel, remarks: str, user: str) -> None:
    """TCA's JobCancelApiView: an unclosed job is revoked with 301; one that is storing its
    results is closed at once; a closed job stays as it is (the answer is the same)."""
    if job.state == CLOSED:
        return
    who = f"User( {user} ) Canceled: {remarks}"
    message = f"{who}.[Job is closing] " if job.state == STORING else f"{who} . "
    engine.revoke(job, USER_CANCEL, message, remarks=remarks, remarked_by=user)


def get_job(project: ProjectModel, job_id: int) -> JobModel:
    job = engine.load_job(project.project_id, job_id)
    if job is None:
        raise JobMissing(f"job {job_id} not found")
    return job


class JobMissing(NotFound):
    """The job does not exist in this project."""
