"""Per-request cost of checking an SDK-HMAC-SHA256 signature against a Bearer token, in µs.

    .venv/bin/python -m bench.signing [--iterations 5000]

The request is one a real CodeArtsCheckClient signed (list tasks). Each check is timed twice:
CPU only (the secret or the token's user in memory), and the way a face runs it, against moto
in process: `auth.authenticate` for the token (hash, token and user GetItems), and
`verify_request` with `identity.access_key_secret` for the signature (key and user GetItems,
Fernet decryption). moto's GetItems cost far more than DynamoDB's, so read the moto rows as
a ratio; the CPU rows are what the Lambda pays on top of its reads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.update(
    TASKHUB_STAGE="bench",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
)
for name in ("TASKHUB_EMBEDDED", "TASKHUB_ENDPOINT_URL", "AWS_PROFILE", "TASKHUB_SECRET_KEY"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import moto  # noqa: E402

from chalicelib.core import auth, config, crypto, resources  # noqa: E402
from chalicelib.core.errors import Unauthorized  # noqa: E402
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.sdk_signing import verify_request  # noqa: E402
from tests.core.huawei_sdk import codearts_model, sent_by_client  # noqa: E402

config.reload()

TOKEN = "bench-token-0123456789abcdef"
PROJECT = "devcloudproj00000000000000000001"


def per_call_us(check: Callable[[], object], iterations: int) -> tuple[float, float]:
    """(µs per call, DynamoDB calls per call) over `iterations` calls, after a warm-up."""
    for _ in range(min(50, iterations)):
        check()
    with count_calls() as calls:
        start = time.perf_counter()
        for _ in range(iterations):
            check()
        elapsed = time.perf_counter() - start
    return elapsed / iterations * 1e6, calls["dynamodb"] / iterations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="checks per case")
    args = parser.parse_args()
    with moto.mock_aws():
        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        user, _ = identity.upsert_user(uuid="BenchSig", name="Bench", email="b@example.com")
        identity.issue_token(user.uuid, token=TOKEN)
        ak, sk = identity.create_access_key(user.uuid)
        signed = sent_by_client(
            ak,
            sk,
            lambda c: c.show_task_list_by_project_id(
                codearts_model.ShowTaskListByProjectIdRequest(
                    project_id=PROJECT, offset=0, limit=10
                )
            ),
        )
        now = datetime.now(UTC)
        bearer = {"authorization": f"Bearer {TOKEN}"}

        def from_store(key_id: str) -> str | None:
            try:
                return identity.access_key_secret(key_id)[1]
            except Unauthorized:
                return None

        def signature(secret_for: Callable[[str], str | None]) -> Callable[[], object]:
            return lambda: verify_request(**signed.parts(), now=now, secret_for=secret_for)

        encrypted = crypto.encrypt(sk)
        cases = {
            "Bearer, CPU only (token hash)": lambda: crypto.hash_token(TOKEN),
            "SDK signature, CPU only": signature({ak: sk}.get),
            "Fernet decrypt of the secret": lambda: crypto.decrypt(encrypted),
            "Bearer, auth.authenticate (moto)": lambda: auth.authenticate(bearer),
            "SDK signature, secret from identity (moto)": signature(from_store),
        }
        results = {name: per_call_us(check, args.iterations) for name, check in cases.items()}
    print(f"{args.iterations} checks per case; µs per request and DynamoDB calls per request")
    print(f"{'check':44} {'µs':>9} {'DDB':>5}")
    for name, (us, ddb) in results.items():
        print(f"{name:44} {us:9.1f} {ddb:5.1f}")
    cpu = results["SDK signature, CPU only"][0] / results["Bearer, CPU only (token hash)"][0]
    full = (
        results["SDK signature, secret from identity (moto)"][0]
        / results["Bearer, auth.authenticate (moto)"][0]
    )
    print(f"signature / Bearer: {cpu:.1f}x CPU only, {full:.2f}x with the reads (moto)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
