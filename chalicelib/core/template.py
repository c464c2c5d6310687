"""The deployment template for a stage, built from the same resource registry.

`python -m chalicelib.core.template --stage dev > build/resources-dev.json` writes a template
to merge into `chalice package --merge-template` (a deep merge: what this template names is
added to, or replaces, what chalice generates):

- every table (keys and GSIs from the PynamoDB models; TTL where a model has a TTLAttribute;
  deletion protection where the stage asks for it), every queue with its dead-letter queue,
  the bucket (encryption, versioning, TLS only, lifecycle rules per prefix);
- per function: its name (so its log group and policy are known before it exists), a
  `DependsOn` on its log group and queue, the event source's queue by `Fn::GetAtt`, partial
  batch responses and a maximum concurrency for each SQS handler;
- the API stage: X-Ray tracing, throttling, access logs, and a WAF association when the stage
  names a web ACL;
- CloudWatch alarms to the stage's SNS topic: dead-letter queue depth, Lambda errors and
  throttles, the API's 5xx rate, DynamoDB throttles per table, and what the reapers reap.

The stage's choices are in `.chalice/config.json`: chalice's own keys (`lambda_timeout`,
`lambda_memory_size`, `xray`, `log_retention_in_days`) and `taskhub_deploy` for the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
CHECKOV_SKIPS = PROJECT_DIR / "checkov-skips.yaml"
API_STAGE_NAME = "api"
SQS_PERIOD_S = 300  # SQS publishes its metrics every five minutes
PERIOD_S = 300
# The reapers' counts of stuck work (emitted with powertools Metrics in this namespace).
METRICS_NAMESPACE = "taskhub"
REAPED = {
    "scan_reaper": "ScanJobsReaped",
    "jobx_reaper": "JobxTasksReaped",
    "webhook_reaper": "WebhooksResent",
}
# The scheduler's count of slots it could not submit (a job, group or project gone).
SCHEDULES_FAILED = ("fire_schedules", "SchedulesFailed")
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integration.error",
    "xrayTraceId": "$context.xrayTraceId",
    "userAgent": "$context.identity.userAgent",
}


def stage_config(stage: str) -> dict[str, Any]:
    """The stage's section of `.chalice/config.json`."""
    return json.loads(CHALICE_CONFIG.read_text())["stages"][stage]


def function_config(stage: str, function: str) -> dict[str, Any]:
    """A function's effective chalice settings: the top level, the stage, then the function
    (chalice's own order of precedence)."""
    top = json.loads(CHALICE_CONFIG.read_text())
    stage_cfg = top["stages"][stage]
    merged: dict[str, Any] = {}
    for layer in (top, stage_cfg, stage_cfg.get("lambda_functions", {}).get(function, {})):
        merged.update({k: v for k, v in layer.items() if k not in ("stages", "lambda_functions")})
    return merged


def deploy_config(stage: str) -> dict[str, Any]:
    return stage_config(stage)["taskhub_deploy"]


def function_names(app: Any) -> list[str]:
    """Every Lambda function the app declares: the API handler, then each event handler."""
    return ["api_handler", *(source.name for source in app.event_sources)]


