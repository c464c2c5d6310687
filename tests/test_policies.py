"""Least privilege per function: the committed policy files are what core/policies.py
builds, every function of the app has one, and each grants only what that function does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import app as chalice_app
from chalicelib.core.policies import FUNCTIONS, TAG_KEY, file_name, policy

CHALICE = Path(__file__).resolve().parents[1] / ".chalice"
STAGES = ("dev", "prod")
IDENTITY = ("users", "tokens", "access-keys", "namespaces", "memberships")


def statements(function: str, stage: str = "dev") -> list[dict]:
    return json.loads((CHALICE / file_name(function, stage)).read_text())["Statement"]


def actions(statement: dict) -> list[str]:
    found = statement["Action"]
    return [found] if isinstance(found, str) else found


def resources_of(statement: dict) -> list[str]:
    found = statement["Resource"]
    return [found] if isinstance(found, str) else found


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
        assert documents == ["arn:aws:ssm:*::document/AWS-RunShellScript"]


def test_the_local_runner_can_only_record_results():
    granted = statements("jobx_local")
    tables = {r for s in granted for r in resources_of(s) if ":dynamodb:" in r}
    assert tables == {
        "arn:aws:dynamodb:*:*:table/taskhub-dev-jobx-results",
        "arn:aws:dynamodb:*:*:table/taskhub-dev-jobx-results/index/*",
    }
    blobs = {r for s in granted for r in resources_of(s) if ":s3:" in r}
    assert blobs == {"arn:aws:s3:::taskhub-dev-blobs/jobx/output/*"}
    assert not any(a.startswith(("ssm:", "ec2:")) for s in granted for a in actions(s))


def test_no_function_but_the_api_writes_identity():
    for function in FUNCTIONS:
        if function == "api_handler":
            continue
        for statement in statements(function):
            for resource in resources_of(statement):
                assert not any(resource.endswith(f"-{name}") for name in IDENTITY), (
                    function,
                    resource,
                )
                assert not resource.endswith("table/taskhub-dev-*"), function
