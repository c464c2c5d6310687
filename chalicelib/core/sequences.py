"""Numeric id sequences, as the originals' auto-increment ids are.

Each id is taken with one atomic ADD on a counter item, so two writers never get the same
one; an id taken by a write that then fails is skipped, as MySQL's auto-increment skips
it. A block of n ids costs the same one call as a single id.
"""

from __future__ import annotations

from pynamodb.models import Model


def take(model: type[Model], key: str, **counts: int) -> dict[str, int]:
    """Advance the named sequences of counter item `key` by `counts`; the last id of each
    block (so a block of n is `last - n + 1 .. last`)."""
    counter = model(key)
    counter.update(actions=[getattr(model, name).add(n) for name, n in counts.items()])
    return {name: int(getattr(counter, name)) for name in counts}


def block(model: type[Model], key: str, name: str, n: int) -> range:
    """n fresh ids of one sequence, in ascending order."""
    if n <= 0:
        return range(0)
    last = take(model, key, **{name: n})[name]
    return range(last - n + 1, last + 1)
