"""The node inventory in the workspace document is read and written in batches."""

from chalicelib.core import workspace
from chalicelib.core.metering import count_calls
from chalicelib.jobs import inventory

from .conftest import PROJECT


def nodes(count, **extra):
    return [{"project": PROJECT, "name": f"b{i:04d}", **extra} for i in range(count)]


def test_a_large_inventory_costs_a_batch_per_hundred_reads_and_25_writes(jobx):
    with count_calls() as calls:
        report = workspace.apply({"jobx_nodes": nodes(600)})
    assert report["jobx_nodes"] == {"created": 600, "updated": 0, "unchanged": 0}
    assert calls["dynamodb.BatchGetItem"] == 6 and calls["dynamodb.BatchWriteItem"] == 24
    assert calls["dynamodb"] <= 6 + 24 + 2  # the namespace check of the project
    with count_calls() as calls:
        again = workspace.apply({"jobx_nodes": nodes(600)})
    assert again["jobx_nodes"] == {"created": 0, "updated": 0, "unchanged": 600}
    assert calls["dynamodb.BatchWriteItem"] == 0
    changed = nodes(600)
    changed[7]["address"] = "10.9.9.9"
    changed[8]["absent"] = True
    report = workspace.apply({"jobx_nodes": changed})
    assert report["jobx_nodes"] == {"created": 0, "updated": 2, "unchanged": 598}
    assert inventory.get(PROJECT, "b0007")["address"] == "10.9.9.9"
    assert "b0008" not in {n.name for n in inventory.all_nodes(PROJECT)}
