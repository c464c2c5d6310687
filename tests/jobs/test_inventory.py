"""The node inventory in the workspace document is read and written in batches."""

from chalicelib.core import workspace
from chalicelib.core.metering import count_calls
from chalicelib.jobs import inventory

from ..conftest import make_admin
from .conftest import PROJECT, tagged


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


def test_the_inventory_exports_as_applied_and_applies_back(aws, jobx, export_workspace, ec2):
    extra = [
        {
            "project": PROJECT,
            "name": "ssm01",
            "executor": "ssm",
            "instance_id": "i-0123456789abcdef0",
        },
        {"project": PROJECT, "name": "lab01", "labels": {"rack": "r1", "os": "linux"}},
    ]
    for _ in range(3):  # each apply looks the SSM node's tags up once
        tagged(ec2, extra[:1])
    workspace.apply(
        {
            "namespaces": [{"face": "jobx", "id": "p2"}],
            "jobx_nodes": [{"project": "p2", "name": f"q{i:02d}"} for i in range(4)] + extra,
        }
    )
    document, _ = export_workspace()
    exported = {(n["project"], n["name"]): n for n in document["jobx_nodes"]}
    assert len(exported) == 5 + 4 + 2
    assert exported[PROJECT, "n03"] == {
        "project": PROJECT,
        "name": "n03",
        "address": "10.0.0.3",
        "labels": {},
        "executor": "local",
        "instance_id": None,
    }
    assert exported[PROJECT, "ssm01"]["instance_id"] == "i-0123456789abcdef0"
    assert exported[PROJECT, "lab01"]["labels"] == {"rack": "r1", "os": "linux"}
    report = workspace.apply(document)
    assert report["jobx_nodes"] == {"created": 0, "updated": 0, "unchanged": 11}
    assert all(t["created"] == t["updated"] == 0 for t in report.values()), report
    for limit in (1, 3, 4):
        assert export_workspace(limit)[0] == document, limit
    before = {p: [inventory.render(n) for n in inventory.all_nodes(p)] for p in (PROJECT, "p2")}
    aws.truncate()
    assert workspace.apply(document)["jobx_nodes"]["created"] == 11
    after = {p: [inventory.render(n) for n in inventory.all_nodes(p)] for p in (PROJECT, "p2")}
    assert after == before
    make_admin()
    assert export_workspace()[0] == document
