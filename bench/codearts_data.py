"""Bulk CodeArts tasks for the bench and the call-count test; importing it changes nothing."""

from __future__ import annotations

from chalicelib.core import ids


def bulk_tasks(project: str, count: int, like: str) -> None:
    """`count` more tasks in `project`, copies of task `like` (its repository, scan project
    and scheme), written straight to the table with the project's count raised to match:
    only the number of tasks matters here."""
    from chalicelib.codearts.models import CheckTaskModel, ProjectTasksModel

    model = CheckTaskModel.get(like)
    stamp = ids.now_ms() - count  # older than the tasks made through the face
    with CheckTaskModel.batch_write() as batch:
        for n in range(count):
            batch.save(
                CheckTaskModel(
                    f"{n:08x}{'b' * 24}",
                    project=project,
                    created_at=stamp + n,
                    name=f"bulk_{n}",
                    creator_id=model.creator_id,
                    git_url=model.git_url,
                    git_branch=model.git_branch,
                    languages=list(model.languages or []),
                    check_type=list(model.check_type or []),
                    repo_id=model.repo_id,
                    scan_project=model.scan_project,
                    scheme_id=model.scheme_id,
                )
            )
    ProjectTasksModel(project).update(actions=[ProjectTasksModel.task_count.add(count)])
