"""What a schedule runs, and as whom: a JOBX job (as `POST /jobx/task/{projectid}/job/byname`
submits it), a TCA scan project (as `scans/create` does) or a CodeArts check task (as its
`run` does), through those domains' services.

`run_as` must hold the permission a person would need to submit it by hand (JOBX `write` on
the project, TCA `write` on the team, CodeArts `task:execute` in the project), when the
schedule is set and again at each firing.
A firing submits with an id derived from (schedule, slot): a JOBX task uuid, a scan's
idempotency key, so a repeated submission of one slot gives back what the first one made.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from typing import Any

from ..codearts import FACE as CODEARTS
from ..core import ids
from ..core.auth import Principal
from ..core.errors import BadRequest, Forbidden, NotFound, TaskhubError
from ..core.identity import service as identity
from ..jobs import FACE as JOBX
from ..scans import FACE_TCA

JOBX_KIND, SCAN_KIND = "jobx", "scan"
RUN_PERMISSION = "write"  # JOBX's and TCA's, to start a task or a scan
CODEARTS_RUN = "task:execute"  # CodeArts', to run a check task


@dataclass
class Outcome:
    """A firing's record: submitted (with what it made), refused (run_as may not) or failed
    (the job, group or project is gone, or its domain refused)."""

    result: str
    detail: str = ""
    made: dict[str, Any] = field(default_factory=dict)


class Refused(TaskhubError):
    """run_as may not run this target (any more)."""

    status = 403
    kind = "PermissionDenied"


def owner_of(kind: str, target: dict[str, Any]) -> str:
    if kind == JOBX_KIND:
        return f"{JOBX}:{target['project']}"
    if is_codearts(target):
        return f"{CODEARTS}:{target['project']}"
    return f"{FACE_TCA}:{target['team']}"


def is_codearts(target: dict[str, Any]) -> bool:
    return target.get("face") == CODEARTS


def permission_of(face: str) -> str:
    return CODEARTS_RUN if face == CODEARTS else RUN_PERMISSION


def principal(run_as: str) -> Principal:
    """The user a schedule runs as, or Refused: gone, or no longer active."""
    user = identity.get_user(run_as) if identity.USER_UUID_RE.match(run_as or "") else None
    if user is None:
        raise Refused(f"unknown user {run_as[:64]}")
    if user.status != identity.ACTIVE:
        raise Refused(f"user {run_as} is not active")
    return Principal(user)


def _require(who: Principal, face: str, ns_id: str) -> None:
    permission = permission_of(face)
    if not who.can(face, ns_id, permission):
        raise Refused(f"user {who.uuid} has no {permission} permission in {face} {ns_id}")


# ---- JOBX ----------------------------------------------------------------------------------


def jobx_run(target: dict[str, Any], uuid: str | None = None):
    from ..jobs.schemas import RunIn

    return RunIn.model_validate(
        {
            "jobname": target["jobname"],
            "group": target["group"],
            "variable": target.get("variable") or {},
            "uuid": uuid,
        }
    )


def check_jobx(target: dict[str, Any], run_as: str) -> None:
    """The job, the group and the variables as a run would take them, and run_as's right."""
    from ..jobs import runs

    _require(principal(run_as), JOBX, target["project"])
    run = jobx_run(target)
    try:
        runs.plan(target["project"], run.jobname, run.group, run.variable)
    except NotFound as exc:
        what = "group" if exc.message.startswith("group") else "jobname"
        raise BadRequest(exc.message, field=what) from None


def task_uuid(owner: str, sid: str, slot: int) -> str:
    """A JOBX deploy uuid (11 letters or digits, then a-z) derived from the slot."""
    head = ids.derived_alnum(11, "schedule", owner, sid, str(slot))
    digest = hashlib.sha256(f"{owner}:{sid}:{slot}".encode()).digest()
    return head + string.ascii_lowercase[digest[0] % 26]


def _submit_jobx(owner: str, sid: str, target: dict[str, Any], who: Principal, slot: int):
    from ..jobs import runs

    _require(who, JOBX, target["project"])
    run = jobx_run(target, task_uuid(owner, sid, slot))
    task, _ = runs.start_task(target["project"], who.uuid, run, calltype="crontab")
    return {"task": task.uuid}


# ---- scans ---------------------------------------------------------------------------------


def check_scan(target: dict[str, Any], who: Principal) -> None:
    """The TCA project or CodeArts task is there, and run_as may scan it."""
    if is_codearts(target):
        codearts_task(target, who)
    else:
        scan_project(target, who)


def codearts_task(target: dict[str, Any], who: Principal):
    from ..codearts import tasks

    _require(who, CODEARTS, target["project"])
    return tasks.get(who, target["task_id"], CODEARTS_RUN, project_id=target["project"])


def scan_project(target: dict[str, Any], who: Principal):
    """(repository, project) of a TCA target, if run_as may scan there."""
    from ..scans import owners, projects, repos

    if identity.get_namespace(FACE_TCA, target["team"]) is None:
        raise NotFound(f"team {target['team']} not found")
    _require(who, FACE_TCA, target["team"])
    repo = repos.get(owners.Owner(FACE_TCA, target["team"]), int(target["repo_id"]))
    return repo, projects.get(repo.repo_id, int(target["project_id"]))


def _submit_scan(owner: str, sid: str, target: dict[str, Any], who: Principal, slot: int):
    from ..scans import scanning
    from ..scans.schemas import ScanIn

    key = f"schedule:{owner}:{sid}:{slot}"
    if is_codearts(target):
        from ..codearts import runs
        from ..codearts.schemas import RunIn

        codearts_task(target, who)
        job = runs.run(
            who, target["task_id"], RunIn(), CODEARTS_RUN, key=key, created_from="schedule"
        )
        return {"job": job.job_id, "scan": job.scan_id}
    repo, project = scan_project(target, who)
    body = ScanIn(created_from="schedule")
    name = who.user.name or who.uuid
    job = scanning.create(repo, project, body, name, key)
    return {"job": job.job_id, "scan": job.scan_id}


def submit(kind: str, owner: str, sid: str, target: dict, run_as: str, slot: int) -> Outcome:
    """Submit one slot as run_as. A domain's refusal is recorded, not raised; anything else
    (the store failing) propagates, and the claim is driven again later."""
    try:
        who = principal(run_as)
        if kind == JOBX_KIND:
            made = _submit_jobx(owner, sid, target, who, slot)
        else:
            made = _submit_scan(owner, sid, target, who, slot)
    except (Refused, Forbidden) as exc:
        return Outcome("refused", exc.message)
    except TaskhubError as exc:
        return Outcome("failed", exc.message)
    return Outcome("submitted", "", made)
