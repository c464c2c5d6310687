"""A process of its own holding an embedded store, for the restart and crash tests: moto's
state is per process, so each "server life" is one run of this module.

    python -m tests.core.store_child <data dir> write <compact bytes>   # writes, says "ready"
    python -m tests.core.store_child <data dir> dump                    # prints the state
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)

import boto3

from chalicelib.core.store import Store

ITEMS = 300


def clients(url: str):
    return tuple(boto3.client(s, endpoint_url=url) for s in ("dynamodb", "sqs", "s3", "ssm"))


def write(store: Store) -> None:
    ddb, sqs, s3, ssm = clients(store.url)
    ddb.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(ITEMS):
        ddb.put_item(TableName="kept", Item={"k": {"S": f"k{i:04d}"}, "n": {"N": "0"}})
    for _ in range(7):
        ddb.update_item(
            TableName="kept",
            Key={"k": {"S": "k0000"}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    ddb.delete_item(TableName="kept", Key={"k": {"S": "k0001"}})
    dlq = sqs.create_queue(QueueName="kept-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    url = sqs.create_queue(
        QueueName="kept",
        Attributes={
            "VisibilityTimeout": "600",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": "5"}
            ),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)  # received, never deleted
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    gone = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    for message in gone:
        if message["Body"] == "gone":
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:  # back to visible, as a worker that gave up would leave it
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket="kept-bucket", Key="a/b c+d.txt", Body=b"x" * 5000, ContentType="text/x")
    s3.put_object(Bucket="kept-bucket", Key="deleted", Body=b"y")
    s3.delete_object(Bucket="kept-bucket", Key="deleted")
    ssm.put_parameter(Name="/kept/secret", Value="s3cr3t", Type="SecureString")


def dump(store: Store) -> dict:
    ddb, sqs, s3, ssm = clients(store.url)
    items = []
    kwargs: dict = {"TableName": "kept"}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])
    obj = s3.get_object(Bucket="kept-bucket", Key="a/b c+d.txt")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="kept-bucket").get("Contents", [])]
    return {
        "items": len(items),
        "k0000": next(i["n"]["N"] for i in items if i["k"]["S"] == "k0000"),
        "k0001": any(i["k"]["S"] == "k0001" for i in items),
        "messages": sorted(
            (m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in messages
        ),
        "redrive": json.loads(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
                "RedrivePolicy"
            ]
        )["maxReceiveCount"],
        "object": [len(obj["Body"].read()), obj["ContentType"]],
        "keys": keys,
        "secret": ssm.get_parameter(Name="/kept/secret", WithDecryption=True)["Parameter"]["Value"],
        "replayed": store.replayed,
        "files": sorted(p for p in os.listdir(store.ledger.journal.directory) if p != "blobs"),
    }


def main(directory: str, action: str, compact: str = str(64 << 20)) -> None:
    store = Store(directory, compact_bytes=int(compact)).start()
    if action == "write":
        write(store)
        print("ready", flush=True)
        time.sleep(600)  # until the test kills us
    else:
        print(json.dumps(dump(store)), flush=True)
        store.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
