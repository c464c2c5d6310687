"""Peak memory of each Lambda function's work, measured in a process of its own, as Lambda
runs each function: the figures behind `lambda_memory_size` in `.chalice/config.json`.

The parent holds the embedded store (so its memory is not counted) and prepares the work: a
workspace, this repository as a git repository, a TCA project and one full scan of it. Then a
fresh child process per function imports `app` (every function's handler module is app.py, so
each pays the whole import) and does that function's work:

- scan_queue: every message of the scan (start: fetch and pack; shards; merges; close),
  delivered to the handler one at a time;
- api_handler: a request mix through the Chalice test client (health, TCA project, scan and
  issue reads, the admin workspace export, JOBX and ONES reads), 300 requests;
- the reapers and the JOBX worker: one reap each (their work per invocation is a few queries).

Each child reports its peak RSS (VmHWM) after the import and after the work, the peak of
its child processes (the scan tools: ruff, shellcheck run as subprocesses, one at a time, so a
Lambda sandbox holds at most the handler plus one tool), and the CPU seconds of the import
(at 1,769 MB a function has one vCPU; below that, CPU time stretches by 1,769 / MB).

    .venv/bin/python -m bench.lambda_memory
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORG, TEAM = "org1", "team1"
TOKEN = "bench-memory-member-token-0123456789"
ADMIN_TOKEN = "bench-memory-admin-token-0123456789"


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TASKHUB_STAGE": "bench",
        "TASKHUB_SCAN_LOCAL_PATHS": "1",
        "TASKHUB_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TASKHUB_SECRET_KEY": "dGFza2h1Yi10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDA=",
    }


def _mb(kb: int) -> float:
    return kb / 1024


def _hwm_kb() -> int:
    """This process's peak RSS (VmHWM: reset by exec, where ru_maxrss keeps the forked
    parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---- the children -------------------------------------------------------------------------


def child(kind: str, project: str) -> None:
    began = time.process_time()
    from app import app  # the handler module: what a cold start imports

    import_cpu = time.process_time() - began
    after_import = _hwm_kb()
    handled = 0
    if kind == "scan_queue":
        handled = _drain_scans()
    elif kind == "api_handler":
        handled = _requests(app, json.loads(project))
    elif kind == "jobx_reaper":
        from chalicelib.jobs import worker

        worker.reap()
    elif kind == "scan_reaper":
        from chalicelib.scans import worker

        worker.reap()
    print(
        json.dumps(
            {
                "kind": kind,
                "import_cpu_s": round(import_cpu, 2),
                "import_rss_mb": round(_mb(after_import), 1),
                "peak_rss_mb": round(_mb(_hwm_kb()), 1),
                "tool_peak_rss_mb": round(
                    _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), 1
                ),
                "handled": handled,
            }
        )
    )


def _drain_scans() -> int:
    from chalicelib.core import aws, resources
    from chalicelib.core.pump import sqs_event
    from chalicelib.scans import worker

    sqs = aws.client("sqs")
    url = resources.queue_url("scans")
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES['scans'].queue_name}"
    for handled in range(2000):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return handled
        result = worker.handle_sqs(sqs_event(messages, arn))
        if result["batchItemFailures"]:
            raise RuntimeError(f"the handler failed on {messages[0]['Body']}")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    raise RuntimeError("the scan queue did not drain")


def _requests(app, project: dict) -> int:
    from chalice.test import Client

    member = {"Authorization": f"Token {TOKEN}"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    main = f"/server/main/api/orgs/{ORG}/teams/{TEAM}/repos/{project['repo']}"
    analysis = f"/server/analysis/api/orgs/{ORG}/teams/{TEAM}/repos/{project['repo']}"
    pid, job = project["project"], project["job"]
    mix = [
        ("/health", {}),
        (f"{main}/projects/{pid}/jobs/{job}/detail/", member),
        (f"{main}/projects/{pid}/jobs/?state=2", member),
        (f"{analysis}/projects/{pid}/overview/", member),
        (f"{analysis}/projects/{pid}/codelint/issues/?state=1&limit=100", member),
        (f"{analysis}/projects/{pid}/codemetric/ccissues/", member),
        (f"{analysis}/projects/{pid}/codemetric/clocfiles/?file_path=.py", member),
        ("/admin/v1/workspace?limit=100", admin),
        ("/jobx/api/v1/projects", admin),
    ]
    done = 0
    with Client(app) as client:
        for n in range(300):
            path, headers = mix[n % len(mix)]
            response = client.http.get(path, headers=headers)
            if response.status_code >= 500:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.body[:300]}")
            done += 1
    return done


