"""Request shapes of the JOBX face (seed 002), validated with pydantic before any write."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import FACE as FACE

VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
TASK_UUID = r"^[A-Za-z0-9]{12}$"
# a deploy's uuid ends in a lower-case letter: the same uuid upper-cased at the end is its
# rollback's (JOBX's `get_rollback_uuid`, which the web UI inverts)
DEPLOY_UUID = r"^[A-Za-z0-9]{11}[a-z]$"
MAX_FAIL = re.compile(r"^([0-9]{1,6}|[0-9]{1,3}(\.[0-9]+)?%)$")
# names a shell, an interpreter or the loader turns into code or code paths (bash expands
# BASH_ENV with command substitution and sources the result); a variable may not set them
RESERVED_NAMES = frozenset(
    [
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "PROMPT_COMMAND",
        "IFS",
        "PATH",
        "CDPATH",
        "GLOBIGNORE",
        "BASH_XTRACEFD",
        "EXECIGNORE",
        "PERL5OPT",
        "PERL5LIB",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "JAVA_TOOL_OPTIONS",
        "GCONV_PATH",
    ]
)
RESERVED_PREFIXES = ("LD_", "DYLD_", "PYTHON", "BASH_FUNC_", "TASKHUB_", "AWS_")


def reserved_name(name: str) -> bool:
    """True for a name a variable may not set (see RESERVED_NAMES)."""
    return name in RESERVED_NAMES or name.upper().startswith(RESERVED_PREFIXES)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _variables(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be an object of name -> value")
    if len(value) > 100:
        raise ValueError("at most 100 variables")
    out: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not re.match(VAR_NAME, key):
            raise ValueError(f"bad variable name {str(key)[:64]!r}")
        if reserved_name(key):
            raise ValueError(f"{key} is reserved: the shell or the loader would read it")
        if isinstance(val, bool) or not isinstance(val, str | int | float):
            raise ValueError(f"variable {key} must be a string or number")
        text = str(val)
        if len(text) > 4096:
            raise ValueError(f"variable {key} is longer than 4096 characters")
        if "\x00" in text:  # an environment value cannot hold a NUL byte
            raise ValueError(f"variable {key} holds a NUL character")
        out[key] = text
    return out


def _note_numbers(data: Any) -> Any:
    """Before validation: the variables given as JSON numbers. Values become strings for the
    steps; JOBX's YAML text writes a number plain and a number-like string quoted."""
    if isinstance(data, dict):
        variable = data.get("variable")
        numbers = []
        if isinstance(variable, dict):
            numbers = [
                k
                for k, v in variable.items()
                if type(v) is int or (type(v) is float and math.isfinite(v))
            ]
        data = {**data, "numeric": numbers}
    return data


CallbackUrl = Annotated[str, Field(min_length=1, max_length=2048)]


class Given(Strict):
    """A body with the caller's `variable`, which is kept as given for the wire, and the
    webhook URLs told when the task ends (`callback`, `callbacks`: on the project's
    allow-list)."""

    variable: dict[str, str] = Field(default_factory=dict)
    numeric: list[str] = Field(default_factory=list, exclude=True)
    callback: CallbackUrl | None = None
    callbacks: list[CallbackUrl] = Field(default_factory=list, max_length=5)

    def callback_urls(self) -> list[str]:
        return [*([self.callback] if self.callback else []), *self.callbacks]

    _check_variable = field_validator("variable", mode="before")(_variables)
    _numbers = model_validator(mode="before")(_note_numbers)

    def given(self) -> dict[str, Any]:
        """The variables as the caller gave them: numbers as numbers."""
        numbers = set(self.numeric)
        return {k: json.loads(v) if k in numbers else v for k, v in self.variable.items()}


class GroupIn(Strict):
    name: str = Field(min_length=1, max_length=128)
    note: str = Field(default="", max_length=1024)
    group_type: Literal["list", "percent"]
    node: str = Field(default="", max_length=200_000)
    percent: str = Field(default="", max_length=256)


class StepIn(Strict):
    """One step of a job: `cmd` (a script), `scp` (a file to nodes) or `approval` (a gate)."""

    uuid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{12}$")
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["cmd", "scp", "approval"] = Field(alias="plugin_type", default="cmd")
    timeout: int | None = Field(default=None, ge=1, le=7 * 86400)
    pause: bool = False
    action: Literal["deploy", "rollback", "always"] = "always"
    batches: Literal["firsttime", "thelasttime", "notfirsttime", "notthelasttime", "always"] = (
        "always"
    )
    # cmd
    user: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    interpreter: Literal["bash", "sh", "python3"] = "bash"
    script: str = Field(default="", max_length=65536)
    # scp
    content: str = Field(default="", max_length=65536)
    dst: str = Field(default="", max_length=1024)
    mode: str = Field(default="0644", pattern=r"^0?[0-7]{3}$")
    # approval
    approvers: list[str] = Field(default_factory=list, max_length=50)
    note: str = Field(default="", max_length=1024)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, populate_by_name=True)

    @model_validator(mode="after")
    def _by_kind(self) -> StepIn:
        if self.kind == "cmd" and not self.script.strip():
            raise ValueError("a cmd step needs a script")
        if self.kind == "scp" and (
            not re.match(r"^/[A-Za-z0-9._/@+-]+$", self.dst) or "/../" in self.dst + "/"
        ):
            raise ValueError("an scp step needs dst, an absolute path")
        if self.timeout is None:
            self.timeout = 86400 if self.kind == "approval" else 60
        return self


class JobIn(Strict):
    name: str = Field(min_length=1, max_length=128)
    note: str = Field(default="", max_length=1024)
    steps: list[StepIn] = Field(min_length=1, max_length=50)
    variable: dict[str, str] = Field(default_factory=dict)

    _check_variable = field_validator("variable", mode="before")(_variables)


class RunIn(Given):
    """`POST /task/:projectid/job/byname`, plus the extensions max_fail and batch_mode."""

    jobname: str = Field(min_length=1, max_length=128)
    group: str = Field(min_length=1, max_length=128)
    uuid: str | None = Field(default=None, pattern=DEPLOY_UUID)
    max_fail: str | None = Field(default=None, max_length=16)
    batch_mode: Literal["stop", "continue", "confirm"] = "stop"

    @field_validator("max_fail", mode="before")
    @classmethod
    def _max_fail(cls, value: Any) -> str | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        if not MAX_FAIL.match(text) or (text.endswith("%") and float(text[:-1]) > 100):
            raise ValueError("a count (3) or a percentage (10%)")
        return text


class ThirdParams(Given):
    jobname: str = Field(min_length=1, max_length=128)
    group: str = Field(min_length=1, max_length=128)


class ThirdIn(Strict):
    """The task's uuid is the caller's first 11 characters and the letter of `retry_count`."""

    project_id: str = Field(min_length=1, max_length=64)
    uuid: str = Field(pattern=TASK_UUID)
    retry_count: int = Field(default=0, ge=0, le=1_000_000)
    params: ThirdParams


class UuidIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uuid: str = Field(pattern=TASK_UUID)
    retry_count: int = Field(default=0, ge=0, le=1_000_000)


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    project_id: str = Field(min_length=1, max_length=64)


class RetryIn(Strict):
    only_failed: bool = False


class ApproveIn(Strict):
    opinion: Literal["agree", "refuse"] = "agree"


TASK_UUID = re.compile(r"^[A-Za-z0-9]{12}$")
ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
