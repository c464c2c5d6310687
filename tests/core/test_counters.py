"""core.counters: the counting network's wiring and its step property, under any interleaving
of takes (simulated one call at a time) and under threads against the embedded store."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.core.counters import DenseSequence, bitonic, shard_key, shard_keys


def test_shard_keys_keep_the_key_itself_as_shard_zero():
    assert shard_keys("team", 4) == ["team", "team#s01", "team#s02", "team#s03"]
    assert shard_key("team", 4, 2) == "team#s02"
    assert shard_key("team", 1) == "team"
    assert {shard_key("team", 4) for _ in range(200)} == set(shard_keys("team", 4))


@pytest.mark.parametrize(
    ("width", "depth", "balancers"), [(1, 0, 0), (2, 1, 1), (4, 3, 6), (8, 6, 24)]
)
def test_bitonic_shape(width, depth, balancers):
    layers, outputs = bitonic(width)
    assert len(layers) == depth
    assert sum(len(layer) for layer in layers) == balancers
    assert sorted(outputs) == list(range(width))
    for layer in layers:  # a wire meets at most one balancer per layer
        wires = [w for pair in layer for w in pair]
        assert len(wires) == len(set(wires))


def test_width_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        bitonic(6)


class Memory:
    """Counting-network nodes in memory: `add` is atomic, as an UpdateItem ADD is."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def add(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]

    def sequence(self, width: int) -> DenseSequence:
        seq = DenseSequence(lambda name: None, None, width)
        seq._add = self.add
        return seq


@pytest.mark.parametrize("width", [1, 2, 4, 8, 16])
def test_one_take_after_another_counts_1_2_3(width):
    seq = Memory().sequence(width)
    rng = random.Random(width)
    assert [seq.take(rng.randrange(width)) for _ in range(3 * width + 1)] == list(
        range(1, 3 * width + 2)
    )


@pytest.mark.parametrize("width", [2, 4, 8])
def test_any_interleaving_of_takes_ends_dense(width):
    """Takes advance one call at a time, in a random order, up to 8 in flight: whatever the
    order, the numbers are distinct and, once none is in flight, exactly 1..n."""
    for seed in range(60):
        rng = random.Random(seed)
        store = Memory()
        seq = store.sequence(width)
        pending = [seq.walk(rng.randrange(width)) for _ in range(50)]
        running: dict = {}  # walk -> the node it waits to add one to
        got = []
        while pending or running:
            while pending and len(running) < 8:
                walk = pending.pop()
                running[walk] = next(walk)
            walk = rng.choice(list(running))
            try:
                running[walk] = walk.send(store.add(running[walk]))
            except StopIteration as done:
                del running[walk]
                got.append(done.value)
        assert sorted(got) == list(range(1, 51)), (width, seed)


def test_a_take_that_dies_midway_costs_one_number_at_most():
    """A taker that stops after some of its calls (its process died) leaves at most one
    number missing, whatever came before or after."""
    for seed in range(100):
        rng = random.Random(seed)
        store = Memory()
        seq = store.sequence(4)
        got = [seq.take(rng.randrange(4)) for _ in range(rng.randrange(20))]
        dead = seq.walk(rng.randrange(4))
        name = next(dead)
        for _ in range(rng.randrange(len(seq.layers) + 1)):
            name = dead.send(store.add(name))
        got += [seq.take(rng.randrange(4)) for _ in range(40)]
        assert len(set(got)) == len(got)
        assert len(set(range(1, max(got) + 1)) - set(got)) <= 1, seed


def test_no_node_takes_every_write():
    store = Memory()
    seq = store.sequence(4)
    for i in range(400):
        seq.take(i % 4)
    balancers = {k: v for k, v in store.values.items() if k.startswith("b")}
    outputs = {k: v for k, v in store.values.items() if k.startswith("o")}
    assert len(balancers) == 6 and set(balancers.values()) == {200}  # half of the takes each
    assert len(outputs) == 4 and set(outputs.values()) == {100}
    assert seq.calls == 4


def test_threads_get_distinct_dense_numbers(aws):
    """Against the embedded store: 8 threads take at once (a barrier lines them up), and
    every number 1..n comes out once."""
    from chalicelib.workitems.models import TeamCounterModel

    seq = DenseSequence(
        lambda name: TeamCounterModel(f"seqtest#{name}", "n"), TeamCounterModel.value, 4
    )
    start = threading.Barrier(8)

    def worker(_):
        start.wait(timeout=30)
        return [seq.take() for _ in range(12)]

    with ThreadPoolExecutor(8) as pool:
        numbers = [n for got in pool.map(worker, range(8)) for n in got]
    assert sorted(numbers) == list(range(1, 97))
    assert seq.issued() == 96
    values = {f"o{j}": int(TeamCounterModel.get(f"seqtest#o{j}", "n").value) for j in range(4)}
    assert values == {"o0": 24, "o1": 24, "o2": 24, "o3": 24}
