"""The per-team task `number` of the ONES face (seed 001): distinct, dense, never reused.

Concurrent creates in one team must not all write one item (the team's counter would cap
the team at about one create per transaction latency), so numbers come from a
`core.counters.DenseSequence` per team: a counting network of WIDTH output counters whose
items are changed by atomic ADDs outside the task's transaction. Around it:

- **Offset.** The team's `number` counter item holds the last number the team handed out
  before its sequence existed (0, or absent, for a new team): number = offset + the
  sequence's number.
- **Spares.** A create that took a number and then could not be written (a concurrent create
  of the same uuid won, its parent was deleted meanwhile, it kept losing races) gives the
  number back as a spare item `number#spare#<n>` in the team's counter partition; the next
  create takes the lowest spare before a fresh number, claiming it with a conditional delete
  in its own transaction, so a spare goes to exactly one task. So numbers stay dense; one
  is missing only if a process dies between taking it and writing the task.
- **The number -> uuid map** (`task/:number/info`) is spread over MAP_SHARDS partitions,
  `<team>#sNN` by number; items written before live under `<team>`, which is shard 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pynamodb.exceptions import PutError

from ..core.counters import DenseSequence, shard_key
from .models import TaskNumberModel, TeamCounterModel

log = logging.getLogger("taskhub.ones")

WIDTH = 4  # output counters of a team's counting network: an item sees at most half the creates
MAP_SHARDS = 8
COUNTER = "number"
SPARE = "number#spare#"


def sequence(team_uuid: str) -> DenseSequence:
    return DenseSequence(
        lambda name: TeamCounterModel(f"{team_uuid}#seq#{name}", COUNTER),
        TeamCounterModel.value,
        WIDTH,
    )


def spare_item(team_uuid: str, number: int) -> TeamCounterModel:
    return TeamCounterModel(team_uuid, f"{SPARE}{number:015d}")


def map_key(team_uuid: str, number: int) -> str:
    return shard_key(team_uuid, MAP_SHARDS, number % MAP_SHARDS)


def map_items(team_uuid: str, number: int) -> list[TaskNumberModel]:
    """Where the map of `number` may be: its shard, and the team's key (items written before
    the map was sharded)."""
    keys = dict.fromkeys([map_key(team_uuid, number), team_uuid])
    return [TaskNumberModel(key, number) for key in keys]


def lookup(team_uuid: str, number: int) -> str | None:
    """The uuid of the task with `number`, or None (one BatchGetItem)."""
    keys = [(item.team_uuid, number) for item in map_items(team_uuid, number)]
    for found in TaskNumberModel.batch_get(keys, consistent_read=True):
        return found.task_uuid
    return None


@dataclass
class Claim:
    """A number a create holds: a fresh one it owns, or a spare it claims in its own
    transaction (so a failed transaction leaves the spare for the next create)."""

    team_uuid: str
    number: int
    spare: bool


def claim(team_uuid: str) -> Claim:
    """The lowest spare number of the team if there is one, else a fresh number."""
    offset, spare = 0, None
    for item in TeamCounterModel.query(
        team_uuid, TeamCounterModel.name.startswith(COUNTER), consistent_read=True, limit=2
    ):
        if item.name == COUNTER:
            offset = int(item.value or 0)
        elif spare is None:
            spare = int(item.name[len(SPARE) :])
    if spare is not None:
        return Claim(team_uuid, spare, spare=True)
    return Claim(team_uuid, offset + sequence(team_uuid).take(), spare=False)


def taken(team_uuid: str, number: int) -> bool:
    """Does a task hold `number` already?"""
    return lookup(team_uuid, number) is not None


def give_back(held: Claim) -> None:
    """A fresh number the create could not use becomes the team's next spare (unless a task
    holds it after all: a transaction whose answer was lost may have been written). Never
    raises: if this fails too, the number is missing, as when the process dies."""
    if held.spare:
        return
    try:
        if taken(held.team_uuid, held.number):
            return
        spare_item(held.team_uuid, held.number).save(
            condition=TeamCounterModel.name.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":  # else: given back
            log.warning("number %s of team %s lost: %s", held.number, held.team_uuid, exc)
    except Exception as exc:
        log.warning("number %s of team %s lost: %s", held.number, held.team_uuid, exc)


def skip_past(team_uuid: str, last: int) -> None:
    """Make the team's next fresh number `last + 1` (for numbers written around the
    sequence, as bulk loads do; only while no create runs in the team)."""
    issued = sequence(team_uuid).issued()
    TeamCounterModel(team_uuid, COUNTER).update(actions=[TeamCounterModel.value.set(last - issued)])
