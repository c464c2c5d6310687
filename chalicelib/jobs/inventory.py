"""The node inventory of a JOBX project (seed 002): which machines a group may name, and how
each is reached (`local` on the worker host, or `ssm` with an instance id).

Loaded through the workspace document section `jobx_nodes` (and the `/jobx/node` routes), and
exported from it project by project, over the `jobx` namespaces.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core import aws, cursors, workspace
from ..core.errors import BadRequest, NotFound
from ..core.identity import service as identity
from .batching import NODE_NAME
from .models import NodeModel

INSTANCE_ID = re.compile(r"^(i|mi)-[0-9a-f]{8,17}$")


class NodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=128)
    address: str = Field(default="", max_length=255)
    labels: dict[str, str] = Field(default_factory=dict, max_length=50)
    executor: Literal["local", "ssm"] = "local"
    instance_id: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _check(self) -> NodeIn:
        if not NODE_NAME.match(self.name):
            raise ValueError(f"bad node name {self.name!r}")
        if self.executor == "ssm" and not (
            self.instance_id and INSTANCE_ID.match(self.instance_id)
        ):
            raise ValueError("an ssm node needs instance_id like i-0123456789abcdef0")
        if self.executor == "local":
            self.instance_id = None
        return self


class NodeItem(NodeIn):
    """One line of the workspace section: a node of a project, or `absent: true` to remove."""

    project: str = Field(min_length=1, max_length=64)
    absent: bool = False


def render(node: NodeModel) -> dict[str, Any]:
    return {
        "name": node.name,
        "address": node.address or node.name,
        "labels": node.labels or {},
        "executor": node.executor,
        "instance_id": node.instance_id,
    }


def get(project: str, name: str) -> dict[str, Any]:
    if not NODE_NAME.match(name):
        raise NotFound(f"node {name[:128]} not found")
    try:
        return render(NodeModel.get(project, name))
    except NodeModel.DoesNotExist as exc:
        raise NotFound(f"node {name} not found") from exc


def all_nodes(project: str) -> list[NodeModel]:
    """The project's inventory in stable (name) order: the universe of percent groups."""
    return list(NodeModel.query(project))


def some_nodes(project: str, names: list[str]) -> dict[str, NodeModel]:
    """The named nodes of the project that exist (BatchGet, 100 keys a call)."""
    wanted = [(project, name) for name in dict.fromkeys(names)]
    return {n.name: n for n in NodeModel.batch_get(wanted)}


def page(project: str, limit: int, start: dict | None) -> tuple[list[NodeModel], dict | None]:
    found = NodeModel.query(project, limit=limit, last_evaluated_key=start)
    items = list(found)
    return items, found.last_evaluated_key


def node_item(project: str, item: NodeIn) -> NodeModel:
    return NodeModel(
        project,
        item.name,
        address=item.address,
        labels=dict(item.labels),
        executor=item.executor,
        instance_id=item.instance_id,
    )


def same(current: NodeModel, wanted: NodeModel) -> bool:
    return all(
        getattr(current, k) == getattr(wanted, k)
        for k in ("address", "labels", "executor", "instance_id")
    )


def upsert(project: str, item: NodeIn) -> bool:
    """Create or replace a node; returns True when something changed."""
    wanted = node_item(project, item)
    try:
        if same(NodeModel.get(project, item.name), wanted):
            return False
    except NodeModel.DoesNotExist:
        pass
    wanted.save()
    return True


def existing(project: str, name: str) -> NodeModel:
    if not NODE_NAME.match(name):
        raise NotFound(f"node {name[:128]} not found")
    try:
        return NodeModel.get(project, name)
    except NodeModel.DoesNotExist as exc:
        raise NotFound(f"node {name} not found") from exc


def require_reachable(project: str, items: list[NodeIn], where: str = "") -> None:
    """Nodes may be registered only with an executor the stage runs, and SSM nodes only for
    instances that carry the project's tag: a member cannot point a project at any machine
    of the account. One tag lookup per 200 instances."""
    from ..core.policies import TAG_KEY
    from .executors import enabled

    for item in items:
        if not enabled(item.executor):
            raise BadRequest(f"{where}{item.name}: the {item.executor} executor is off here")
    instances = sorted({i.instance_id for i in items if i.executor == "ssm" and i.instance_id})
    tags = _instance_tags(instances)
    for instance in instances:
        if tags.get(instance) != project:
            raise BadRequest(
                f"{where}instance {instance} does not carry the tag {TAG_KEY}={project}"
            )


