"""DTask tasks and their links (seed 000): the logic, with no HTTP or envelope knowledge.

A task item keeps `links` as target -> string set; the reverse index keeps one item per
(target#id, task). Every change to a link writes both in one TransactWrite, so the index
never disagrees with the tasks. No request path scans: the reverse lookup and the
unlink-from-all page through the index by key. A transaction that loses a race is tried
again, with `core.retry`'s backoff, for as long as its budget lasts; then the answer is 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from ..core import cursors, ids, resources, retry
from ..core.errors import BadRequest, Conflict, NotFound
from . import connectors, targets
from .config import links_config
from .models import ItemLinkModel, LinkIndexModel, TaskModel

TASK_ID_LEN = 24
PAGE = 50  # index items per unlink-from-all transaction: 2 writes each, 100 per transaction
RETRY_BUDGET_S = retry.BUDGET_S  # seconds a change keeps trying before it answers 409


def link_key(target: str, target_id: str) -> str:
    return f"{target}#{target_id}"


def check_task_id(task_id: str) -> str:
    """The canonical (lower-case) id, or BadRequest."""
    canonical = task_id.lower()
    if len(canonical) != TASK_ID_LEN or any(c not in "0123456789abcdef" for c in canonical):
        raise BadRequest(f"invalid task_id {task_id[:40]!r}: expected 24 hex characters")
    return canonical


def _load(task_id: str) -> TaskModel:
    try:
        return TaskModel.get(check_task_id(task_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"task {task_id} not found") from exc


def _links(model: TaskModel) -> dict[str, list[str]]:
    raw = model.links.attribute_values if model.links is not None else {}
    return {t: targets.sort_ids(v) for t, v in sorted(raw.items()) if v}


def _is_cancelled(exc: TransactWriteError) -> bool:
    return exc.cause_response_code == "TransactionCanceledException"


def _committed(write: Callable[[], None]) -> bool:
    """False when DynamoDB cancelled the transaction (a condition failed or a concurrent
    transaction won); nothing was written then, so the caller may look and try again."""
    try:
        write()
    except TransactWriteError as exc:
        if not _is_cancelled(exc):
            raise
        return False
    return True


def _until_settled(step: Callable[[], bool | None], conflict: str) -> bool:
    """Run `step` until it settles (True: changed, False: nothing to change) rather than
    losing a race (None); Conflict once RETRY_BUDGET_S is spent."""
    settled: list[bool] = []

    def attempt(_: int) -> bool:
        outcome = step()
        if outcome is not None:
            settled.append(outcome)
        return outcome is not None

    if not retry.until_done(attempt, budget_s=RETRY_BUDGET_S):
        raise Conflict(conflict)
    return settled[0]


# ---- tasks --------------------------------------------------------------------------------


def create_task() -> str:
    created = ids.now_ms()  # one reading: the id's second and `createAt` agree
    task = TaskModel(task_id=ids.object_id(created // 1000), create_at=created, links={})
    task.save(condition=TaskModel.task_id.does_not_exist())
    return task.task_id


def get_task(task_id: str) -> dict:
    """The task as the original stored it: `tower_todo` only once one is set."""
    model = _load(task_id)
    task = {"_id": model.task_id, "createAt": int(model.create_at)}
    if model.tower_todo:
        task["tower_todo"] = model.tower_todo
    task["link"] = _links(model)
    return task


def delete_task(task_id: str) -> None:
    """Remove the task and all its index entries in one transaction, at the version read,
    so a link made concurrently either lands before (and is removed) or fails."""

    def step() -> bool | None:
        model = _load(task_id)  # gone meanwhile: NotFound
        return True if _committed(lambda: _delete_tx(model)) else None

    _until_settled(step, f"task {task_id} is changing too fast to delete; try again")


def _delete_tx(model: TaskModel) -> None:
    with resources.transaction() as tx:
        tx.delete(model, condition=TaskModel.version == model.version)
        for target, values in _links(model).items():
            for value in values:
                tx.delete(LinkIndexModel(link_key(target, value), model.task_id))


def tower_todo(task_id: str) -> str | None:
    return _load(task_id).tower_todo


def set_tower_todo(task_id: str, guid: str | None) -> None:
    task_id = check_task_id(task_id)
    value = targets.tower_guid(guid) if guid is not None else None
    action = TaskModel.tower_todo.set(value) if value else TaskModel.tower_todo.remove()
    try:
        TaskModel(task_id=task_id).update(actions=[action], condition=TaskModel.task_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"task {task_id} not found") from exc
        raise


# ---- links --------------------------------------------------------------------------------


def link(task_id: str, target: str, target_id: str) -> bool:
    """Link once; linking again is a no-op. Returns True when something was added."""
    task_id = check_task_id(task_id)
    target, value = targets.normalise(target, target_id)
    limit = links_config().max_links

    def step() -> bool | None:
        if _committed(lambda: _link_tx(task_id, target, value, limit)):
            return True
        model = _load(task_id)  # why was it refused?
        if value in _links(model).get(target, []):
            return False
        if model.link_count >= limit:
            raise BadRequest(f"task {task_id} already has {limit} links, the most a task may have")
        return None  # a concurrent transaction on the same task: try again

    return _until_settled(step, f"task {task_id} is changing too fast; try again")


def _link_tx(task_id: str, target: str, value: str, limit: int) -> None:
    path = TaskModel.links[target]
    with resources.transaction() as tx:
        tx.update(
            TaskModel(task_id=task_id),
            actions=[path.add({value}), TaskModel.link_count.add(1), TaskModel.version.add(1)],
            condition=TaskModel.task_id.exists()
            & ~path.contains(value)
            & (TaskModel.link_count < limit),
        )
        tx.save(LinkIndexModel(link_key(target, value), task_id))


def unlink(task_id: str, target: str, target_id: str) -> bool:
    """Remove one link and its index entry; unlinking what is not linked is a no-op."""
    task_id = check_task_id(task_id)
    target, value = targets.normalise(target, target_id)

    def step() -> bool | None:
        if _committed(lambda: _unlink_tx([(task_id, target, value)])):
            return True
        if value not in _links(_load(task_id)).get(target, []):
            return False
        return None

    return _until_settled(step, f"task {task_id} is changing too fast; try again")


def _unlink_tx(pairs: list[tuple[str, str, str]]) -> None:
    with resources.transaction() as tx:
        for task_id, target, value in pairs:
            path = TaskModel.links[target]
            tx.update(
                TaskModel(task_id=task_id),
                actions=[
                    path.delete({value}),
                    TaskModel.link_count.add(-1),
                    TaskModel.version.add(1),
                ],
                condition=TaskModel.task_id.exists() & path.contains(value),
            )
            tx.delete(LinkIndexModel(link_key(target, value), task_id))


def links_of(task_id: str) -> dict[str, list[str]]:
    return _links(_load(task_id))


def links_of_target(task_id: str, target: str) -> list[str]:
    targets.check_target(target)
    return _links(_load(task_id)).get(target, [])


def _index_pages(key: str, page: int) -> Iterator[list[str]]:
    """Task ids linked to `key`, a page at a time, in id order (ObjectIds lead with the
    creation second, so roughly oldest first)."""
    last = None
    while True:
        query = LinkIndexModel.query(key, limit=page, last_evaluated_key=last, consistent_read=True)
        found = [item.task_id for item in query]
        if found:
            yield found
        last = query.last_evaluated_key
        if not last:
            return


READ_CAP = 5000  # ids one reverse lookup answers; a cursor goes on from there


def tasks_linked_to(
    target: str, target_id: str, cursor: str | None = None
) -> tuple[list[str], str | None]:
    """The tasks linked to an item, at most READ_CAP of them, and the cursor of the rest."""
    target, value = targets.normalise(target, target_id)
    key = link_key(target, value)
    found = LinkIndexModel.query(
        key,
        limit=READ_CAP,
        last_evaluated_key=cursors.start_key(cursor, key, "link_key", "task_id"),
        consistent_read=True,
    )
    return [item.task_id for item in found], cursors.encode(found.last_evaluated_key)


def unlink_everywhere(target: str, target_id: str) -> int:
    """Unlink the item from every task: a page of the index per transaction (50 tasks,
    100 writes), paged by key, so any number of tasks is handled. Returns how many."""
    target, value = targets.normalise(target, target_id)
    key = link_key(target, value)
    done = 0
    for page in _index_pages(key, PAGE):
        if _committed(partial(_unlink_tx, [(t, target, value) for t in page])):
            done += len(page)
            continue
        # someone changed one of these tasks meanwhile: settle them one by one
        for task_id in page:
            try:
                if unlink(task_id, target, value):
                    done += 1
                    continue
            except NotFound:
                pass
            _drop_index_item_if_unlinked(task_id, target, value)
    return done


def _drop_index_item_if_unlinked(task_id: str, target: str, value: str) -> None:
    """An index item must not outlive its link; removed only while the task (if any) does
    not hold the link, so a link re-made meanwhile keeps its entry."""
    path = TaskModel.links[target]

    def write() -> None:
        with resources.transaction() as tx:
            tx.condition_check(
                TaskModel,
                task_id,
                condition=TaskModel.task_id.does_not_exist() | ~path.contains(value),
            )
            tx.delete(LinkIndexModel(link_key(target, value), task_id))

    _committed(write)  # refused: the link is back, and keeps its entry


# ---- flat links between items (the successor's `/links`) ---------------------------------


def _flat_pair(target_a: str, a_id: str, target_b: str, b_id: str) -> tuple[str, str]:
    a = link_key(*targets.normalise(target_a, a_id, flat=True))
    b = link_key(*targets.normalise(target_b, b_id, flat=True))
    if a == b:
        raise BadRequest("an item cannot be linked to itself")
    return a, b


def link_items(target_a: str, a_id: str, target_b: str, b_id: str) -> None:
    """Idempotent: both directions are plain puts of the same two items."""
    _flat_write(_flat_pair(target_a, a_id, target_b, b_id), linked=True)


def unlink_items(target_a: str, a_id: str, target_b: str, b_id: str) -> None:
    _flat_write(_flat_pair(target_a, a_id, target_b, b_id), linked=False)


def _flat_write(pair: tuple[str, str], *, linked: bool) -> None:
    """Both directions in one TransactWrite; without conditions it is cancelled only by a
    concurrent transaction on the same items, and then simply written again."""
    a, b = pair

    def write() -> None:
        with resources.transaction() as tx:
            for item in (ItemLinkModel(a, b), ItemLinkModel(b, a)):
                if linked:
                    tx.save(item)
                else:
                    tx.delete(item)

    names = " and ".join(key.replace("#", " ", 1) for key in pair)
    _until_settled(
        lambda: True if _committed(write) else None,
        f"{names} are changing too fast; try again",
    )


def flat_names() -> tuple[str, ...]:
    """The target names the flat links take (`tower` stands for `tower_todo`)."""
    return targets.flat_names()


def items_linked_to(
    target: str, target_id: str, *, only: str | None = None, cursor: str | None = None
) -> tuple[Any, str | None]:
    """target -> ids linked to the item (with `only`, the ids of that one target), from at
    most READ_CAP links of its adjacency list, and the cursor of the rest."""
    key = link_key(*targets.normalise(target, target_id, flat=True))
    query = ItemLinkModel.query(
        key,
        limit=READ_CAP,
        last_evaluated_key=cursors.start_key(cursor, key, "item_key", "other_key"),
        consistent_read=True,
    )
    found: dict[str, list[str]] = {}
    for item in query:
        other_target, _, other_id = item.other_key.partition("#")
        found.setdefault(other_target, []).append(other_id)
    more = cursors.encode(query.last_evaluated_key)
    linked = {t: targets.sort_ids(ids) for t, ids in sorted(found.items())}
    if only is not None:
        return linked.get(targets.flat_name(only), []), more
    return linked, more


# ---- link_info ----------------------------------------------------------------------------


def link_info(task_id: str) -> list[str]:
    """One line per linked item, asked of the trackers in parallel (see connectors)."""
    items = [(t, v) for t, values in _links(_load(task_id)).items() for v in values]
    order = {t: i for i, t in enumerate(targets.targets())}
    items.sort(key=lambda item: order.get(item[0], len(order)))
    return connectors.describe(items)
