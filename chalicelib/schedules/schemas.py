"""Request bodies of the schedule routes and the workspace section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..jobs.schemas import Given, Strict

USER_UUID = r"^[A-Za-z0-9]{8}$"


class When(Strict):
    cron: str = Field(min_length=1, max_length=256)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    run_as: str | None = Field(default=None, pattern=USER_UUID)


class CrontabIn(When, Given):
    """`POST /jobx/crontab/{projectid}` and its edit: open-c3's JOB crontab fields for a JOBX
    run (a job by name over a group, with variables), plus the zone and whom it runs as."""

    name: str = Field(min_length=1, max_length=128)
    jobname: str = Field(min_length=1, max_length=128)
    group: str = Field(min_length=1, max_length=128)
    status: Literal["available", "unavailable"] = "available"


class StatusIn(Strict):
    status: Literal["available", "unavailable"]
