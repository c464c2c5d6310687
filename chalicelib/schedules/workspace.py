"""Schedules in the workspace document: section `schedules`, after the JOBX inventory and
the TCA projects it may name. An item is a JOBX run (`jobx`: project, job, group,
variables), a TCA scan project (`scan`: team, repository URL, branch and scheme, as
`tca_projects` names it) or a CodeArts check task (`codearts`: project and task id), with
its cron, zone, switch and `run_as`.

An item is named by its owner (the project or team) and its `name`, which the document
keeps unique per owner; applying it again changes nothing. Checks come before any write:
the expression and zone, that run_as exists and may run the target (in the store or in the
document's own users and namespaces), and that the target exists (a JOBX job and group in
the store; a scan project in the store or in the document; a CodeArts task in the store). Export pages through the
schedules by kind (a keys-only index, then BatchGet), never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator, model_validator

from ..codearts import FACE as CODEARTS
from ..core import cursors, workspace
from ..core.auth import permissions_for
from ..core.errors import BadRequest, TaskhubError
from ..core.identity import service as identity
from ..core.workspace import Page, Plan, Strict, section, tally
from ..jobs import FACE as JOBX
from ..scans import FACE_TCA
from . import setting, store, timing
from .models import ScheduleModel
from .schemas import USER_UUID
from .targets import JOBX_KIND, SCAN_KIND, is_codearts, owner_of, permission_of

CREATOR = "workspace"
KINDS = (JOBX_KIND, SCAN_KIND)
INDEX_KEY = ("kind", "kind_key", "owner", "sid")


class JobxTarget(Strict):
    project: str = Field(min_length=1, max_length=64)
    jobname: str = Field(min_length=1, max_length=128)
    group: str = Field(min_length=1, max_length=128)
    variable: dict[str, Any] = Field(default_factory=dict)


class ScanTarget(Strict):
    team: str = Field(min_length=3, max_length=64, pattern=r"^[^/]+/[^/]+$")
    repo: str = Field(min_length=1, max_length=512)
    branch: str = Field(min_length=1, max_length=200)
    scheme: str = Field(min_length=1, max_length=128)

    @field_validator("repo")
    @classmethod
    def _canonical(cls, value: str) -> str:
        from ..scans.workspace import canonical

        return canonical(value)


class CodeArtsTarget(Strict):
    project: str = Field(min_length=1, max_length=64)
    task_id: str = Field(min_length=1, max_length=64)


class ScheduleItem(Strict):
    name: str = Field(min_length=1, max_length=128)
    cron: str = Field(min_length=1, max_length=256)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    enabled: bool = True
    run_as: str = Field(pattern=USER_UUID)
    jobx: JobxTarget | None = None
    scan: ScanTarget | None = None
    codearts: CodeArtsTarget | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ScheduleItem:
        if [self.jobx, self.scan, self.codearts].count(None) != 2:
            raise ValueError("a schedule runs one of a jobx job, a scan project or a codearts task")
        return self

    @property
    def kind(self) -> str:
        return JOBX_KIND if self.jobx is not None else SCAN_KIND

    @property
    def owner(self) -> str:
        if self.jobx is not None:
            return owner_of(JOBX_KIND, {"project": self.jobx.project})
        if self.codearts is not None:
            return owner_of(SCAN_KIND, {"face": CODEARTS, "project": self.codearts.project})
        return owner_of(SCAN_KIND, {"team": self.scan.team})

    @property
    def namespace(self) -> tuple[str, str]:
        """The face and namespace whose permission run_as needs."""
        if self.jobx is not None:
            return JOBX, self.jobx.project
        if self.codearts is not None:
            return CODEARTS, self.codearts.project
        return FACE_TCA, self.scan.team

    @property
    def label(self) -> str:
        return f"schedules: {self.owner} {self.name}"


# ---- check ---------------------------------------------------------------------------------


def _may_run(plan: Plan, user_uuid: str, face: str, ns_id: str) -> bool:
    """run_as's right, from the document where it says (its users and namespaces, a team's
    organisation included), else from the store."""
    planned_users = {u.uuid: u for u in plan.get("users") if u.uuid}
    if user_uuid in planned_users and planned_users[user_uuid].admin:
        return True
    namespaces = {(ns.face, ns.id): ns for ns in plan.get("namespaces")}
    chain = [ns_id] + ([ns_id.split("/", 1)[0]] if face == FACE_TCA and "/" in ns_id else [])
    for ns in chain:
        planned = namespaces.get((face, ns))
        if planned is not None and user_uuid in planned.members:
            return permission_of(face) in permissions_for(face, planned.members[user_uuid])
    user = identity.get_user(user_uuid)
    if user is None:
        return False
    if user.is_admin:
        return True
    return permission_of(face) in permissions_for(face, identity.role_in(user_uuid, face, ns_id))


def _check_jobx(item: ScheduleItem) -> None:
    from ..jobs import catalog

    try:
        catalog.job_by_name(item.jobx.project, item.jobx.jobname)
        catalog.group_by_name(item.jobx.project, item.jobx.group)
    except TaskhubError as exc:
        raise BadRequest(f"{item.label}: {exc.message}") from None


def _check_codearts(item: ScheduleItem) -> None:
    from ..codearts import tasks

    if not tasks.exists(item.codearts.task_id, item.codearts.project):
        raise BadRequest(
            f"{item.label}: unknown task {item.codearts.task_id} of codearts project "
            f"{item.codearts.project}"
        )


def _check_scan(item: ScheduleItem, plan: Plan, stored) -> None:
    target = item.scan
    planned = {(p.team, p.repo, p.branch, p.scheme) for p in plan.get("tca_projects")}
    if (target.team, target.repo, target.branch, target.scheme) in planned:
        return
    if _project(target, stored) is None:
        raise BadRequest(
            f"{item.label}: unknown scan project {target.repo} {target.branch} "
            f"({target.scheme}) of team {target.team}"
        )


def _project(target: ScanTarget, stored):
    """The stored (repository, project) a scan target names, or None."""
    from ..scans import projects
    from ..scans.owners import repo_key

    repo = stored.repo(target.team, target.repo)
    if repo is None:
        return None
    scheme = stored.scheme(repo_key(repo.repo_id), target.scheme, f"schedules: {target.team}")
    if scheme is None:
        return None
    project = projects.find(repo.repo_id, scheme.scheme_id, target.branch)
    return None if project is None else (repo, project, scheme)


def _check(items: list[ScheduleItem], plan: Plan) -> None:
    from ..scans.workspace import Store

    stored = Store()
    seen: set[tuple[str, str]] = set()
    for item in items:
        if (item.owner, item.name) in seen:
            raise BadRequest(f"{item.label}: listed twice")
        seen.add((item.owner, item.name))
        try:
            item.cron = timing.check_cron(item.cron)
            timing.zone(item.timezone)
            timing.after(item.cron, item.timezone, 0)
        except BadRequest as exc:
            raise BadRequest(f"{item.label}: {exc.message}") from None
        if not plan.user_exists(item.run_as):
            raise BadRequest(f"{item.label}: unknown user {item.run_as}")
        face, ns = item.namespace
        if not _may_run(plan, item.run_as, face, ns):
            raise BadRequest(
                f"{item.label}: user {item.run_as} has no {permission_of(face)} permission "
                f"in {face} {ns}"
            )
        if item.jobx is not None:
            _check_jobx(item)
        elif item.codearts is not None:
            _check_codearts(item)
        else:
            _check_scan(item, plan, stored)
        names = [s.name for s in store.of_owner(item.owner)]
        if names.count(item.name) > 1:
            raise BadRequest(f"{item.label}: several stored schedules have this name")


# ---- apply ---------------------------------------------------------------------------------


def _target(item: ScheduleItem, stored) -> dict[str, Any]:
    if item.jobx is not None:
        return item.jobx.model_dump()
    if item.codearts is not None:
        return {"face": CODEARTS, **item.codearts.model_dump()}
    found = _project(item.scan, stored)
    if found is None:  # checked, and tca_projects has been applied
        raise BadRequest(f"{item.label}: the scan project is not there")
    repo, project, scheme = found
    return {
        "team": item.scan.team,
        "repo_id": repo.repo_id,
        "project_id": project.project_id,
        "repo": item.scan.repo,
        "branch": item.scan.branch,
        "scheme": scheme.name,
    }


@section("schedules", ScheduleItem, order=70, check=_check, export=lambda p, a: _export(p, a))
def _apply(items: list[ScheduleItem], plan: Plan) -> dict[str, int]:
    from ..scans.workspace import Store

    counts, stored = tally(), Store()
    for item in items:
        target = _target(item, stored)
        spec = setting.Spec(item.name, item.cron, item.timezone, item.enabled, item.run_as)
        existing = next((s for s in store.of_owner(item.owner) if s.name == item.name), None)
        if existing is None:
            setting.create(item.kind, target, spec, CREATOR)
            counts["created"] += 1
        elif setting.differs(existing, target, spec):
            setting.update(existing, target, spec, CREATOR, item.label)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


# ---- export --------------------------------------------------------------------------------


def _rows(start: Any, limit: int) -> Iterator[tuple[ScheduleModel, Any]]:
    """Every schedule, kind by kind, each with the index key to go on from after it
    (`{"kind": k}` alone: the start of kind k)."""
    first = 0
    if start is not None:
        kind = start.get("kind", {}).get("S") if isinstance(start, dict) else None
        if kind not in KINDS:
            raise BadRequest("cursor is not valid", field="cursor")
        first = KINDS.index(kind)
        start = None if set(start) == {"kind"} else cursors.check_key(start, kind, *INDEX_KEY)
    for n, kind in enumerate(KINDS[first:], start=first):
        following = {"kind": {"S": KINDS[n + 1]}} if n + 1 < len(KINDS) else None
        while True:
            found = ScheduleModel.by_kind.query(kind, limit=limit, last_evaluated_key=start)
            keys = [(k.owner, k.sid) for k in found]
            more = found.last_evaluated_key
            items = {(i.owner, i.sid): i for i in ScheduleModel.batch_get(keys)} if keys else {}
            for i, key in enumerate(keys):
                item = items.get(key)
                if item is None:
                    continue  # deleted since the index was read
                if i < len(keys) - 1:
                    after = dict(
                        zip(
                            INDEX_KEY,
                            ({"S": kind}, {"S": item.kind_key}, {"S": item.owner}, {"S": item.sid}),
                            strict=True,
                        )
                    )
                else:
                    after = more if more is not None else following
                yield item, after
            if more is None:
                break
            start = more
        start = None


def _item(schedule: ScheduleModel, _: list[Any]) -> list[dict[str, Any]]:
    out: dict[str, Any] = {
        "name": schedule.name,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "enabled": bool(schedule.enabled),
        "run_as": schedule.run_as,
    }
    target = schedule.target or {}
    if schedule.kind == JOBX_KIND:
        out["jobx"] = {k: target.get(k) for k in ("project", "jobname", "group", "variable")}
    elif is_codearts(target):
        out["codearts"] = {k: target.get(k) for k in ("project", "task_id")}
    else:
        out["scan"] = {k: target.get(k) for k in ("team", "repo", "branch", "scheme")}
    return [out]


def _export(page: Page, at: Any) -> Any:
    return workspace.walk(page, at, _rows, _item)
