"""The embedded store: one request at a time, failed requests undone, nothing it acknowledged
lost across SIGTERM, kill -9, a torn journal tail and compaction."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core.store.journal import CorruptStore, Journal, read_frames

ROOT = Path(__file__).resolve().parents[2]


def client(store, service):
    return boto3.client(service, endpoint_url=store.url, region_name="us-east-1")


def make_table(ddb, name):
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


# ---- one request at a time -------------------------------------------------------------------


def test_concurrent_counter_updates_all_land(aws):
    ddb = client(aws, "dynamodb")
    make_table(ddb, "counters")

    def bump():
        for _ in range(25):
            ddb.update_item(
                TableName="counters",
                Key={"k": {"S": "c"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    threads = [threading.Thread(target=bump) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ddb.get_item(TableName="counters", Key={"k": {"S": "c"}})["Item"]["n"] == {"N": "300"}


def test_a_cancelled_transaction_leaves_nothing_behind(aws):
    ddb = client(aws, "dynamodb")
    make_table(ddb, "tx")
    ddb.put_item(TableName="tx", Item={"k": {"S": "old"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "tx", "Item": {"k": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": "tx",
                        "Key": {"k": {"S": "old"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "tx",
                        "Key": {"k": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(k)",
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in ddb.get_item(TableName="tx", Key={"k": {"S": "new"}})
    assert ddb.get_item(TableName="tx", Key={"k": {"S": "old"}})["Item"]["v"] == {"N": "1"}


def test_a_long_poll_does_not_hold_other_requests(aws):
    sqs, ddb = client(aws, "sqs"), client(aws, "dynamodb")
    make_table(ddb, "poll")
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    order: list[str] = []
    got: list = []

    def receive():
        got.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", []))
        order.append("receive")

    waiting = threading.Thread(target=receive)
    waiting.start()
    ddb.put_item(TableName="poll", Item={"k": {"S": "a"}})  # served while the poll waits
    order.append("put")
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    waiting.join(timeout=30)
    assert order == ["put", "receive"] and [m["Body"] for m in got] == ["wake up"]


def test_what_the_store_would_not_keep_is_refused(aws):
    ddb, s3 = client(aws, "dynamodb"), client(aws, "s3")
    make_table(ddb, "refused")
    with pytest.raises(ClientError) as caught:
        ddb.create_backup(TableName="refused", BackupName="backup")
    assert "does not keep dynamodb CreateBackup" in str(caught.value)
    s3.create_bucket(Bucket="refused-bucket")
    with pytest.raises(ClientError):
        s3.put_bucket_versioning(
            Bucket="refused-bucket", VersioningConfiguration={"Status": "Enabled"}
        )
    with pytest.raises(ClientError):
        client(aws, "sns").list_topics()


# ---- the journal ------------------------------------------------------------------------------


def test_a_torn_tail_is_cut_and_the_rest_kept(tmp_path):
    journal = Journal(tmp_path)
    assert list(journal.replay()) == []
    journal.wait(journal.append([{"k": "x", "n": 1}, {"k": "x", "n": 2}]))
    journal.close()
    path = tmp_path / "journal-00000000.log"
    good = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(b"\x00\x00\x01\x00garbage")  # a frame that was being written
    again = Journal(tmp_path)
    assert [r["n"] for r in again.replay()] == [1, 2]
    assert path.stat().st_size == good
    again.append([{"k": "x", "n": 3}])
    again.close()
    assert [r["n"] for r in read_frames(path)[0]] == [1, 2, 3]


def test_compaction_starts_a_generation_and_an_incomplete_snapshot_is_refused(tmp_path):
    journal = Journal(tmp_path)
    list(journal.replay())
    journal.append([{"k": "x", "n": 1}])
    journal.compact([{"k": "x", "n": 10}], set())
    journal.append([{"k": "x", "n": 11}])
    journal.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "journal-00000001.log",
        "snapshot-00000001.log",
    ]
    assert [r["n"] for r in Journal(tmp_path).replay()] == [10, 11]
    snapshot = tmp_path / "snapshot-00000001.log"
    snapshot.write_bytes(snapshot.read_bytes()[:-6])  # its `end` record is gone
    with pytest.raises(CorruptStore):
        list(Journal(tmp_path).replay())


def test_each_waiter_returns_once_its_records_are_on_disk(tmp_path):
    journal = Journal(tmp_path)
    list(journal.replay())
    lock = threading.Lock()
    early = []

    def writer():
        for i in range(20):
            with lock:  # the store's lock: appends are ordered
                seq = journal.append([{"k": "x", "n": i}])
            journal.wait(seq)
            if journal._durable < seq:
                early.append(seq)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert early == [] and journal._durable == journal.seq == 160
    journal.close()
    assert len(read_frames(tmp_path / "journal-00000000.log")[0]) == 160


# ---- restarts, in processes of their own -----------------------------------------------------


def child(directory, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.store_child", str(directory), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def write_then_die(directory, sig, compact=str(64 << 20)):
    proc = child(directory, "write", compact)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(sig)
    proc.wait(timeout=30)


def dump(directory):
    proc = child(directory, "dump")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return json.loads(out)


EXPECTED = {
    "items": 299,
    "k0000": "7",
    "k0001": False,
    "messages": [["in flight", "2"], ["waiting", "2"]],
    "redrive": 5,
    "object": [5000, "text/x"],
    "keys": ["a/b c+d.txt"],
    "secret": "s3cr3t",
}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_everything_acknowledged_is_there_after_the_process_dies(tmp_path, sig):
    write_then_die(tmp_path, sig)
    state = dump(tmp_path)
    assert {k: state[k] for k in EXPECTED} == EXPECTED
    assert state["replayed"] > 300


def test_compacted_generations_replay_to_the_same_state(tmp_path):
    write_then_die(tmp_path, signal.SIGKILL, compact="20000")
    state = dump(tmp_path / "")
    assert {k: state[k] for k in EXPECTED} == EXPECTED
    generations = [f for f in state["files"] if f.startswith("snapshot-")]
    assert len(generations) == 1 and generations != ["snapshot-00000000.log"]
    assert state["replayed"] < 300  # a snapshot holds items in batches, not one per request
