"""The deployment template: `chalice package` accepts the route table and the merged registry
resources; cfn-lint and checkov find nothing wrong; the IAM it ships has no wildcard outside a
short allow-list; the sizing rules hold; and the stack, after SAM's transform, is created in
moto's CloudFormation, so a broken reference or an order CloudFormation cannot follow fails
here rather than at the first deploy.

Packaging builds the deployment zip (about 20 s per stage once chalice's wheel cache is warm);
one module fixture packages each stage once for every test here.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chalicelib.apidocs import bundle
from chalicelib.core import policies, resources, template
from chalicelib.faces import load_faces

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
STAGES = ("dev", "prod")
REGION = "us-east-1"
# What moto's CloudFormation skips (it warns and creates nothing); the rehearsal creates the
# alarms and the bucket policy through their own APIs instead. A type that joins this list
# is noticed here.
MOTO_SKIPS = {
    "AWS::CloudWatch::Alarm",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Account",
    "AWS::S3::BucketPolicy",
}


def _env() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")},
        "AWS_DEFAULT_REGION": REGION,
    }


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict[str, Path]:
    """Each stage's packaged SAM template (build/package-<stage>/sam.json, as make builds it)."""
    load_faces()
    bundle.build()  # the served API docs, as `make package` puts them into chalicelib/
    out: dict[str, Path] = {}
    for stage in STAGES:
        work = tmp_path_factory.mktemp(f"package-{stage}")
        merge = work / "resources.json"
        built = subprocess.run(
            [sys.executable, "-m", "chalicelib.core.template", "--stage", stage],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        merge.write_text(built.stdout)
        subprocess.run(
            [BIN / "chalice", "package", "--stage", stage, "--merge-template", merge, work / "pkg"],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        out[stage] = work / "pkg" / "sam.json"
    return out


def load(packaged: dict[str, Path], stage: str) -> dict[str, Any]:
    return json.loads(packaged[stage].read_text())


def of_type(tmpl: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in tmpl["Resources"].items() if r["Type"] == kind}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    """An ARN as written in the template: a string, or an Fn::Sub's pattern."""
    return value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else str(value)


# ---- what the template holds -----------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_every_table_queue_and_handler_is_in_the_package(packaged, stage):
    tmpl = load(packaged, stage)
    names = {
        r["Properties"].get("TableName") for r in of_type(tmpl, "AWS::DynamoDB::Table").values()
    }
    assert {f"taskhub-{stage}-{m.Meta.short_name}" for m in resources.TABLES} <= names
    queues = {r["Properties"]["QueueName"] for r in of_type(tmpl, "AWS::SQS::Queue").values()}
    for spec in resources.QUEUES.values():
        assert {f"taskhub-{stage}-{spec.name}", f"taskhub-{stage}-{spec.name}-dlq"} <= queues
    for resource in tmpl["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_package_holds_the_served_api_docs(packaged):
    """Every document of docs/openapi and Swagger UI's files, as a working tree serves them."""
    with zipfile.ZipFile(packaged["dev"].parent / "deployment.zip") as zipped:
        shipped = {
            name.removeprefix("chalicelib/apidocs/dist/"): zipped.read(name)
            for name in zipped.namelist()
            if name.startswith("chalicelib/apidocs/dist/")
        }
    assert shipped == bundle.contents()
    assert {f"openapi/{p.stem}.json" for p in bundle.SOURCES.glob("*.yaml")} <= set(shipped)


@pytest.mark.parametrize("stage", STAGES)
def test_the_package_passes_cfn_lint(packaged, stage):
    lint = subprocess.run(
        [str(BIN / "cfn-lint"), str(packaged[stage])], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_checkov_skip_says_why():
    skips = template.checkov_skips()
    assert skips, "checkov-skips.yaml lists no skip"
    for check, reason in skips.items():
        assert check.startswith(("CKV_", "CKV2_")), check
        assert isinstance(reason, str) and len(reason) > 40, check


@pytest.mark.parametrize("stage", STAGES)
def test_the_package_passes_checkov(packaged, stage):
    assert CHECKOV.exists(), "make test installs checkov in .venv-checkov"
    command = template.checkov_command(str(CHECKOV), packaged[stage])
    found = subprocess.run(command, capture_output=True, text=True, timeout=300)
    summary = [line for line in found.stdout.splitlines() if "Passed checks" in line]
    assert found.returncode == 0, found.stdout[-6000:] + found.stderr[-2000:]
    assert summary and "Failed checks: 0," in summary[0], summary


# ---- IAM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_no_shipped_statement_has_a_wildcard_outside_the_allow_list(packaged, stage):
    """Every role's statements in the packaged template: `*` (or `service:*`) as an action only
    never, `*` as a resource only for actions without resource-level permissions."""
    roles = of_type(load(packaged, stage), "AWS::IAM::Role")
    assert len(roles) >= 7  # one per function, and API Gateway's logging role
    for name, role in roles.items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                acts = listed(statement["Action"])
                assert not any(a == "*" or a.endswith(":*") for a in acts), (name, statement)
                if "*" in [text(r) for r in listed(statement["Resource"])]:
                    assert set(acts) <= set(policies.NO_RESOURCE_LEVEL), (name, statement)
                    assert statement["Resource"] == "*", (name, statement)


@pytest.mark.parametrize("stage", STAGES)
def test_every_resource_is_in_the_stacks_account_and_region(packaged, stage):
    for name, role in of_type(load(packaged, stage), "AWS::IAM::Role").items():
        for inline in role["Properties"]["Policies"]:
            for statement in inline["PolicyDocument"]["Statement"]:
                for resource in map(text, listed(statement["Resource"])):
                    if resource == "*":
                        continue
                    assert resource.startswith("arn:${AWS::Partition}:"), (name, resource)
                    service = resource.removeprefix("arn:${AWS::Partition}:").split(":")[0]
                    if service == "s3":  # bucket names are global: checked by account instead
                        assert resource.startswith(f"arn:${{AWS::Partition}}:s3:::taskhub-{stage}-")
                        account = statement["Condition"]["StringEquals"]["s3:ResourceAccount"]
                        assert account == {"Ref": "AWS::AccountId"}
                    elif ":document/AWS-" in resource:  # AWS's own documents have no account
                        assert resource.startswith("arn:${AWS::Partition}:ssm:${AWS::Region}::")
                    else:
                        where = f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:"
                        assert resource.startswith(where), (name, resource)
                    if service in ("dynamodb", "sqs") or ":parameter/" in resource:
                        assert f"taskhub-{stage}-" in resource or f"/taskhub/{stage}/" in resource


@pytest.mark.parametrize("stage", STAGES)
def test_each_function_has_its_own_role(packaged, stage):
    tmpl = load(packaged, stage)
    functions = of_type(tmpl, "AWS::Serverless::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(functions) == len(policies.FUNCTIONS)


# ---- sizing, tracing, logs, alarms -------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_timeouts_visibility_and_concurrency(packaged, stage):
    from chalicelib.jobs import engine as jobx_engine
    from chalicelib.jobs import runner
    from chalicelib.scans.config import limits
    from chalicelib.webhooks import delivering

    tmpl = load(packaged, stage)
    functions = of_type(tmpl, "AWS::Serverless::Function")
    timeout = {
        f["Properties"]["FunctionName"].split(f"taskhub-{stage}-")[1]: f["Properties"]["Timeout"]
        for f in functions.values()
    }
    assert timeout["api_handler"] <= 29  # API Gateway's integration timeout
    queues = of_type(tmpl, "AWS::SQS::Queue")
    consumers = 0
    for function in functions.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            consumers += 1
            props = event["Properties"]
            logical = props["Queue"]["Fn::Sub"].removeprefix("${").removesuffix(".Arn}")
            queue = queues[logical]["Properties"]
            assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"], logical
            assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= 1000
            assert props["BatchSize"] == 1
    assert consumers == 4
    os.environ.pop("TASKHUB_SCAN_LEASE", None)
    assert limits().lease_s > timeout["scan_queue"]  # a live worker keeps its claim
    assert timeout["jobx_queue"] <= jobx_engine.LEASE_S  # claimed after the function starts
    assert timeout["jobx_local"] > runner.BUDGET_S
    assert timeout["webhook_queue"] < delivering.LEASE_S  # one attempt holds its delivery


@pytest.mark.parametrize("stage", STAGES)
def test_tracing_log_groups_and_api_stage(packaged, stage):
    tmpl = load(packaged, stage)
    retention = template.stage_config(stage)["log_retention_in_days"]
    groups = of_type(tmpl, "AWS::Logs::LogGroup")
    for name, function in of_type(tmpl, "AWS::Serverless::Function").items():
        props = function["Properties"]
        assert props["Tracing"] == "Active", name
        (log,) = [d for d in function["DependsOn"] if d in groups]
        assert groups[log]["Properties"] == {
            "LogGroupName": f"/aws/lambda/{props['FunctionName']}",
            "RetentionInDays": retention,
        }
    api = tmpl["Resources"]["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    (settings,) = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert groups["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == retention
    waf = template.deploy_config(stage)["api"].get("waf_web_acl_arn")
    assert ("ApiWafAssociation" in tmpl["Resources"]) == bool(waf)


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_cover_queues_functions_api_tables_and_reapers(packaged, stage):
    tmpl = load(packaged, stage)
    alarms = of_type(tmpl, "AWS::CloudWatch::Alarm")
    topic = tmpl["Resources"]["AlarmTopic"]["Properties"]["TopicName"]
    assert topic == template.deploy_config(stage)["alarms"]["topic"]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    names = {a["Properties"]["AlarmName"] for a in alarms.values()}
    for spec in resources.QUEUES.values():
        assert f"taskhub-{stage}-{spec.name}-dlq-depth" in names
    for function in policies.FUNCTIONS:
        assert {
            f"taskhub-{stage}-{function}-errors",
            f"taskhub-{stage}-{function}-throttles",
        } <= names
    for model in resources.TABLES:
        assert f"taskhub-{stage}-{model.Meta.short_name}-throttles" in names
    assert {
        f"taskhub-{stage}-api-5xx-rate",
        f"taskhub-{stage}-ScanJobsReaped",
        f"taskhub-{stage}-JobxTasksReaped",
        f"taskhub-{stage}-SchedulesFailed",
    } <= names
    query = next(
        a for a in alarms.values() if a["Properties"]["AlarmName"].endswith("ScanJobsReaped")
    )["Properties"]["Metrics"][0]["Expression"]
    assert query == f"SELECT SUM(ScanJobsReaped) FROM taskhub WHERE stage = '{stage}'"  # noqa: S608


@pytest.mark.parametrize("stage", STAGES)
def test_storage_settings(packaged, stage):
    tmpl = load(packaged, stage)
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in of_type(tmpl, "AWS::DynamoDB::Table").values()
    }
    protected = template.deploy_config(stage)["deletion_protection"]
    assert protected is (stage == "prod")
    for name, props in tables.items():
        assert props["DeletionProtectionEnabled"] is protected, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name
    expiring = {name for name, props in tables.items() if "TimeToLiveSpecification" in props}
    assert expiring == {f"taskhub-{stage}-scan-claims", f"taskhub-{stage}-scan-shards"}
    bucket = tmpl["Resources"]["BlobBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    prefixes = {r.get("Prefix") for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"jobx/output/", "scans/"} <= prefixes
    statements = tmpl["Resources"]["BlobBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in statements]
    for queue in of_type(tmpl, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


# ---- the deploy rehearsal ----------------------------------------------------------------------


def _transformed(tmpl: dict[str, Any]) -> dict[str, Any]:
    """SAM's transform of the template, as CloudFormation runs it before creating anything."""
    from samtranslator.translator.transform import transform

    for resource in tmpl["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://rehearsal-code/deployment.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(tmpl, {}, NoManagedPolicies())


def _import_swagger(monkeypatch) -> None:
    """moto's RestApi ignores `Body`: make its resources and methods, so the deployment has
    methods and every integration URI (a reference to the API handler) is resolved."""
    from moto.apigateway import models

    original = models.RestAPI.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        api = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = models.apigateway_backends[account_id][region_name]
        root = next(r for r in api.resources.values() if r.parent_id is None)
        made = {"": root}
        for path, methods in cloudformation_json["Properties"]["Body"]["paths"].items():
            here = ""
            for part in [p for p in path.split("/") if p]:
                parent, here = made[here], f"{here}/{part}"
                if here not in made:
                    made[here] = backend.create_resource(api.id, parent.id, part)
            node = made[here]
            for verb, spec in methods.items():
                integration = spec["x-amazon-apigateway-integration"]
                assert "arn:aws:lambda:" in integration["uri"], integration["uri"]
                backend.put_method(api.id, node.id, verb.upper(), "NONE")
                backend.put_integration(
                    api.id,
                    node.id,
                    verb.upper(),
                    integration["type"].upper(),
                    integration["uri"],
                    integration_method=integration["httpMethod"],
                )
        return api

    monkeypatch.setattr(models.RestAPI, "create_from_cloudformation_json", classmethod(create))


def _resolve(value: Any, physical: dict[str, str], attributes: dict[tuple[str, str], str]) -> Any:
    """Ref and Fn::GetAtt of what moto created (for the resources it skips)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return physical[value["Ref"]]
        if "Fn::GetAtt" in value:
            return attributes[tuple(value["Fn::GetAtt"])]
        if "Fn::Sub" in value:
            pattern = value["Fn::Sub"]
            for (logical, attribute), found in attributes.items():
                pattern = pattern.replace(f"${{{logical}.{attribute}}}", found)
            return pattern
        return {k: _resolve(v, physical, attributes) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, physical, attributes) for v in value]
    return value


@pytest.mark.parametrize("stage", STAGES)
def test_the_stack_is_created_in_moto(packaged, stage, monkeypatch):
    import boto3
    from moto import mock_aws

    for key in ("TASKHUB_ENDPOINT_URL", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    body = _transformed(load(packaged, stage))
    kinds = Counter(r["Type"] for r in body["Resources"].values())
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)
    for name, resource in body["Resources"].items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":  # waits for its queue
            assert "Fn::Sub" in resource["Properties"]["EventSourceArn"], name
    _import_swagger(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="rehearsal-code")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return None\n")
        s3.put_object(Bucket="rehearsal-code", Key="deployment.zip", Body=code.getvalue())
        cfn = boto3.client("cloudformation", region_name=REGION)
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            cfn.create_stack(
                StackName=f"taskhub-{stage}",
                TemplateBody=json.dumps(body),
                Capabilities=["CAPABILITY_IAM"],
            )
        stack = cfn.describe_stacks(StackName=f"taskhub-{stage}")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        unsupported = {
            str(w.message).split("parse ")[1].split(" but")[0]
            for w in skipped
            if "not supported by moto" in str(w.message)
        }
        assert unsupported == MOTO_SKIPS
        created = cfn.get_paginator("list_stack_resources").paginate(StackName=f"taskhub-{stage}")
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for page in created
            for r in page["StackResourceSummaries"]
        }
        expected = {n for n, r in body["Resources"].items() if r["Type"] not in MOTO_SKIPS}
        assert expected <= set(physical)

        sqs = boto3.client("sqs", region_name=REGION)
        attributes: dict[tuple[str, str], str] = {}
        for name, resource in body["Resources"].items():
            if resource["Type"] == "AWS::SQS::Queue":
                got = sqs.get_queue_attributes(QueueUrl=physical[name], AttributeNames=["All"])
                attributes[(name, "Arn")] = got["Attributes"]["QueueArn"]
                attributes[(name, "QueueName")] = physical[name].rsplit("/", 1)[1]
            if resource["Type"] == "AWS::S3::Bucket":
                attributes[(name, "Arn")] = f"arn:aws:s3:::{physical[name]}"
        # What moto's CloudFormation skips, through the services' own APIs: every reference
        # resolves to a resource of the stack, and each call's parameters are valid.
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        alarms = [r for r in body["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        for alarm in alarms:
            cloudwatch.put_metric_alarm(**_resolve(alarm["Properties"], physical, attributes))
        assert len(cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]) == len(alarms)
        (policy,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
        resolved = _resolve(policy["Properties"], physical, attributes)
        s3.put_bucket_policy(
            Bucket=resolved["Bucket"], Policy=json.dumps(resolved["PolicyDocument"])
        )
        s3.head_bucket(Bucket=f"taskhub-{stage}-blobs")  # (moto's CloudFormation drops its
        # versioning, encryption and lifecycle settings: test_storage_settings reads them)
        mappings = boto3.client("lambda", region_name=REGION).list_event_source_mappings()
        assert {m["ScalingConfig"]["MaximumConcurrency"] for m in mappings["EventSourceMappings"]}