def _cfn_function(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if name == "api_handler" else to_cfn_resource_name(name)


def _cfn_log_group(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(f"{name}-log-group")


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)


def ttl_attribute(model: type) -> str | None:
    """The DynamoDB name of a model's TTLAttribute (items DynamoDB deletes once past it)."""
    from pynamodb.attributes import TTLAttribute

    for attribute in model.get_attributes().values():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name
    return None


def _table(model: type, deploy: dict[str, Any]) -> dict[str, Any]:
    from .resources import table_spec

    props = {
        **table_spec(model),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": bool(deploy.get("deletion_protection")),
    }
    ttl = ttl_attribute(model)
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def _bucket(name: str, deploy: dict[str, Any]) -> dict[str, Any]:
    from .policies import JOBX_OUTPUT, SCANS

    lifecycle = deploy["lifecycle"]
    rules = [
        {
            # Node output is shown while a task is looked at; it goes after the stage's days
            # (the step log then says the output expired).
            "Id": "jobx-output",
            "Status": "Enabled",
            "Prefix": JOBX_OUTPUT,
            "Transitions": [
                {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30},
            ],
            "ExpirationInDays": lifecycle["jobx_output_days"],
        },
        {
            # Scan reports stay (the overview reads the last successful one however old);
            # Intelligent-Tiering moves the ones nobody reads to cheaper tiers.
            "Id": "scans",
            "Status": "Enabled",
            "Prefix": SCANS,
            "Transitions": [
                {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30},
            ],
        },
        {
            # Versioning keeps what is overwritten or deleted, for this long only.
            "Id": "noncurrent-versions",
            "Status": "Enabled",
            "Prefix": "",
            "NoncurrentVersionExpiration": {"NoncurrentDays": lifecycle["noncurrent_version_days"]},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "Id": "delete-markers",
            "Status": "Enabled",
            "Prefix": "",
            "ExpiredObjectDeleteMarker": True,
        },
    ]
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": name,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": rules},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    }


def _bucket_policy() -> dict[str, Any]:
    bucket_arn = {"Fn::GetAtt": ["BlobBucket", "Arn"]}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "BlobBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, {"Fn::Sub": "${BlobBucket.Arn}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "Tls12",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, {"Fn::Sub": "${BlobBucket.Arn}/*"}],
                        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                    },
                ],
            },
        },
    }


def _alarm(name: str, description: str, topic: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "AlarmDescription": description,
            "AlarmActions": [topic],
            "OKActions": [topic],
            "TreatMissingData": "notBreaching",
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            **props,
        },
    }


def _metric(
    id_: str, namespace: str, metric: str, dimensions: dict[str, Any], stat: str, **extra: Any
) -> dict[str, Any]:
    return {
        "Id": id_,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": PERIOD_S,
            "Stat": stat,
        },
        "ReturnData": False,
        **extra,
    }