# ---- the parent ---------------------------------------------------------------------------


def own_tree() -> dict[str, tuple[bytes, int]]:
    """The regular files of this worktree's HEAD commit (as bench.scan_engine reads it)."""
    from dulwich.repo import Repo

    repo = Repo(str(ROOT))
    try:
        store = repo.object_store
        return {
            entry.path.decode(): (store[entry.sha].data, entry.mode)
            for entry in store.iter_tree_contents(store[repo.head()].tree)
            if stat.S_ISREG(entry.mode)
        }
    finally:
        repo.close()


def bare_repo(path: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    """A bare repository whose master holds `files`."""
    from dulwich.index import commit_tree
    from dulwich.objects import Blob, Commit
    from dulwich.repo import Repo

    path.mkdir(parents=True)
    repo = Repo.init_bare(str(path))
    try:
        blobs = [Blob.from_string(data) for data, _ in files.values()]
        repo.object_store.add_objects([(b, None) for b in blobs])
        entries = [
            (p.encode(), b.id, mode) for (p, (_, mode)), b in zip(files.items(), blobs, strict=True)
        ]
        commit = Commit()
        commit.tree = commit_tree(repo.object_store, entries)
        commit.author = commit.committer = b"Taskhub Bench <bench@taskhub.invalid>"
        commit.author_time = commit.commit_time = 1_700_000_000
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"bench\n"
        repo.object_store.add_object(commit)
        repo.refs[b"refs/heads/master"] = commit.id
        repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/master")
    finally:
        repo.close()
    return path


def prepare(work: Path) -> dict:
    """Workspace, repository, project and one scan (its start message waits on the queue)."""
    from chalice.test import Client

    from app import app
    from chalicelib.core import resources, workspace
    from chalicelib.core.identity import service as identity
    from chalicelib.scans import owners, schemes

    resources.rebind()
    resources.create_all()
    workspace.apply(
        {
            "users": [{"uuid": "Bench001", "name": "bench", "email": "b@t.io", "token": TOKEN}],
            "namespaces": [
                {"face": "tca", "id": ORG, "members": {"Bench001": "member"}},
                {"face": "tca", "id": f"{ORG}/{TEAM}", "parent": ORG},
            ],
        }
    )
    identity.upsert_user(uuid="admin000", name="admin", email="a@t.io", is_admin=True)
    identity.issue_token("admin000", token=ADMIN_TOKEN)
    template = schemes.new_scheme(
        owners.org_key("tca", ORG),
        "bench",
        "admin",
        languages=["python", "shell"],
        lint_enabled=True,
        metric={"cc_scan_enabled": True, "dup_scan_enabled": True},
    )
    template.save()
    files = own_tree()
    repo_path = bare_repo(work / "repo.git", files)
    headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
    main = f"/server/main/api/orgs/{ORG}/teams/{TEAM}"
    with Client(app) as client:

        def post(path: str, body: dict) -> dict:
            answer = client.http.post(main + path, headers=headers, body=json.dumps(body))
            return json.loads(answer.body)["data"]

        repo = post("/repos/", {"scm_url": str(repo_path), "scm_type": "git"})["id"]
        body = {"branch": "master", "global_scheme_id": template.scheme_id}
        project = post(f"/repos/{repo}/projects/", body)["id"]
        job = post(f"/repos/{repo}/projects/{project}/scans/create/", {"incr_scan": False})
    return {"repo": repo, "project": project, "job": job["job"]["id"], "files": len(files)}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    from chalicelib.core import config
    from chalicelib.core.store import Store

    store = Store(None).start()
    os.environ.update(_env(store.url))
    config.reload()
    from chalicelib.faces import load_faces

    load_faces()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
            project = prepare(Path(work))
            print(
                f"this repository: {project['files']} files; one full scan; {os.cpu_count()} CPUs"
            )
            print(
                "| function | import CPU s | RSS after import | peak RSS | tools' peak RSS | handled |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for kind in ("scan_queue", "api_handler", "jobx_reaper", "scan_reaper"):
                found = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.lambda_memory",
                        "--child",
                        kind,
                        json.dumps(project),
                    ],
                    cwd=ROOT,
                    env=_env(store.url),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if found.returncode != 0:
                    print(found.stderr[-3000:])
                    return 1
                row = json.loads(found.stdout.strip().splitlines()[-1])
                print(
                    f"| {kind} | {row['import_cpu_s']:.2f} | {row['import_rss_mb']:.0f} MB | "
                    f"{row['peak_rss_mb']:.0f} MB | {row['tool_peak_rss_mb']:.0f} MB | "
                    f"{row['handled']} |"
                )
    finally:
        store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
