"""The deployment template: `chalice package` accepts the route table (API Gateway's rules)
and the merged registry resources, and cfn-lint finds nothing wrong."""

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.core import resources
from chalicelib.faces import load_faces

ROOT = Path(__file__).resolve().parents[1]


def test_package_with_registry_resources_passes_cfn_lint(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")},
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    load_faces()
    bin_dir = Path(sys.executable).parent
    merge = tmp_path / "resources.json"
    built = subprocess.run(
        [sys.executable, "-m", "chalicelib.core.template", "--stage", "dev"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    merge.write_text(built.stdout)
    out = tmp_path / "pkg"
    subprocess.run(
        [
            str(bin_dir / "chalice"),
            "package",
            "--stage",
            "dev",
            "--merge-template",
            str(merge),
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    template = json.loads((out / "sam.json").read_text())
    names = {
        r["Properties"].get("TableName")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    expected = {f"taskhub-dev-{model.Meta.short_name}" for model in resources.TABLES}
    assert expected <= names
    queues = {
        r["Properties"]["QueueName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SQS::Queue"
    }
    for spec in resources.QUEUES.values():
        assert {f"taskhub-dev-{spec.name}", f"taskhub-dev-{spec.name}-dlq"} <= queues
    for resource in template["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    lint = subprocess.run(
        [str(bin_dir / "cfn-lint"), str(out / "sam.json")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