def _alarms(app: Any, stage: str, deploy: dict[str, Any]) -> dict[str, Any]:
    from . import resources

    alarms = deploy["alarms"]
    topic = {"Ref": "AlarmTopic"}
    prefix = f"taskhub-{stage}"
    out: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": alarms["topic"]}}
    }
    for spec in resources.QUEUES.values():
        dlq = f"Queue{_logical(spec.name)}Dlq"
        out[f"Alarm{_logical(spec.name)}DlqDepth"] = _alarm(
            f"{prefix}-{spec.name}-dlq-depth",
            f"Messages in the dead-letter queue of {spec.queue_name}: work that failed "
            f"{spec.max_receive_count} times and stopped.",
            topic,
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
            Statistic="Maximum",
            Period=SQS_PERIOD_S,
        )
    for function in function_names(app):
        cfn = _cfn_function(function)
        for metric in ("Errors", "Throttles"):
            out[f"Alarm{cfn}{metric}"] = _alarm(
                f"{prefix}-{function}-{metric.lower()}",
                f"Lambda {metric.lower()} of {function}.",
                topic,
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": {"Ref": cfn}}],
                Statistic="Sum",
                Period=PERIOD_S,
            )
    api = {"ApiName": f"{prefix}", "Stage": API_STAGE_NAME}
    out["AlarmApi5xxRate"] = _alarm(
        f"{prefix}-api-5xx-rate",
        f"More than {alarms['api_5xx_rate']:.0%} of API requests answered 5xx in "
        f"{PERIOD_S // 60} minutes (with at least {alarms['api_min_requests']} requests).",
        topic,
        Threshold=alarms["api_5xx_rate"],
        Metrics=[
            _metric("errors", "AWS/ApiGateway", "5XXError", api, "Sum"),
            _metric("requests", "AWS/ApiGateway", "Count", api, "Sum"),
            {
                "Id": "rate",
                "Expression": f"IF(requests >= {alarms['api_min_requests']}, errors / requests, 0)",
                "Label": "5xx rate",
                "ReturnData": True,
            },
        ],
    )
    for model in resources.TABLES:
        logical = f"Table{_logical(model.Meta.short_name)}"
        table = {"TableName": {"Ref": logical}}
        out[f"Alarm{logical}Throttles"] = _alarm(
            f"{prefix}-{model.Meta.short_name}-throttles",
            f"DynamoDB throttled requests on {model.Meta.table_name} (reads or writes, "
            "the table or its indexes' back-pressure).",
            topic,
            Metrics=[
                _metric("reads", "AWS/DynamoDB", "ReadThrottleEvents", table, "Sum"),
                _metric("writes", "AWS/DynamoDB", "WriteThrottleEvents", table, "Sum"),
                {
                    "Id": "throttled",
                    "Expression": "FILL(reads, 0) + FILL(writes, 0)",
                    "Label": "throttle events",
                    "ReturnData": True,
                },
            ],
        )
    for function, metric in REAPED.items():
        if function not in function_names(app):
            continue
        # A Metrics Insights query: it matches whatever other dimensions the emitter adds
        # (powertools adds `service`), as long as `stage` is this one.
        query = f"SELECT SUM({metric}) FROM {METRICS_NAMESPACE} WHERE stage = '{stage}'"  # noqa: S608
        out[f"Alarm{_logical(metric)}"] = _alarm(
            f"{prefix}-{metric}",
            f"{function} found stuck work ({metric} > {alarms['reaped_threshold']} in "
            f"{PERIOD_S // 60} minutes): messages lost or workers killed.",
            topic,
            Threshold=alarms["reaped_threshold"],
            Metrics=[{"Id": "reaped", "Expression": query, "Period": PERIOD_S, "ReturnData": True}],
        )
    function, metric = SCHEDULES_FAILED
    if function in function_names(app):
        query = f"SELECT SUM({metric}) FROM {METRICS_NAMESPACE} WHERE stage = '{stage}'"  # noqa: S608
        out[f"Alarm{_logical(metric)}"] = _alarm(
            f"{prefix}-{metric}",
            f"{function} could not submit a schedule's slot ({metric} > 0 in "
            f"{PERIOD_S // 60} minutes): its job, group or project is gone, or its domain refused it.",
            topic,
            Threshold=0,
            Metrics=[{"Id": "failed", "Expression": query, "Period": PERIOD_S, "ReturnData": True}],
        )
    return out


def _api(stage: str, deploy: dict[str, Any]) -> dict[str, Any]:
    api = deploy["api"]
    retention = stage_config(stage)["log_retention_in_days"]
    out: dict[str, Any] = {
        "ApiAccessLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "Properties": {
                "LogGroupName": f"/aws/apigateway/taskhub-{stage}/access",
                "RetentionInDays": retention,
            },
        },
        "RestAPI": {
            "Properties": {
                "Name": f"taskhub-{stage}",
                "DefinitionBody": {"info": {"title": f"taskhub-{stage}"}},
                "TracingEnabled": True,
                "AccessLogSetting": {
                    "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                    "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
                },
                "MethodSettings": [
                    {
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "ThrottlingRateLimit": api["throttle_rate"],
                        "ThrottlingBurstLimit": api["throttle_burst"],
                        "MetricsEnabled": False,
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                    }
                ],
            },
        },
    }
    if api.get("cloudwatch_role"):
        # API Gateway writes logs through one role per account and region (its account
        # settings); a stage that owns them creates it.
        out["ApiGatewayCloudWatchRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "ApiGatewayLogs",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "Logs",
                                    "Effect": "Allow",
                                    "Action": [
                                        "logs:CreateLogGroup",
                                        "logs:CreateLogStream",
                                        "logs:DescribeLogGroups",
                                        "logs:DescribeLogStreams",
                                        "logs:FilterLogEvents",
                                        "logs:GetLogEvents",
                                        "logs:PutLogEvents",
                                    ],
                                    "Resource": {
                                        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}"
                                        ":${AWS::AccountId}:log-group:*"
                                    },
                                }
                            ],
                        },
                    }
                ],
            },
        }
        out["ApiGatewayAccount"] = {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {
                "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
            },
        }
        out["RestAPI"]["DependsOn"] = ["ApiGatewayAccount"]
    if api.get("waf_web_acl_arn"):
        out["ApiWafAssociation"] = {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "DependsOn": [f"RestAPI{API_STAGE_NAME}Stage"],
            "Properties": {
                "ResourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"
                    f"${{RestAPI}}/stages/{API_STAGE_NAME}"
                },
                "WebACLArn": api["waf_web_acl_arn"],
            },
        }
    return out


