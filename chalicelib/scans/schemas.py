"""What the scan domain accepts, as pydantic models; the faces parse into these.

Form bodies arrive as strings, so booleans and integers are parsed leniently where TCA's
serializers are ("true", "1", "20"); unknown fields are ignored, as DRF ignores them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import FACE_TCA as FACE_TCA

LANGUAGES = ("python", "shell")  # those a linter here covers; others are kept, not linted
METRIC_DEFAULTS = {
    "cc_scan_enabled": False,
    "min_ccn": 20,
    "dup_scan_enabled": False,
    "dup_block_length_min": 120,
    "dup_block_length_max": None,
    "dup_min_dup_times": 2,
    "dup_max_dup_times": None,
    "dup_min_midd_rate": 5,
    "dup_min_high_rate": 11,
    "dup_min_exhi_rate": 20,
    "dup_issue_limit": 1000,
    "cloc_scan_enabled": True,
}


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ScmAccount(Loose):
    scm_username: str = Field(min_length=1, max_length=128)
    scm_password: str = Field(min_length=1, max_length=1024)


class ScmAuth(Loose):
    auth_type: Literal["password", "token"] = "password"
    scm_account: ScmAccount


class RepoIn(Loose):
    scm_url: str = Field(min_length=1, max_length=512)
    scm_type: Literal["git", "svn"]
    name: str | None = Field(default=None, max_length=128)
    ssh_url: str | None = Field(default=None, max_length=512)
    created_from: str = Field(default="api", max_length=32)
    labels: list[str] = Field(default_factory=list, max_length=50)
    scm_auth: ScmAuth | None = None


class ProjectIn(Loose):
    branch: str = Field(min_length=1, max_length=200)
    scan_scheme_id: int | None = Field(default=None, ge=1)
    global_scheme_id: int | None = Field(default=None, ge=1)
    custom_scheme_name: str | None = Field(default=None, max_length=128)
    scan_path: str | None = Field(default=None, max_length=512)
    created_from: str = Field(default="api", max_length=32)


class BasicConfIn(Loose):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=512)
    languages: list[str] | None = Field(default=None, max_length=50)
    tag: str | None = Field(default=None, max_length=64)
    status: int | None = Field(default=None, ge=1, le=2)  # 1 active, 2 deprecated
    default_flag: bool | None = None
    exclude: list[str] | None = Field(default=None, max_length=200)

    @field_validator("languages", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """A form body names languages as `python,shell`."""
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [str(v).strip().lower() for v in value]
        return value


class LintConfIn(Loose):
    enabled: bool | None = None
    build_cmd: str | None = Field(default=None, max_length=2048)
    envs: str | None = Field(default=None, max_length=2048)
    pre_cmd: str | None = Field(default=None, max_length=2048)


class MetricConfIn(Loose):
    """TCA's metricconf: every field optional; what is left out keeps its value."""

    cc_scan_enabled: bool | None = None
    min_ccn: int | None = Field(default=None, ge=1, le=1000)
    dup_scan_enabled: bool | None = None
    dup_block_length_min: int | None = Field(default=None, ge=10, le=100000)
    dup_block_length_max: int | None = Field(default=None, ge=10, le=100000)
    dup_min_dup_times: int | None = Field(default=None, ge=2, le=1000)
    dup_max_dup_times: int | None = Field(default=None, ge=2, le=100000)
    dup_min_midd_rate: int | None = Field(default=None, ge=0, le=100)
    dup_min_high_rate: int | None = Field(default=None, ge=0, le=100)
    dup_min_exhi_rate: int | None = Field(default=None, ge=0, le=100)
    dup_issue_limit: int | None = Field(default=None, ge=1, le=100000)
    cloc_scan_enabled: bool | None = None


class ScanIn(Loose):
    """scans/create: `incr_scan` None means the body did not say (an incremental scan)."""

    incr_scan: bool | None = None
    async_flag: bool | None = None
    force_create: bool = False
    created_from: str = Field(default="api", max_length=32)
    # webhook URLs told when the scan ends, on the allow-list of the team's namespace
    callbacks: list[Annotated[str, Field(min_length=1, max_length=2048)]] = Field(
        default_factory=list, max_length=5
    )


class CancelIn(Loose):
    remarks: str = Field(min_length=1, max_length=512)
    force: bool = False
