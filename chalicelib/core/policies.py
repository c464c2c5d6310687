"""Least privilege per Lambda function: each function's IAM policy, built from the resource
registry and what that function does. `python -m chalicelib.core.template --stage dev
--policies` writes them to `.chalice/policy-<stage>-<function>.json`, where the stage's
`lambda_functions` name them; a test fails when the files and this module disagree.

- `api_handler` serves every face and the admin surface: every table, sending engine
  messages, reading and writing blobs, the secret key; it may cancel (a stop) but never send
  a command, and reads instance tags (registering an SSM node).
- `jobx_queue` moves tasks: the JOBX run tables only, its own queue, orders to the runner,
  output blobs, and Run Command on instances that carry the JOBX tag, with the one document
  the executor uses.
- `jobx_local` runs local steps: it records results (the results table, output blobs) and
  reads its own queue. A step that reached the function's credentials could write nothing
  else: not a user, not a token, not a task.
- `jobx_reaper` re-drives stuck tasks.
- `scan_queue` runs the scan engine: the scan tables, its own queue, the scan blobs, and
  the secret key (a repository's credentials are encrypted with it).
- `scan_reaper` re-drives and times out scan jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TAG_KEY = "taskhub:jobx-project"  # instances JOBX may send commands to carry it
DOCUMENT = "AWS-RunShellScript"
READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable")
WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
SEND = ("sqs:SendMessage", "sqs:GetQueueUrl")
JOBX_RUN = ("jobx-tasks", "jobx-plans", "jobx-subtasks", "jobx-results", "jobx-stats")
SCAN_RUN = (
    "scan-jobs",
    "scan-tasks",
    "scan-shards",
    "scan-projects",
    "scan-issues",
    "scan-counters",
)
SCAN_READ = ("scan-repos", "scan-schemes")


@dataclass
class Grant:
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)  # short name or "*"
    queues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    objects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key prefix
    secret_key: bool = False
    statements: list[dict[str, Any]] = field(default_factory=list)


def _send_command() -> list[dict[str, Any]]:
    return [
        {
            "Sid": "SendCommandToTaggedInstances",
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringLike": {f"ssm:resourceTag/{TAG_KEY}": "?*"}},
        },
        {
            "Sid": "SendCommandDocument",
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "Resource": f"arn:aws:ssm:*::document/{DOCUMENT}",
        },
        {
            "Sid": "PollAndCancelCommands",
            "Effect": "Allow",
            "Action": ["ssm:ListCommandInvocations", "ssm:CancelCommand"],
            "Resource": "*",
        },
    ]


FUNCTIONS: dict[str, Grant] = {
    "api_handler": Grant(
        tables={"*": READ + WRITE + ("dynamodb:TransactWriteItems",)},
        queues={"jobx": SEND, "scans": SEND},
        objects={"": ("s3:GetObject", "s3:PutObject")},
        secret_key=True,
        statements=[
            {
                "Sid": "CancelCommandsAndReadTags",
                "Effect": "Allow",
                "Action": ["ssm:CancelCommand", "ec2:DescribeTags"],
                "Resource": "*",
            }
        ],
    ),
    "jobx_queue": Grant(
        tables={name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in JOBX_RUN},
        queues={"jobx": CONSUME + SEND, "jobx-local": SEND},
        objects={"jobx/output/": ("s3:PutObject", "s3:GetObject")},
        statements=_send_command(),
    ),
    "jobx_local": Grant(
        tables={
            "jobx-results": (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:TransactWriteItems",
            )
        },
        queues={"jobx-local": CONSUME},
        objects={"jobx/output/": ("s3:PutObject",)},
    ),
    "jobx_reaper": Grant(
        tables={name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in JOBX_RUN},
        queues={"jobx": SEND},
    ),
    "scan_queue": Grant(
        tables={
            **{name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in SCAN_RUN},
            "scan-repos": (*READ, "dynamodb:UpdateItem", "dynamodb:TransactWriteItems"),
            "scan-schemes": READ,
        },
        queues={"scans": CONSUME + SEND},
        objects={"scans/": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")},
        secret_key=True,
    ),
    "scan_reaper": Grant(
        tables={
            name: READ + WRITE + ("dynamodb:TransactWriteItems",)
            for name in ("scan-jobs", "scan-tasks", "scan-shards", "scan-projects")
        },
        queues={"scans": SEND},
    ),
}


def policy(function: str, stage: str) -> dict[str, Any]:
    grant = FUNCTIONS[function]
    prefix = f"taskhub-{stage}-"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:*",
        }
    ]
    for n, (name, actions) in enumerate(sorted(grant.tables.items())):
        table = f"arn:aws:dynamodb:*:*:table/{prefix}{name}"
        statements.append(
            {
                "Sid": f"Tables{n}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": [table, f"{table}/index/*"],
            }
        )
    for n, (name, actions) in enumerate(sorted(grant.queues.items())):
        statements.append(
            {
                "Sid": f"Queue{n}",
                "Effect": "Allow",
                "Action": sorted(set(actions)),
                "Resource": f"arn:aws:sqs:*:*:{prefix}{name}",
            }
        )
    for n, (key_prefix, actions) in enumerate(sorted(grant.objects.items())):
        statements.append(
            {
                "Sid": f"Blobs{n}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": f"arn:aws:s3:::{prefix}blobs/{key_prefix}*",
            }
        )
    if grant.secret_key:
        statements.append(
            {
                "Sid": "SecretKey",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": f"arn:aws:ssm:*:*:parameter/taskhub/{stage}/*",
            }
        )
    statements += grant.statements
    return {"Version": "2012-10-17", "Statement": statements}


def file_name(function: str, stage: str) -> str:
    return f"policy-{stage}-{function.replace('_', '-')}.json"
