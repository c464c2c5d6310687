"""Least privilege per Lambda function: each function's IAM policy, built from the resource
registry and what that function does. `python -m chalicelib.core.template --stage dev
--policies` writes them to `.chalice/policy-<stage>-<function>.json`, where the stage's
`lambda_functions` name them; `chalice package` copies each into its function's role as it
is, so every ARN is a `Fn::Sub` on `${AWS::Partition}`, `${AWS::Region}` and
`${AWS::AccountId}`: the stage's resources in the account and region the stack is deployed
to, nothing else. A test fails when the files and this module disagree, and when a statement
has `*` for an action or resource outside `NO_RESOURCE_LEVEL`.

- `api_handler` serves every face and the admin surface: every table (each by name), sending
  engine messages, the JOBX output and scan blobs, the stage's SSM parameters (the secret key
  and connector secrets under `/taskhub/<stage>/`); it may cancel (a stop) but never send a
  command, and reads instance tags (registering an SSM node).
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
- `fire_schedules` fires cron schedules: its own table, reading who may run what (users,
  namespaces, memberships), and submitting as the JOBX, TCA and CodeArts faces do (a task's
  or a scan job's tables, a check task's last run, the engines' queues), nothing that reads
  or writes results or secrets.
- The four engine functions (and `api_handler`, which stops tasks) may also put webhook
  deliveries (only if absent, in the transaction of an end) and send them to `webhooks`.
- `webhook_queue` delivers them: reads a delivery and its namespace's allow-list, records
  attempts, decrypts the signing secret (the secret key), consumes its own queue and puts
  dead deliveries in its DLQ. It writes nothing else. `webhook_reaper` sends again the
  messages of pending deliveries past their deadline.

Every function writes only its own log group (the template creates it, so no
`logs:CreateLogGroup`) and sends X-Ray segments (active tracing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APP = "taskhub"
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
# what ending a task or scan needs to announce it: its deliveries, written in the same
# transaction only if absent, and their messages
ANNOUNCE = {
    "webhook-deliveries": (
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:TransactWriteItems",
    )
}
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
SUBMIT = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:TransactWriteItems")
IDENTITY_READ = ("users", "namespaces", "memberships")
JOBX_SUBMIT = (
    "jobx-names",
    "jobx-counters",
    "jobx-tasks",
    "jobx-plans",
    "jobx-stats",
    "jobx-oplog",
)
SCAN_SUBMIT = ("scan-claims", "scan-counters", "scan-jobs", "scan-tasks", "scan-projects")
JOBX_OUTPUT = "jobx/output/"
SCANS = "scans/"
ALL_TABLES = "*"  # in a Grant: every table of the registry, each named

# Actions that take no resource-level permission (the Service Authorization Reference lists
# no resource type for them), so `"Resource": "*"` is the only form IAM accepts; the test's
# allow-list of `*` statements is exactly this.
NO_RESOURCE_LEVEL = {
    "xray:PutTraceSegments": "X-Ray segments: active tracing",
    "xray:PutTelemetryRecords": "X-Ray telemetry: active tracing",
    "ssm:CancelCommand": "stopping a Run Command step; command ids are not resources",
    "ssm:ListCommandInvocations": "polling a Run Command step's invocations",
    "ec2:DescribeTags": "checking that an instance carries the JOBX tag before registering it",
}


def arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> dict:
    """An ARN in the account and region the stack is deployed to (a CloudFormation Fn::Sub)."""
    where = "${AWS::Region}" if region else ""
    owner = "${AWS::AccountId}" if account else ""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{where}:{owner}:{resource}"}


def function_name(function: str, stage: str) -> str:
    """The deployed Lambda function's name (the template sets it, so its log group is known
    before the function exists)."""
    return f"{APP}-{stage}-{function}"


def log_group(function: str, stage: str) -> str:
    return f"/aws/lambda/{function_name(function, stage)}"


@dataclass
class Grant:
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)  # short name or "*"
    queues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    objects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key prefix
    parameters: tuple[str, ...] = ()  # SSM parameter names under /taskhub/<stage>/
    statements: list[dict[str, Any]] = field(default_factory=list)


def _send_command() -> list[dict[str, Any]]:
    return [
        {
            "Sid": "SendCommandToTaggedInstances",
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "Resource": [arn("ec2", "instance/*"), arn("ssm", "managed-instance/*")],
            "Condition": {"StringLike": {f"ssm:resourceTag/{TAG_KEY}": "?*"}},
        },
        {
            "Sid": "SendCommandDocument",
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "Resource": arn("ssm", f"document/{DOCUMENT}", account=False),
        },
        {
            "Sid": "PollAndCancelCommands",
            "Effect": "Allow",
            "Action": ["ssm:CancelCommand", "ssm:ListCommandInvocations"],
            "Resource": "*",
        },
    ]


FUNCTIONS: dict[str, Grant] = {
    "api_handler": Grant(
        tables={ALL_TABLES: READ + WRITE + ("dynamodb:TransactWriteItems",)},
        queues={"jobx": SEND, "scans": SEND, "webhooks": SEND},
        objects={
            JOBX_OUTPUT: ("s3:GetObject", "s3:PutObject"),
            SCANS: ("s3:GetObject", "s3:PutObject"),
        },
        parameters=("*",),  # the secret key; connector secrets (`ssm:/taskhub/<stage>/...`)
        statements=[
            {
                "Sid": "CancelCommandsAndReadTags",
                "Effect": "Allow",
                "Action": ["ec2:DescribeTags", "ssm:CancelCommand"],
                "Resource": "*",
            },
            {
                "Sid": "ReadManagedInstanceTags",
                "Effect": "Allow",
                "Action": "ssm:ListTagsForResource",
                "Resource": arn("ssm", "managed-instance/*"),
            },
        ],
    ),
    "jobx_queue": Grant(
        tables={
            **{name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in JOBX_RUN},
            **ANNOUNCE,
        },
        queues={"jobx": CONSUME + SEND, "jobx-local": SEND, "webhooks": SEND},
        objects={JOBX_OUTPUT: ("s3:PutObject", "s3:GetObject")},
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
        objects={JOBX_OUTPUT: ("s3:PutObject",)},
    ),
    "jobx_reaper": Grant(
        tables={
            **{name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in JOBX_RUN},
            **ANNOUNCE,
        },
        queues={"jobx": SEND, "webhooks": SEND},
    ),
    "scan_queue": Grant(
        tables={
            **{name: READ + WRITE + ("dynamodb:TransactWriteItems",) for name in SCAN_RUN},
            "scan-repos": (*READ, "dynamodb:UpdateItem", "dynamodb:TransactWriteItems"),
            "scan-schemes": READ,
            **ANNOUNCE,
        },
        queues={"scans": CONSUME + SEND, "webhooks": SEND},
        objects={SCANS: ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")},
        parameters=("secret-key",),
    ),
    "scan_reaper": Grant(
        tables={
            name: READ + WRITE + ("dynamodb:TransactWriteItems",)
            for name in ("scan-jobs", "scan-tasks", "scan-shards", "scan-projects")
        }
        | ANNOUNCE,
        queues={"scans": SEND, "webhooks": SEND},
    ),
    "webhook_queue": Grant(
        tables={
            "webhook-deliveries": (*READ, "dynamodb:UpdateItem"),
            "webhook-allowlists": READ,
        },
        queues={"webhooks": CONSUME + SEND, "webhooks-dlq": SEND},
        parameters=("secret-key",),  # the namespaces' signing secrets are encrypted with it
    ),
    "webhook_reaper": Grant(
        tables={"webhook-deliveries": (*READ, "dynamodb:UpdateItem")},
        queues={"webhooks": SEND},
    ),
    "fire_schedules": Grant(
        tables={
            "schedules": (*READ, "dynamodb:UpdateItem"),
            **dict.fromkeys((*IDENTITY_READ, "jobx-jobs", "jobx-groups", "jobx-nodes"), READ),
            **dict.fromkeys(SCAN_READ, READ),
            **dict.fromkeys(JOBX_SUBMIT + SCAN_SUBMIT, READ + SUBMIT),
            "codearts-tasks": (*READ, "dynamodb:UpdateItem"),  # a check task's last run
        },
        queues={"jobx": SEND, "scans": SEND},
    ),
}


def _tables() -> dict[str, bool]:
    """Every registered table's short name, and whether it has indexes."""
    from chalicelib.faces import load_faces

    from . import resources

    load_faces()
    return {
        model.Meta.short_name: bool(getattr(model, "_indexes", None)) for model in resources.TABLES
    }


