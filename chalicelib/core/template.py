"""The deployment template for a stage, built from the same resource registry.

`python -m chalicelib.core.template --stage dev > build/resources-dev.json` writes a template
to merge into `chalice package --merge-template`: every table (keys and GSIs from the
PynamoDB models), every queue with its dead-letter queue, the bucket, and partial batch
responses switched on for each SQS handler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def _table(model: type) -> dict[str, Any]:
    from .resources import table_spec

    props = {
        **table_spec(model),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)


def build(app: Any) -> dict[str, Any]:
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    from . import resources
    from .config import settings

    out: dict[str, Any] = {}
    for model in resources.TABLES:
        out[f"Table{_logical(model.Meta.short_name)}"] = _table(model)
    for spec in resources.QUEUES.values():
        dlq = f"Queue{_logical(spec.name)}Dlq"
        out[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": spec.dlq_name, "MessageRetentionPeriod": 1209600},
        }
        out[f"Queue{_logical(spec.name)}"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": spec.queue_name,
                "VisibilityTimeout": spec.visibility_timeout,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                    "maxReceiveCount": spec.max_receive_count,
                },
            },
        }
    out["BlobBucket"] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": settings().bucket,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    }
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            function = to_cfn_resource_name(source.name)
            event = to_cfn_resource_name(f"{source.name}-sqs-event-source")
            out[function] = {
                "Properties": {
                    "Events": {
                        event: {
                            "Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
                        }
                    }
                }
            }
    return {"Resources": out}


def write_policies(stage: str, directory: Path) -> list[Path]:
    """Each function's least-privilege policy, where `.chalice/config.json` names it."""
    from .policies import FUNCTIONS, file_name, policy

    written = []
    for function in FUNCTIONS:
        path = directory / file_name(function, stage)
        path.write_text(json.dumps(policy(function, stage), indent=2) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.core.template")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--policies", action="store_true", help="write .chalice/policy-*.json")
    args = parser.parse_args(argv)
    if args.policies:
        for path in write_policies(args.stage, Path(__file__).resolve().parents[2] / ".chalice"):
            print(path.name)
        return 0
    os.environ["TASKHUB_STAGE"] = args.stage
    os.environ.pop("TASKHUB_EMBEDDED", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from . import config, resources

    config.reload()
    sys.path.insert(0, os.getcwd())
    from app import app

    from ..faces import load_faces

    load_faces()  # every domain's tables and queues (app.py leaves them to first requests)
    resources.rebind()
    json.dump(build(app), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