def build(app: Any, stage: str | None = None) -> dict[str, Any]:
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    from . import resources
    from .config import settings
    from .policies import function_name, log_group

    stage = stage or settings().stage
    deploy = deploy_config(stage)
    out: dict[str, Any] = {}
    for model in resources.TABLES:
        out[f"Table{_logical(model.Meta.short_name)}"] = _table(model, deploy)
    queue_of: dict[str, str] = {}
    for spec in resources.QUEUES.values():
        dlq = f"Queue{_logical(spec.name)}Dlq"
        queue_of[spec.queue_name] = f"Queue{_logical(spec.name)}"
        out[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": spec.dlq_name,
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        }
        out[f"Queue{_logical(spec.name)}"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": spec.queue_name,
                "VisibilityTimeout": spec.visibility_timeout,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                    "maxReceiveCount": spec.max_receive_count,
                },
            },
        }
    out["BlobBucket"] = _bucket(settings().bucket, deploy)
    out["BlobBucketPolicy"] = _bucket_policy()
    for function in function_names(app):
        cfn = _cfn_function(function)
        log = _cfn_log_group(function)
        out[log] = {"Properties": {"LogGroupName": log_group(function, stage)}}
        props: dict[str, Any] = {"FunctionName": function_name(function, stage)}
        storage = deploy.get("ephemeral_storage_mb", {}).get(function)
        if storage:
            props["EphemeralStorage"] = {"Size": storage}
        out[cfn] = {"DependsOn": [log], "Properties": props}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            cfn = _cfn_function(source.name)
            queue = queue_of[source.queue]
            event = to_cfn_resource_name(f"{source.name}-sqs-event-source")
            # The queue by reference, so the event source mapping SAM makes depends on it (an
            # ARN built from its name, chalice's, let the mapping race the queue's creation).
            # The deep merge keeps chalice's key, so it is an Fn::Sub of the queue's Arn.
            out[cfn]["Properties"]["Events"] = {
                event: {
                    "Properties": {
                        "Queue": {"Fn::Sub": f"${{{queue}.Arn}}"},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "ScalingConfig": {
                            "MaximumConcurrency": deploy["max_concurrency"][source.name]
                        },
                    }
                }
            }
    out.update(_api(stage, deploy))
    out.update(_alarms(app, stage, deploy))
    return {"Resources": out}


def checkov_skips() -> dict[str, str]:
    """The checkov checks skipped on the packaged template, each with its reason."""
    import yaml

    return yaml.safe_load(CHECKOV_SKIPS.read_text())


def checkov_command(checkov: str, template: Path) -> list[str]:
    """checkov on the packaged template: every check but the listed skips, offline."""
    return [
        checkov,
        "--file",
        str(template),
        "--framework",
        "cloudformation",
        "--skip-check",
        ",".join(sorted(checkov_skips())),
        "--skip-download",
        "--compact",
        "--quiet",
        "--output",
        "cli",
    ]


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
    parser.add_argument("--stage")
    parser.add_argument("--policies", action="store_true", help="write .chalice/policy-*.json")
    parser.add_argument("--checkov", nargs=2, metavar=("CHECKOV", "TEMPLATE"), help="run it")
    args = parser.parse_args(argv)
    if args.checkov:
        import subprocess

        command = checkov_command(args.checkov[0], Path(args.checkov[1]))
        return subprocess.run(command, check=False).returncode  # noqa: S603
    if not args.stage:
        parser.error("--stage is required")
    if args.policies:
        for path in write_policies(args.stage, PROJECT_DIR / ".chalice"):
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
    json.dump(build(app, args.stage), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
