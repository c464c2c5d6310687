"""Input shapes of the ONES task API (seed 001), as pydantic models.

Unknown top-level keys are ignored, as ONES ignores them: the fields the document marks
as not settable (owner on update, number, create_time, ...) are not part of these shapes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from .fields import MAX_SECONDS

MAX_SUMMARY = 1024
MAX_DESC = 65536
MAX_BATCH = 100
RESERVE_CONTENTS = (
    "cycle",
    "relatedTask",
    "subTask",
    "testing",
    "relatedWiki",
    "attachment",
    "watcher",
    "allManhour",
)


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TaskCreate(Loose):
    uuid: StrictStr
    owner: StrictStr | None = Field(default=None, max_length=8)
    assign: StrictStr | None = Field(default=None, max_length=8)
    parent_uuid: StrictStr | None = Field(default="", max_length=16)
    sprint_uuid: StrictStr | None = Field(default=None, max_length=16)
    project_uuid: StrictStr = Field(max_length=16)
    issue_type_uuid: StrictStr | None = Field(default="", max_length=16)
    sub_issue_type_uuid: StrictStr | None = Field(default="", max_length=16)
    summary: StrictStr | None = Field(default=None, max_length=MAX_SUMMARY)
    desc: StrictStr | None = Field(default=None, max_length=MAX_DESC)
    desc_rich: StrictStr | None = Field(default=None, max_length=MAX_DESC)
    priority: StrictStr | None = Field(default=None, max_length=8)
    deadline: StrictInt | None = Field(default=None, ge=0, le=MAX_SECONDS)
    assess_manhour: StrictInt | None = Field(default=None, ge=0, le=2**53)  # not on update
    product_uuids: list[StrictStr] | None = Field(default=None, max_length=100)
    field_values: list[Any] | None = Field(default=None, max_length=200)
    watchers: list[StrictStr] | None = Field(default=None, max_length=200)


class TaskUpdate(Loose):
    uuid: StrictStr
    assign: StrictStr | None = Field(default=None, max_length=8)
    parent_uuid: StrictStr | None = Field(default=None, max_length=16)
    sprint_uuid: StrictStr | None = Field(default=None, max_length=16)
    summary: StrictStr | None = Field(default=None, max_length=MAX_SUMMARY)
    desc: StrictStr | None = Field(default=None, max_length=MAX_DESC)
    desc_rich: StrictStr | None = Field(default=None, max_length=MAX_DESC)
    priority: StrictStr | None = Field(default=None, max_length=8)
    deadline: StrictInt | None = Field(default=None, ge=0, le=MAX_SECONDS)
    field_values: list[Any] | None = Field(default=None, max_length=200)
    server_update_stamp: StrictInt | None = None


class Batch(Loose):
    tasks: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class Login(Loose):
    email: StrictStr = Field(min_length=3, max_length=254)
    password: StrictStr = Field(min_length=1, max_length=256)


class Copy(Loose):
    project_uuid: StrictStr = Field(min_length=1, max_length=16)
    issue_type_uuid: StrictStr = Field(min_length=1, max_length=16)
    status_uuid: StrictStr = Field(min_length=1, max_length=8)
    reserve_contents: list[Literal[RESERVE_CONTENTS]] | None = Field(  # type: ignore[valid-type]
        default=None, max_length=len(RESERVE_CONTENTS)
    )


class Ids(Loose):
    ids: list[StrictStr] = Field(min_length=1, max_length=MAX_BATCH)


class Transit(Loose):
    transition_uuid: StrictStr = Field(min_length=1, max_length=8)


class Relate(Loose):
    task_uuids: list[StrictStr] = Field(min_length=1, max_length=20)
    task_link_type_uuid: StrictStr = Field(default="UUID0001", min_length=1, max_length=8)
    link_desc_type: Literal["link_out_desc", "link_in_desc"] = "link_out_desc"


class Unrelate(Loose):
    task_uuids: list[StrictStr] = Field(min_length=1, max_length=20)


class ListQuery(Loose):
    project_uuid: StrictStr | None = Field(default=None, max_length=16)
    status_category: Literal["to_do", "in_progress", "done"] | None = None
    assign: StrictStr | None = Field(default=None, max_length=8)
    sprint_uuid: StrictStr | None = Field(default=None, max_length=16)
    limit: int = Field(default=50, ge=1, le=100)
    cursor: StrictStr | None = Field(default=None, max_length=512)


class PageQuery(Loose):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: StrictStr | None = Field(default=None, max_length=512)
