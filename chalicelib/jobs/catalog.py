"""What a JOBX project defines (seed 002): machine groups, jobs and the node inventory. A group's or job's name is unique per project: its claim item is written in the same transaction as the thing it names. Group ids are numbers from the project's sequence, as JOBX's auto-increment ids."""

from __future__ import annotations

import json
import re
from typing import Any

from ..core import cursors, ids, sequences
from ..core.errors import BadRequest, Conflict, NotFound
from . import batching, inventory
from .engine import now_ms
from .models import (
    GROUP_ID_WIDTH,
    CounterModel,
    GroupModel,
    JobModel,
    NameModel,
    NodeModel,
)
from .oplog import commit, oplog_item
from .schemas import ID, GroupIn, JobIn
from .views import render_group, render_job

DIGITS = re.compile(r"^[0-9]+$")  # JOBX's `^\d+$`, ASCII digits only


def next_ids(project: str, **counts: int) -> dict[str, int]:
    """Take ids from the project's sequences in one atomic ADD (see core.sequences)."""
    return sequences.take(CounterModel, project, **counts)


def _group_claim(project: str, name: str) -> str:
    return f"group:{project}:{name}"


def _page(
    model, render, project: str, limit: int, cursor: str | None, *, forward: bool = True
) -> dict[str, Any]:
    """A page of a project's groups or jobs, with the cursor of the next one."""
    start = cursors.start_key(cursor, project, "project", model._range_keyname)
    found = model.query(project, limit=limit, last_evaluated_key=start, scan_index_forward=forward)
    data = [render(item) for item in found]
    return {"data": data, "cursor": cursors.encode(found.last_evaluated_key)}


def _item(model, what: str, project: str, item_id: str):
    if not ID.match(item_id):
        raise NotFound(f"{what} {item_id[:64]} not found")
    try:
        return model.get(project, item_id)
    except model.DoesNotExist as exc:
        raise NotFound(f"{what} {item_id} not found") from exc


def _claimed(claim_key: str, what: str, name: str) -> str:
    """The id a unique name points at."""
    try:
        return NameModel.get(claim_key).target
    except NameModel.DoesNotExist as exc:
        raise NotFound(f"{what} {name} not found") from exc


def list_groups(project: str, limit: int = 1000, cursor: str | None = None) -> dict[str, Any]:
    """Newest first, as JOBX's `order by id desc`."""
    return _page(GroupModel, render_group, project, limit, cursor, forward=False)


def _group_key(group_id: str, missing: str) -> str:
    """The stored key of a group id from a route: digits only, as JOBX's routes."""
    if not DIGITS.match(group_id):
        raise BadRequest("check format fail id", field="id")
    number = group_id.lstrip("0") or "0"
    if len(number) > GROUP_ID_WIDTH:
        raise NotFound(missing)
    return number.zfill(GROUP_ID_WIDTH)


def _group(project: str, group_id: str, missing: str = "mismatch id") -> GroupModel:
    return _stored_group(project, _group_key(group_id, missing), missing)


def _stored_group(project: str, key: str, missing: str) -> GroupModel:
    try:
        return GroupModel.get(project, key)
    except GroupModel.DoesNotExist as exc:
        raise NotFound(missing) from exc


def get_group(project: str, group_id: str) -> dict[str, Any]:
    return render_group(_group(project, group_id))


def group_by_name(project: str, name: str) -> GroupModel:
    key = _claimed(_group_claim(project, name), "group", name)
    return _stored_group(project, key, f"group {name} not found")


def _clean_group(data: GroupIn) -> GroupIn:
    batching.validate_group(data.group_type, data.node, data.percent)
    if data.group_type == "list":
        data.percent = ""
    else:
        data.node = ""
    return data


def create_group(project: str, user: str, data: GroupIn) -> dict[str, Any]:
    data = _clean_group(data)
    _exists_or_conflict(_group_claim(project, data.name), "group", data.name)
    now = now_ms()
    number = next_ids(project, group=1)["group"]
    group = GroupModel(
        project,
        str(number).zfill(GROUP_ID_WIDTH),
        group_uuid=ids.random_alnum(12),
        name=data.name,
        note=data.note,
        group_type=data.group_type,
        node=data.node,
        percent=data.percent,
        create_user=user,
        create_time=now,
        edit_user=user,
        edit_time=now,
    )

    def write(tx):
        tx.save(group, condition=GroupModel.id.does_not_exist())
        tx.save(
            NameModel(_group_claim(project, data.name), target=group.id),
            condition=NameModel.key.does_not_exist(),
        )
        tx.save(oplog_item(project, user, "create group", data.name, data.group_type))

    commit(write)
    return render_group(group)


def _exists_or_conflict(claim_key: str, what: str, name: str) -> None:
    try:
        NameModel.get(claim_key)
    except NameModel.DoesNotExist:
        return
    raise Conflict(f"{what} {name} already exists")


def _update_named(
    record, record_id: str, claim, name: str, actions: list, project: str, user: str, what: str
) -> None:
    """Update a group or job under its version, moving its unique-name claim on a rename."""
    model, old_name, version = type(record), record.name, record.version
    if name != old_name:
        _exists_or_conflict(claim(project, name), what, name)
    actions = [
        *actions,
        model.name.set(name),
        model.edit_user.set(user),
        model.edit_time.set(now_ms()),
        model.version.set(version + 1),
    ]

    def write(tx):
        tx.update(record, actions=actions, condition=model.version == version)
        if name != old_name:
            tx.delete(NameModel(claim(project, old_name)))
            tx.save(
                NameModel(claim(project, name), target=record_id),
                condition=NameModel.key.does_not_exist(),
            )
        tx.save(oplog_item(project, user, f"update {what}", name, record_id))

    commit(write)


