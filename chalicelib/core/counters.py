"""Counters whose writes are spread over several items, for keys one item could not carry.

An item (its partition) takes about 1,000 write units a second, and far fewer transactions:
while a transaction holds an item, every other write to it is refused (TransactionConflict),
so an item that every transaction of a busy key touches lets through about one of them per
transaction latency. Two shapes spread such a key:

- **Split counters** (`shard_key`, `shard_keys`): an additive counter, such as a stats row,
  kept as `shards` rows under as many partition keys. A change adds to one of them, picked at
  random (afresh on each retry, so a conflict on one row moves to another); a read adds the
  rows up. Shard 0 is the unsharded key itself, so rows written before sharding still count.
- **Dense sequences** (`DenseSequence`): distinct numbers 1, 2, 3, ... with no gaps, as a
  per-team task number, from a bitonic counting network (Aspnes, Herlihy and Shavit,
  "Counting networks", JACM 1994) whose balancers and output counters are items changed by
  one atomic ADD each, outside any transaction, so nothing conflicts and nothing retries.
  See the class. (core.sequences is the one-item kind, for ids that may have gaps.)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

from pynamodb.models import Model


def shard_key(key: str, shards: int, shard: int | None = None) -> str:
    """The partition key of one shard of `key` (a random one unless `shard` is given)."""
    if shard is None:
        shard = random.randrange(shards) if shards > 1 else 0  # noqa: S311
    return key if shard == 0 else f"{key}#s{shard:02d}"


def shard_keys(key: str, shards: int) -> list[str]:
    """Every shard's partition key, shard 0 (the key itself) first."""
    return [shard_key(key, shards, i) for i in range(shards)]


Layer = list[tuple[int, int]]  # balancers of one layer: (top wire, bottom wire)


def bitonic(width: int) -> tuple[list[Layer], list[int]]:
    """The layers of Bitonic[width] over wires 0..width-1, and the wires of its outputs in
    output order (y0, y1, ...). `width` is a power of two."""
    if width < 1 or width & (width - 1):
        raise ValueError("width must be a power of two")
    return _bitonic(list(range(width)))


def _bitonic(wires: list[int]) -> tuple[list[Layer], list[int]]:
    if len(wires) == 1:
        return [], wires
    half = len(wires) // 2
    top, top_out = _bitonic(wires[:half])
    bottom, bottom_out = _bitonic(wires[half:])
    merge, out = _merger(top_out, bottom_out)
    return _side_by_side(top, bottom) + merge, out


def _merger(x: list[int], y: list[int]) -> tuple[list[Layer], list[int]]:
    """Merger[2k] of two step sequences x and y (k wires each): x's even and y's odd wires
    into one Merger[k], x's odd and y's even into another, then a layer joining their i-th
    outputs into outputs 2i (top) and 2i+1 (bottom)."""
    if len(x) == 1:
        return [[(x[0], y[0])]], [x[0], y[0]]
    first, z = _merger(x[0::2], y[1::2])
    second, w = _merger(x[1::2], y[0::2])
    last = [(z[i], w[i]) for i in range(len(z))]
    out = [wire for pair in zip(z, w, strict=True) for wire in pair]
    return [*_side_by_side(first, second), last], out


def _side_by_side(a: list[Layer], b: list[Layer]) -> list[Layer]:
    """Two networks on disjoint wires, run in the same layers."""
    return [
        [*(a[i] if i < len(a) else []), *(b[i] if i < len(b) else [])]
        for i in range(max(len(a), len(b)))
    ]


class DenseSequence:
    """Dense, distinct numbers from `width` output counters behind a bitonic counting network.

    A take enters on a random input wire and, layer by layer, adds one to the balancer on its
    wire: an odd count leaves on the balancer's top wire, an even one on its bottom wire. It
    then adds one to the counter of the output it reached: the k-th take of output j (k from
    0) is number `k * width + j + 1`. Outputs hand out distinct residues, so numbers never
    repeat; the network's step property (whenever no take is in flight, output j has been
    reached as often as output j+1 or once more) makes the numbers taken exactly 1..n.

    Each balancer sees about 2/width of the takes and each output 1/width, so no item takes
    every write: at width 4, half at most. A take costs depth + 1 calls (width 1: 1, 4: 4,
    8: 7), each an UpdateItem ADD that never conflicts. One take after another get 1, 2, 3
    in order; takes that overlap may come back out of order, within a few numbers. A number
    is lost only if its taker dies during the take or before using the number (the domain
    may give a number it did not use back, see workitems.numbers).

    `item(name)` is the (unsaved) model instance of node `name` (balancers `b0`, `b1`, ...;
    outputs `o0`, `o1`, ...) and `attr` the NumberAttribute the ADDs change.
    """

    def __init__(self, item: Callable[[str], Model], attr: Any, width: int = 4):
        self.item = item
        self.attr = attr
        self.width = width
        layers, outputs = bitonic(width)
        # per layer: wire -> (balancer name, top wire, bottom wire)
        self.layers: list[dict[int, tuple[str, int, int]]] = []
        serial = 0
        for layer in layers:
            at: dict[int, tuple[str, int, int]] = {}
            for top, bottom in layer:
                node = (f"b{serial}", top, bottom)
                at[top] = at[bottom] = node
                serial += 1
            self.layers.append(at)
        self.output_of = {wire: j for j, wire in enumerate(outputs)}

    @property
    def calls(self) -> int:
        """Calls one take costs."""
        return len(self.layers) + 1

    def _add(self, name: str) -> int:
        node = self.item(name)
        node.update(actions=[self.attr.add(1)])
        return int(getattr(node, self.attr.attr_name))

    def take(self, wire: int | None = None) -> int:
        """One fresh number, entering on `wire` (a random one by default)."""
        walk = self.walk(random.randrange(self.width) if wire is None else wire)  # noqa: S311
        name = next(walk)
        while True:
            try:
                name = walk.send(self._add(name))
            except StopIteration as done:
                return done.value

    def walk(self, wire: int) -> Generator[str, int, int]:
        """A take as a generator: it yields the name of each node to add one to, is sent the
        node's new count, and returns the number."""
        for at in self.layers:
            name, top, bottom = at[wire]
            toggled = yield name
            wire = top if toggled % 2 else bottom
        j = self.output_of[wire]
        count = yield f"o{j}"
        return (count - 1) * self.width + j + 1

    def issued(self) -> int:
        """How many numbers the outputs have handed out (when no take is in flight, the
        highest of them)."""
        total = 0
        for j in range(self.width):
            try:
                node = self.item(f"o{j}")
                node.refresh(consistent_read=True)
            except node.DoesNotExist:
                continue
            total += int(getattr(node, self.attr.attr_name) or 0)
        return total