def policy(function: str, stage: str) -> dict[str, Any]:
    grant = FUNCTIONS[function]
    prefix = f"{APP}-{stage}-"
    indexed = _tables()
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arn("logs", f"log-group:{log_group(function, stage)}:*"),
        },
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "Resource": "*",
        },
    ]
    tables = grant.tables
    if ALL_TABLES in tables:
        tables = {name: tables[ALL_TABLES] for name in indexed}
    by_actions: dict[tuple[str, ...], list[dict]] = {}
    for name in sorted(tables):
        if name not in indexed:
            raise KeyError(f"{function}: no table {name} in the registry")
        group = by_actions.setdefault(tuple(sorted(set(tables[name]))), [])
        group.append(arn("dynamodb", f"table/{prefix}{name}"))
        if indexed[name]:
            group.append(arn("dynamodb", f"table/{prefix}{name}/index/*"))
    for n, (actions, resources) in enumerate(by_actions.items()):
        statements.append(
            {"Sid": f"Tables{n}", "Effect": "Allow", "Action": list(actions), "Resource": resources}
        )
    for n, (name, actions) in enumerate(sorted(grant.queues.items())):
        statements.append(
            {
                "Sid": f"Queue{n}",
                "Effect": "Allow",
                "Action": sorted(set(actions)),
                "Resource": arn("sqs", f"{prefix}{name}"),
            }
        )
    for n, (key_prefix, actions) in enumerate(sorted(grant.objects.items())):
        statements.append(
            {
                "Sid": f"Blobs{n}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": arn("s3", f"{prefix}blobs/{key_prefix}*", region=False, account=False),
                # bucket names are global: the stage's bucket only if it is this account's
                "Condition": {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}},
            }
        )
    if grant.parameters:
        statements.append(
            {
                "Sid": "Parameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": [
                    arn("ssm", f"parameter/{APP}/{stage}/{name}") for name in grant.parameters
                ],
            }
        )
    statements += grant.statements
    return {"Version": "2012-10-17", "Statement": statements}


def file_name(function: str, stage: str) -> str:
    return f"policy-{stage}-{function.replace('_', '-')}.json"
