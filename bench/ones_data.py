"""Bulk ONES tasks for the bench and the call-count test; importing it changes nothing."""

from __future__ import annotations

from chalicelib.core import ids


def bulk_tasks(
    count: int,
    first: int,
    *,
    team: str,
    user: str,
    project: str,
    sprint: str,
    issue_type: str,
    status: str,
) -> None:
    """Plain to-do tasks written straight to the tables, to grow a team quickly.

    Bypasses the stats counters on purpose: only the number of items matters here.
    """
    from chalicelib.workitems import numbers as team_numbers
    from chalicelib.workitems.creating import index_keys
    from chalicelib.workitems.models import TaskModel, TaskNumberModel

    stamp = ids.now_us()
    with TaskModel.batch_write() as tasks, TaskNumberModel.batch_write() as numbers:
        for number in range(first, first + count):
            uuid = f"{user}{number:08d}"
            task = TaskModel(
                uuid=uuid,
                team_uuid=team,
                number=number,
                owner=user,
                assign=user,
                project_uuid=project,
                issue_type_uuid=issue_type,
                status_uuid=status,
                status_category="to_do",
                sprint_uuid=sprint,
                summary=f"bulk {number}",
                path=uuid,
                create_time=stamp,
                update_time=stamp,
                server_update_stamp=stamp,
            )
            index_keys(task)
            tasks.save(task)
            key = team_numbers.map_key(team, number)
            numbers.save(TaskNumberModel(team_uuid=key, number=number, task_uuid=uuid))
    team_numbers.skip_past(team, first + count - 1)
