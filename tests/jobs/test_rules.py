"""The engine's rules on their own, without a store: where the cursor goes after a step,
the failure budget, and which steps apply to which batch."""

from __future__ import annotations

import pytest

from chalicelib.jobs import engine
from chalicelib.jobs.models import SubtaskModel, TaskModel

STEPS = [{"name": "a"}, {"name": "b", "pause": True}, {"name": "c"}]


def task(batches=(("n1", "n2"), ("n3",)), steps=STEPS, **fields) -> TaskModel:
    t = TaskModel(
        "t" * 12, project="p", start_key="k", name="j", starttime=0, month="m", day="d", hour="h"
    )
    t.batches, t.steps, t.nodes = [list(b) for b in batches], list(steps), {}
    t.node_total = sum(len(b) for b in batches)
    for name, value in fields.items():
        setattr(t, name, value)
    return t


def sub(**fields) -> SubtaskModel:
    s = SubtaskModel("t" * 12, 0)
    for name, value in fields.items():
        setattr(s, name, value)
    return s


def move_after(t, s, step, failed):
    return engine.after_step(engine.Move(t), t, s, step, failed)


@pytest.mark.parametrize(
    ("max_fail", "nodes", "budget"),
    [
        ("", 10, None),
        ("0", 10, 0),
        ("3", 10, 3),
        ("10%", 25, 2),
        ("33.3%", 100, 33),
        ("100%", 7, 7),
    ],
)
def test_the_failure_budget(max_fail, nodes, budget):
    assert engine.fail_budget(max_fail, nodes) == budget


@pytest.mark.parametrize(
    ("when", "batch", "total", "runs"),
    [
        ("firsttime", 0, 3, True),
        ("firsttime", 1, 3, False),
        ("thelasttime", 2, 3, True),
        ("thelasttime", 0, 3, False),
        ("notfirsttime", 0, 3, False),
        ("notthelasttime", 2, 3, False),
        ("always", 1, 3, True),
        ("firsttime", 0, 1, True),
        ("thelasttime", 0, 1, True),
    ],
)
def test_the_batch_conditions(when, batch, total, runs):
    assert engine.applies({"batches": when}, "deploy", batch, total) is runs


def test_the_action_conditions():
    assert engine.applies({"action": "deploy"}, "deployonly", 0, 1)
    assert not engine.applies({"action": "rollback"}, "deploy", 0, 1)
    assert engine.applies({"action": "rollback"}, "rollback", 0, 1)
    assert not engine.applies({"action": "deploy"}, "rollback", 0, 1)
    assert engine.applies({"action": "always"}, "rollback", 0, 1)


def test_a_clean_step_goes_to_the_next_or_pauses():
    t = task()
    assert move_after(t, sub(), 0, []).cursor == (0, 1)
    paused = move_after(t, sub(), 1, [])
    assert (paused.cursor, paused.phase) == ((0, 2), "pause")


def test_the_last_step_of_the_last_batch_ends_the_task():
    t = task(batch=1)
    done = move_after(t, sub(), 2, [])
    assert (done.status, done.reason, done.cursor) == ("success", "", (2, 0))


def test_a_failure_waits_for_confirm_in_stop_mode():
    t = task()
    waiting = move_after(t, sub(), 0, ["n2"])
    assert (waiting.phase, waiting.cursor, waiting.new_failed) == ("wait_confirm", (0, 0), 1)


def test_continue_mode_goes_on_without_the_failed_nodes_and_the_task_ends_fail():
    t = task(batch_mode="continue", batch=1, steps=[{"name": "a"}])
    done = move_after(t, sub(failed_nodes=[]), 0, ["n3"])
    assert (done.status, done.reason) == ("fail", "1 node(s) failed")


def test_everyone_failed_ends_the_batch_early_in_continue_mode():
    t = task(batch_mode="continue")
    ended = move_after(t, sub(), 0, ["n1", "n2"])
    assert ended.cursor == (1, 0)  # the later steps are skipped: no node is left


def test_a_retry_of_failed_nodes_counts_only_them_as_everyone():
    t = task(batch_mode="continue")
    ended = move_after(t, sub(attempt_nodes=["n2"]), 0, ["n2"])
    assert ended.cursor == (1, 0)


def test_the_budget_ends_the_task_at_once():
    t = task(max_fail="1", failed=1, batch_mode="continue")
    over = move_after(t, sub(), 0, ["n1"])
    assert (over.status, over.reason) == ("fail", "max_fail exceeded: 2 node(s) failed, 1 allowed")


def test_confirm_every_batch_waits_before_the_next_one():
    t = task(batch_mode="confirm", steps=[{"name": "a"}])
    nxt = move_after(t, sub(), 0, [])
    assert (nxt.cursor, nxt.phase) == ((1, 0), "wait_next")


def test_the_reaper_index_spreads_tasks_over_its_shards():
    keys = {engine.watch_key(f"task{i:08d}") for i in range(400)}
    assert keys == {f"w{n:02d}" for n in range(engine.SHARDS)}
