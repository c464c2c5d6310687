"""CodeArts face: what a signature costs beside a token, and DynamoDB calls per request for
list, progress and defects-detail at 10 and at 1,000 tasks.

    .venv/bin/python -m bench.codearts_calls [--requests 30] [--iterations 2000]

Runs the app in-process against moto (no AWS account; the only network is a loopback git
server the task's repository is fetched from). Requests are sent by Huawei's own
CodeArtsCheckClient, signed with an AK/SK pair, through a transport that hands them to
Chalice's test gateway; the same requests with `X-Auth-Token` are counted too. Call counts
are exact (`count_calls` wraps botocore). Times are moto in one Python process: read them
as ratios, not as DynamoDB latency.

The signature rows time `core.auth.authenticate` itself, as every face runs it, with its
reads against moto (the access key and its user and the Fernet decryption of the secret;
the token's hash, the token and its user), and, as bench.signing does, CPU only: the
signature check with the secret in memory beside the token's hash.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from . import signing  # sets the bench environment (stage, fake AWS credentials) first

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import moto  # noqa: E402

from chalicelib.core import auth, crypto, resources, workspace  # noqa: E402
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.sdk_signing import verify_request  # noqa: E402

from .codearts_data import bulk_tasks  # noqa: E402

PROJECT = "be0c4c0de0a7c5be0c4c0de0a7c5be0c"
USER, TOKEN = "BenchCA1", "bench-codearts-token-0123456789"
DOCUMENT = {
    "users": [{"uuid": USER, "name": "bench", "email": "bench-ca@example.com", "token": TOKEN}],
    "namespaces": [{"face": "codearts", "id": PROJECT, "members": {USER: "member"}}],
}
SOURCES = {
    "app/bad.py": "import os\n\n\ndef f(x):\n    l = 1\n    return x == None\n",
    "run.sh": "#!/bin/sh\necho $1\n",
}


def signature_costs(iterations: int, ak: str, sk: str) -> dict[str, tuple[float, float]]:
    """µs and DynamoDB calls per check: auth.authenticate for a signed request and for a
    token, CPU only and with the identity reads."""
    from tests.core.huawei_sdk import codearts_model as m
    from tests.core.huawei_sdk import sent_by_client

    signed = sent_by_client(
        ak,
        sk,
        lambda c: c.show_task_list_by_project_id(
            m.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
        ),
    )
    received = auth.Received(signed.method, signed.path, signed.query, signed.body)
    now = datetime.now(UTC)
    token_headers = {"x-auth-token": TOKEN}
    in_memory = {ak: sk}.get

    return {
        "token, CPU only (its hash)": signing.per_call_us(
            lambda: crypto.hash_token(TOKEN), iterations
        ),
        "signature, CPU only": signing.per_call_us(
            lambda: verify_request(**signed.parts(), now=now, secret_for=in_memory), iterations
        ),
        "token, auth.authenticate (moto)": signing.per_call_us(
            lambda: auth.authenticate(token_headers), iterations
        ),
        "signature, auth.authenticate (moto)": signing.per_call_us(
            lambda: auth.authenticate(signed.headers, received, now), iterations
        ),
    }


class Requests:
    """The three requests, by the SDK (signed) and by the REST docs (X-Auth-Token)."""

    def __init__(self, test_client, sdk, task_id: str):
        from tests.codearts.sdk import codearts_model as m

        self.client, self.sdk, self.task_id = test_client, sdk, task_id
        self.signed = {
            "list (page of 10)": lambda: sdk.show_task_list_by_project_id(
                m.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
            ),
            "progress": lambda: sdk.show_progress_detail(
                m.ShowProgressDetailRequest(task_id=task_id)
            ),
            "defects-detail (20)": lambda: sdk.show_task_defects(
                m.ShowTaskDefectsRequest(task_id=task_id, offset=0, limit=20)
            ),
        }
        self.paths = {
            "list (page of 10)": f"/v2/{PROJECT}/tasks?offset=0&limit=10",
            "progress": f"/v2/tasks/{task_id}/progress",
            "defects-detail (20)": f"/v2/tasks/{task_id}/defects-detail?offset=0&limit=20",
        }

    def token(self, name: str):
        answer = self.client.http.get(self.paths[name], headers={"X-Auth-Token": TOKEN})
        assert answer.status_code == 200, answer.body

    def measure(self, n: int) -> dict[str, tuple[float, float, float]]:
        """name -> (signed calls, token calls, signed requests per second)."""
        out = {}
        for name, call in self.signed.items():
            signed_calls = token_calls = 0
            start = time.perf_counter()
            for _ in range(n):
                with count_calls() as calls:
                    call()
                signed_calls += calls["dynamodb"]
            elapsed = time.perf_counter() - start
            for _ in range(n):
                with count_calls() as calls:
                    self.token(name)
                token_calls += calls["dynamodb"]
            out[name] = (signed_calls / n, token_calls / n, n / elapsed)
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="requests per kind")
    parser.add_argument("--iterations", type=int, default=2000, help="checks per auth case")
    args = parser.parse_args()
    os.environ["TASKHUB_SCAN_ALLOW_LOOPBACK"] = "1"
    from chalice.test import Client

    from tests.codearts.sdk import codearts_model as m
    from tests.codearts.sdk import sdk_client
    from tests.scans.conftest import drain
    from tests.scans.gitserver import GitRepo, GitServer

    with moto.mock_aws(), tempfile.TemporaryDirectory() as tmp:
        from app import app

        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        workspace.apply(DOCUMENT)
        ak, sk = identity.create_access_key(USER)
        repo = GitRepo.init(Path(tmp) / "demo.git")
        repo.commit(SOURCES)
        with GitServer(Path(tmp)) as git, Client(app) as client:
            sdk = sdk_client(client, ak, sk, PROJECT)
            body = m.CreateTaskRequestV2(git_url=git.url("demo.git"), git_branch="master")
            task_id = sdk.create_task(m.CreateTaskRequest(project_id=PROJECT, body=body)).task_id
            sdk.run_task(m.RunTaskRequest(task_id=task_id, body=m.RunRequestV2()))
            drain()
            status = sdk.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id))
            assert status.task_status == 2, status
            bench = Requests(client, sdk, task_id)
            bulk_tasks(PROJECT, 9, task_id)
            small = bench.measure(args.requests)
            bulk_tasks(PROJECT, 990, task_id)
            large = bench.measure(args.requests)
            total = sdk.show_task_list_by_project_id(
                m.ShowTaskListByProjectIdRequest(project_id=PROJECT)
            ).total
            assert total == 1000, total
        costs = signature_costs(args.iterations, ak, sk)
        repo.close()

    print(f"CodeArts face, {args.requests} requests per kind, moto in-process")
    print(
        f"{'request':22} {'signed@10':>10} {'signed@1000':>12} {'token@10':>9} "
        f"{'token@1000':>11} {'req/s@10':>9} {'req/s@1000':>11}"
    )
    for name in small:
        (s1, t1, r1), (s2, t2, r2) = small[name], large[name]
        print(f"{name:22} {s1:10.1f} {s2:12.1f} {t1:9.1f} {t2:11.1f} {r1:9.0f} {r2:11.0f}")
    flat = all(small[k][:2] == large[k][:2] for k in small)
    print("calls per request the same at 10 and 1,000 tasks:", "yes" if flat else "NO")
    print(f"\n{args.iterations} checks per case; µs per check and DynamoDB calls per check")
    print(f"{'check':38} {'µs':>9} {'DDB':>5}")
    for name, (us, ddb) in costs.items():
        print(f"{name:38} {us:9.1f} {ddb:5.1f}")
    cpu = costs["signature, CPU only"][0] / costs["token, CPU only (its hash)"][0]
    full = (
        costs["signature, auth.authenticate (moto)"][0]
        / costs["token, auth.authenticate (moto)"][0]
    )
    print(f"signature / token: {cpu:.1f}x CPU only, {full:.2f}x with the reads (moto)")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
