"""What the CodeArts face accepts: the SDK's request bodies (`v2/model/*.py`) as pydantic
models, with the JSON types the SDK sends. Unknown fields are ignored, as the SDK's own
models drop them; a wrong type is refused (the SDK never sends one)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from . import FACE as FACE  # the face's name, kept here for the domain's modules

Text = StrictStr


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class RuleSetIn(Loose):
    ruleset_id: Text | None = Field(default=None, max_length=64)
    language: Text | None = Field(default=None, max_length=32)


class IncConfigIn(Loose):
    parent_task_id: Text | None = Field(default=None, max_length=64)
    git_source_branch: Text | None = Field(default=None, max_length=200)
    git_target_branch: Text | None = Field(default=None, max_length=200)
    merge_id: Text | None = Field(default=None, max_length=64)
    event_type: Text | None = Field(default=None, max_length=64)
    action: Text | None = Field(default=None, max_length=64)
    title: Text | None = Field(default=None, max_length=512)


class CreateTaskIn(Loose):
    """CreateTaskRequestV2. `rule_sets`, `endpoint_id`, `inc_config`, `enable_fossbot` and
    `resource_pool_id` are accepted and kept or ignored: this engine has no rule sets,
    endpoints or resource pools."""

    git_url: Text = Field(min_length=1, max_length=512)
    git_branch: Text = Field(min_length=1, max_length=200)
    check_type: list[Text] = Field(default_factory=lambda: ["source"], max_length=10)
    language: list[Text] = Field(default_factory=list, max_length=20)
    rule_sets: list[RuleSetIn] = Field(default_factory=list, max_length=20)
    task_type: Literal["full", "inc"] = "full"
    username: Text | None = Field(default=None, max_length=128)
    access_token: Text | None = Field(default=None, max_length=1024)
    endpoint_id: Text | None = Field(default=None, max_length=64)
    inc_config: IncConfigIn | None = None
    enable_fossbot: StrictBool | None = None
    resource_pool_id: Text | None = Field(default=None, max_length=64)

    @field_validator("language")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            name = item.strip().lower()
            if not name or len(name) > 32 or not all(c.isalnum() or c in "+#._-" for c in name):
                raise ValueError(f"not a language: {item[:32]!r}")
            out.append(name)
        return list(dict.fromkeys(out))

    @field_validator("check_type")
    @classmethod
    def _check_types(cls, value: list[str]) -> list[str]:
        if any(not item or len(item) > 32 for item in value):
            raise ValueError("a check type is 1 to 32 characters")
        return value


class RunIn(Loose):
    """RunRequestV2: a run of the task's own repository and branch. A git_url or git_branch
    naming another one is refused (a task scans what it was made for)."""

    username: Text | None = Field(default=None, max_length=128)
    access_token: Text | None = Field(default=None, max_length=1024)
    git_url: Text | None = Field(default=None, max_length=512)
    git_branch: Text | None = Field(default=None, max_length=200)
    # webhook URLs told when the run ends, on the allow-list of the CodeArts project
    callbacks: list[Annotated[Text, Field(min_length=1, max_length=2048)]] = Field(
        default_factory=list, max_length=5
    )


class DefectStatusIn(Loose):
    """UpdateDefectRequestBody: `defect_id` a comma list of ids, `defect_status` 0 pending,
    1 resolved, 2 ignored."""

    defect_id: Text = Field(min_length=1, max_length=2000)
    defect_status: Literal["0", "1", "2"]

    @field_validator("defect_status", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        """The SDK sends a string; a REST caller may send the number."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value
