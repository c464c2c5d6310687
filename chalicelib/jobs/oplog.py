"""The operation log of a JOBX project (seed 002 `/log/:projectid`): one line per write or control, written in the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from ..core import cursors, ids, resources
from ..core.errors import Conflict
from .models import (
    OpLogModel,
)
from .views import fmt_time


def oplog_item(
    project: str, user: str, action: str, target: str = "", detail: str = ""
) -> OpLogModel:
    now = ids.now_us()
    return OpLogModel(
        project=project,
        at=f"{now:016d}#{ids.random_alnum(6)}",
        time=now // 1000,
        user=user,
        action=action,
        target=target[:256],
        detail=detail[:2000],
    )


def list_oplog(project: str, limit: int, cursor: str | None) -> dict[str, Any]:
    found = OpLogModel.query(
        project,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=cursors.start_key(cursor, project, "project", "at"),
    )
    data = [
        {
            "time": fmt_time(item.time),
            "user": item.user,
            "action": item.action,
            "target": item.target,
            "detail": item.detail,
        }
        for item in found
    ]
    return {"data": data, "cursor": cursors.encode(found.last_evaluated_key)}


def commit(tx_fn) -> None:
    try:
        with resources.transaction() as tx:
            tx_fn(tx)
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            raise Conflict("changed by someone else meanwhile, or the name is taken") from exc
        raise