def _instance_tags(instances: list[str]) -> dict[str, str]:
    """Each instance's project tag: EC2's for `i-`, Systems Manager's for managed `mi-`."""
    from ..core.policies import TAG_KEY

    found: dict[str, str] = {}
    try:
        ec2 = [i for i in instances if not i.startswith("mi-")]
        for start in range(0, len(ec2), 200):
            filters = [
                {"Name": "resource-id", "Values": ec2[start : start + 200]},
                {"Name": "key", "Values": [TAG_KEY]},
            ]
            pages = aws.client("ec2").get_paginator("describe_tags").paginate(Filters=filters)
            for page in pages:
                for tag in page["Tags"]:
                    found[tag["ResourceId"]] = tag.get("Value", "")
        for instance in (i for i in instances if i.startswith("mi-")):
            tags = aws.client("ssm").list_tags_for_resource(
                ResourceType="ManagedInstance", ResourceId=instance
            )["TagList"]
            value = next((t["Value"] for t in tags if t.get("Key") == TAG_KEY), None)
            if value is not None:
                found[instance] = value
    except Exception as exc:
        raise BadRequest("cannot read the tags of the instances") from exc
    return found


def _check(items: list[NodeItem], plan: workspace.Plan) -> None:
    planned = {ns.id for ns in plan.get("namespaces") if ns.face == "jobx"}
    for project in sorted({item.project for item in items} - planned):
        if identity.get_namespace("jobx", project) is None:
            raise BadRequest(f"jobx_nodes: project {project} is not a jobx namespace")
    seen: set[tuple[str, str]] = set()
    for item in items:
        if (item.project, item.name) in seen:
            raise BadRequest(f"jobx_nodes: {item.project}/{item.name} listed twice")
        seen.add((item.project, item.name))
    for project in sorted({item.project for item in items}):
        wanted = [i for i in items if i.project == project and not i.absent]
        require_reachable(project, wanted, f"jobx_nodes: {project}/")


def _projects(start: Any, limit: int):
    return identity.namespaces_of_face("jobx", limit, start)


def _nodes(ns: identity.Namespace, start: Any, limit: int) -> tuple[list[NodeModel], Any]:
    return page(ns.ns_id, limit, cursors.check_key(start, ns.ns_id, "project", "name"))


def _node_items(ns: identity.Namespace, nodes: list[NodeModel]) -> list[dict[str, Any]]:
    return [
        {
            "project": node.project,
            "name": node.name,
            "address": node.address or "",
            "labels": node.labels or {},
            "executor": node.executor,
            "instance_id": node.instance_id,
        }
        for node in nodes
    ]


def _export(out: workspace.Page, at: Any) -> Any:
    """The nodes of every jobx namespace (only those can be applied), in name order."""
    return workspace.walk(out, at, _projects, _node_items, _nodes)


@workspace.section("jobx_nodes", NodeItem, order=50, check=_check, export=_export)
def _apply(items: list[NodeItem], plan: workspace.Plan) -> dict[str, int]:
    """One BatchGet per 100 nodes to see what is there, one BatchWrite per 25 changes."""
    counts = workspace.tally()
    wanted = {(item.project, item.name): item for item in items}
    current = {(n.project, n.name): n for n in NodeModel.batch_get(list(wanted))}
    with NodeModel.batch_write() as batch:
        for key, item in wanted.items():
            found = current.get(key)
            if item.absent:
                if found is not None:
                    batch.delete(found)
                counts["updated" if found is not None else "unchanged"] += 1
                continue
            node = node_item(item.project, NodeIn(**item.model_dump(exclude={"project", "absent"})))
            if found is not None and same(found, node):
                counts["unchanged"] += 1
                continue
            batch.save(node)
            counts["updated" if found is not None else "created"] += 1
    return counts