def _delete_named(record, claim, project: str, user: str, what: str, record_id: str) -> None:
    model = type(record)

    def write(tx):
        tx.delete(record, condition=model.version == record.version)
        tx.delete(NameModel(claim(project, record.name)))
        tx.save(oplog_item(project, user, f"delete {what}", record.name, record_id))

    commit(write)


def update_group(project: str, user: str, group_id: str, data: GroupIn) -> dict[str, Any]:
    """A new `group_uuid` at every edit: it names what the group holds now."""
    data = _clean_group(data)
    actions = [
        GroupModel.note.set(data.note),
        GroupModel.group_type.set(data.group_type),
        GroupModel.node.set(data.node),
        GroupModel.percent.set(data.percent),
        GroupModel.group_uuid.set(ids.random_alnum(12)),
    ]
    group = _group(project, group_id)
    _update_named(group, group.id, _group_claim, data.name, actions, project, user, "group")
    return get_group(project, group_id)


def delete_group(project: str, user: str, group_id: str) -> None:
    group = _group(project, group_id)
    _delete_named(group, _group_claim, project, user, "group", group.id)


def group_batches(project: str, group: GroupModel) -> list[list[str]]:
    universe = [] if group.group_type == "list" else [n.name for n in inventory.all_nodes(project)]
    return batching.resolve(group.group_type, group.node, group.percent, universe)


def group_nodes(project: str, group_id: str) -> list[list[str]]:
    return group_batches(project, _group(project, group_id, f"group id mismatch: {group_id}"))


def _job_claim(project: str, name: str) -> str:
    return f"job:{project}:{name}"


MAX_ITEM_BYTES = 300_000  # DynamoDB items stop at 400 KB; leave room for the rest


def _steps(data: JobIn) -> list[dict[str, Any]]:
    steps = []
    for step in data.steps:
        item = step.model_dump(by_alias=False)
        item["uuid"] = item.get("uuid") or ids.random_alnum(12)
        steps.append(item)
    if len({s["uuid"] for s in steps}) != len(steps):
        raise BadRequest("check format fail steps: step uuids must differ")
    if item_size(steps) + item_size(data.variable) > MAX_ITEM_BYTES:
        raise BadRequest(f"check format fail steps: the job is larger than {MAX_ITEM_BYTES} bytes")
    return steps


def item_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def list_jobs(project: str, limit: int = 1000, cursor: str | None = None) -> dict[str, Any]:
    return _page(JobModel, render_job, project, limit, cursor)


def _job(project: str, job_uuid: str) -> JobModel:
    return _item(JobModel, "job", project, job_uuid)


def get_job(project: str, job_uuid: str) -> dict[str, Any]:
    return render_job(_job(project, job_uuid))


def job_by_name(project: str, name: str) -> JobModel:
    return _job(project, _claimed(_job_claim(project, name), "job", name))


def create_job(project: str, user: str, data: JobIn) -> dict[str, Any]:
    now = now_ms()
    job = JobModel(
        project,
        ids.random_alnum(12),
        name=data.name,
        note=data.note,
        steps=_steps(data),
        variable=dict(data.variable),
        create_user=user,
        create_time=now,
        edit_user=user,
        edit_time=now,
    )
    _exists_or_conflict(_job_claim(project, data.name), "job", data.name)

    def write(tx):
        tx.save(job, condition=JobModel.uuid.does_not_exist())
        tx.save(
            NameModel(_job_claim(project, data.name), target=job.uuid),
            condition=NameModel.key.does_not_exist(),
        )
        tx.save(oplog_item(project, user, "create job", data.name, job.uuid))

    commit(write)
    return render_job(job)


def update_job(project: str, user: str, job_uuid: str, data: JobIn) -> dict[str, Any]:
    actions = [
        JobModel.note.set(data.note),
        JobModel.steps.set(_steps(data)),
        JobModel.variable.set(dict(data.variable)),
    ]
    job = _job(project, job_uuid)
    _update_named(job, job_uuid, _job_claim, data.name, actions, project, user, "job")
    return get_job(project, job_uuid)


def delete_job(project: str, user: str, job_uuid: str) -> None:
    _delete_named(_job(project, job_uuid), _job_claim, project, user, "job", job_uuid)


def save_node(project: str, user: str, item: inventory.NodeIn) -> None:
    """Create or replace a node of the inventory, with its log line."""
    inventory.require_reachable(project, [item])
    node = inventory.node_item(project, item)
    commit(
        lambda tx: (
            tx.save(node),
            tx.save(oplog_item(project, user, "save node", item.name, item.executor)),
        )
    )


def delete_node(project: str, user: str, name: str) -> None:
    node = inventory.existing(project, name)

    def write(tx):
        tx.delete(node, condition=NodeModel.name.exists())
        tx.save(oplog_item(project, user, "delete node", name))

    commit(write)


def list_nodes(project: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the project's node inventory, in name order."""
    items, last = inventory.page(
        project, limit, cursors.start_key(cursor, project, "project", "name")
    )
    return {"data": [inventory.render(n) for n in items], "cursor": cursors.encode(last)}


GROUP_NAMES_MAX = 5000  # names one `/third/option/groupname` answer holds


def group_names(project: str) -> list[str]:
    """The project's group names, at most GROUP_NAMES_MAX (five pages of groups)."""
    names: list[str] = []
    cursor = None
    while len(names) < GROUP_NAMES_MAX:
        page = list_groups(project, 1000, cursor)
        names += [g["name"] for g in page["data"]]
        cursor = page["cursor"]
        if not cursor:
            break
    return names[:GROUP_NAMES_MAX]
