"""Least privilege per function: the committed policy files are what core/policies.py
builds, every function of the app has one, each grants only what that function does, and no
statement has a wildcard action or resource outside the short allow-list of actions without
resource-level permissions (tests/test_package.py checks the same on the packaged template)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import app as chalice_app
from chalicelib.core.policies import (
    FUNCTIONS,
    NO_RESOURCE_LEVEL,
    READ,
    TAG_KEY,
    file_name,
    policy,
)

CHALICE = Path(__file__).resolve().parents[1] / ".chalice"
STAGES = ("dev", "prod")
IDENTITY = ("users", "tokens", "access-keys", "namespaces", "memberships")


def statements(function: str, stage: str = "dev") -> list[dict]:
    return json.loads((CHALICE / file_name(function, stage)).read_text())["Statement"]


def actions(statement: dict) -> list[str]:
    found = statement["Action"]
    return [found] if isinstance(found, str) else found


def resources_of(statement: dict) -> list[str]:
    """The statement's resources as written: `*`, or each ARN's Fn::Sub pattern."""
    found = statement["Resource"]
    found = found if isinstance(found, list) else [found]
    return [r["Fn::Sub"] if isinstance(r, dict) else r for r in found]


TABLE = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_outside_the_allow_list(stage):
    """The allow-list: actions IAM takes only on `*`, each with its reason in policies.py."""
    for function in FUNCTIONS:
        for statement in statements(function, stage):
            acts = actions(statement)
            assert not any(a == "*" or a.endswith(":*") for a in acts), (function, statement)
            if "*" in resources_of(statement):
                assert statement["Resource"] == "*"
                assert set(acts) <= set(NO_RESOURCE_LEVEL), (function, statement)
            assert statement["Effect"] == "Allow"


def test_the_api_names_every_table_and_only_the_stages():
    from chalicelib.core import resources

    granted = {r for s in statements("api_handler") for r in resources_of(s) if ":dynamodb:" in r}
    names = {r.removeprefix(TABLE).split("/")[0] for r in granted}
    assert names == {f"taskhub-dev-{m.Meta.short_name}" for m in resources.TABLES}


@pytest.mark.parametrize("stage", STAGES)
def test_the_committed_policies_are_the_built_ones(stage):
    for function in FUNCTIONS:
        committed = json.loads((CHALICE / file_name(function, stage)).read_text())
        assert committed == policy(function, stage), f"run make policies ({function})"


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_of_the_app_has_its_own_policy(stage):
    config = json.loads((CHALICE / "config.json").read_text())["stages"][stage]
    functions = {"api_handler", *(s.name for s in chalice_app.event_sources)}
    assert functions == set(FUNCTIONS)
    for function in functions:
        assert config["lambda_functions"][function]["iam_policy_file"] == file_name(function, stage)


def test_only_the_worker_sends_commands_and_only_to_tagged_instances():
    for function in FUNCTIONS:
        sends = [s for s in statements(function) if "ssm:SendCommand" in actions(s)]
        if function != "jobx_queue":
            assert sends == [], function
            continue
        on_instances = [s for s in sends if "instance" in resources_of(s)[0]]
        assert [s["Condition"] for s in on_instances] == [
            {"StringLike": {f"ssm:resourceTag/{TAG_KEY}": "?*"}}
        ]
        documents = [r for s in sends for r in resources_of(s) if ":document/" in r]
        assert documents == [
            "arn:${AWS::Partition}:ssm:${AWS::Region}::document/AWS-RunShellScript"
        ]


def test_the_local_runner_can_only_record_results():
    granted = statements("jobx_local")
    tables = {r for s in granted for r in resources_of(s) if ":dynamodb:" in r}
    assert tables == {f"{TABLE}taskhub-dev-jobx-results"}  # it has no index
    blobs = {r for s in granted for r in resources_of(s) if ":s3:" in r}
    assert blobs == {"arn:${AWS::Partition}:s3:::taskhub-dev-blobs/jobx/output/*"}
    assert not any(a.startswith(("ssm:", "ec2:")) for s in granted for a in actions(s))


def test_no_function_but_the_api_writes_identity():
    """The scheduler reads who may run what (users, namespaces, memberships); nothing but
    the API writes them, and no one else reads tokens or access keys."""
    readers = {"fire_schedules": {"users", "namespaces", "memberships"}}
    for function in FUNCTIONS:
        if function == "api_handler":
            continue
        for statement in statements(function):
            read_only = set(actions(statement)) <= set(READ)
            for resource in resources_of(statement):
                named = {n for n in IDENTITY if resource.endswith(f"-{n}")}
                allowed = readers.get(function, set()) if read_only else set()
                assert named <= allowed, (function, resource)
                assert not resource.endswith("table/taskhub-dev-*"), function


@pytest.mark.parametrize("stage", STAGES)
def test_each_policy_fits_iams_inline_limit(stage):
    """IAM takes at most 10,240 characters of inline policy per role (whitespace aside), counted
    after CloudFormation substituted the partition, region and account."""
    for function in FUNCTIONS:
        rendered = json.dumps(policy(function, stage), separators=(",", ":"))
        rendered = (
            rendered.replace("${AWS::Partition}", "aws-us-gov")
            .replace("${AWS::Region}", "ap-southeast-4")
            .replace("${AWS::AccountId}", "123456789012")
            .replace('{"Fn::Sub":', "")
        )
        assert len(rendered) < 9000, (function, len(rendered))
