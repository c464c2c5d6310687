"""The scan engine on real and synthetic trees, each scan driven as a CI script drives it.

Each scan goes through the TCA face (Chalice test client: repository, project from an
organisation template, scan create) against an embedded store, and the engine's SQS
messages are fed one at a time to the Lambda handler (`worker.handle_sqs`) until the queue
is empty. Repositories are bare git repositories built with dulwich and registered by local
path. Prints:

1. This project's own tree (the worktree's HEAD): wall time per tool (handler time of its
   shard and merge messages; the shards' own `ms`) and of the whole scan from create to
   closed, beside the floor: the same tools run bare on the same checked-out tree in the
   same run (pytokei, `ruff check` with the engine's rules, shellcheck, one
   `lizard -Eduplicate`), and the ratio of the two.
2. codecount (pytokei) against `cloc` on that tree: time ratio and code lines per language.
3. DynamoDB calls and SQS messages per scan of synthetic repositories of 100 and 2,000
   files (Python and shell, a third of the files with findings), per file and per finding,
   and by message.
4. The 2,000-file scan of part 3 (about 200k lines, in shards of 200 files, so one scan
   serves both and the bench stays near two minutes): shards per task, the slowest shard,
   the whole scan, and the bare tools on that tree beside it.

    .venv/bin/python -m bench.scan_engine

Needs `cloc` on PATH for part 2 (`apt-get install -y cloc`); without it that part says so.
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench import embedded

STORE = embedded.start({"TASKHUB_SCAN_LOCAL_PATHS": "1"}, unset=("TASKHUB_SCAN_SHARD_FILES",))

import pytokei  # noqa: E402
from chalice.test import Client  # noqa: E402
from dulwich.index import commit_tree  # noqa: E402
from dulwich.objects import Blob, Commit  # noqa: E402
from dulwich.repo import Repo  # noqa: E402

from app import app  # noqa: E402
from chalicelib.core import (  # noqa: E402
    aws,
    resources,
    workspace,
)
from chalicelib.core.config import settings  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.pump import sqs_event  # noqa: E402
from chalicelib.scans import owners, schemes, worker  # noqa: E402
from chalicelib.scans.models import JobModel, ShardModel, TaskModel  # noqa: E402
from chalicelib.scans.tools import base as toolbase  # noqa: E402
from chalicelib.scans.tools import codecount, ruff_lint, shellcheck_lint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ORG, TEAM = "org1", "team1"
TOKEN = "bench-scan-member-token-0123456789"
HEADERS = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
MAIN = f"/server/main/api/orgs/{ORG}/teams/{TEAM}"
SHARDED_FILES = 200
MAX_ROUNDS = 5000  # queue receives per scan: bounds a scan that would never end
SCAN_DEADLINE_S = 240

# ---- counting messages ----------------------------------------------------------------------

SENT: Counter = Counter()
_send, _send_batch = resources.send, resources.send_batch


def _counting_send(name: str, body: dict[str, Any], **kw: Any) -> None:
    SENT[body.get("op", "?")] += 1
    _send(name, body, **kw)


def _counting_send_batch(name: str, bodies: list[dict[str, Any]], **kw: Any) -> None:
    for body in bodies:
        SENT[body.get("op", "?")] += 1
    _send_batch(name, bodies, **kw)


resources.send, resources.send_batch = _counting_send, _counting_send_batch

# ---- repositories ------------------------------------------------------------------------------

FILE_MODE, EXEC_MODE = stat.S_IFREG | 0o644, stat.S_IFREG | 0o755
AUTHOR = b"Taskhub Bench <bench@taskhub.invalid>"


def bare_repo(path: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    """A bare repository at `path` whose master holds `files` (path -> (content, mode))."""
    path.mkdir(parents=True)
    repo = Repo.init_bare(str(path))
    try:
        store = repo.object_store
        blobs = [Blob.from_string(data) for data, _ in files.values()]
        store.add_objects([(b, None) for b in blobs])
        entries = [
            (p.encode(), b.id, mode) for (p, (_, mode)), b in zip(files.items(), blobs, strict=True)
        ]
        commit = Commit()
        commit.tree = commit_tree(store, entries)
        commit.author = commit.committer = AUTHOR
        commit.author_time = commit.commit_time = 1_700_000_000
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"bench\n"
        store.add_object(commit)
        repo.refs[b"refs/heads/master"] = commit.id
        repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/master")
    finally:
        repo.close()
    return path


def checkout(files: dict[str, tuple[bytes, int]], dest: Path) -> Path:
    for name, (data, mode) in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode & 0o777)
    return dest


def own_tree() -> tuple[dict[str, tuple[bytes, int]], str]:
    """The files of the worktree's HEAD commit (regular files; links and submodules left out)."""
    repo = Repo(str(ROOT))
    try:
        head = repo.head()
        store = repo.object_store
        files = {}
        for entry in store.iter_tree_contents(store[head].tree):
            if stat.S_ISREG(entry.mode):
                files[entry.path.decode()] = (store[entry.sha].data, entry.mode)
        return dict(sorted(files.items())), head.decode()[:12]
    finally:
        repo.close()


# ---- a synthetic tree: Python and shell, some of it with findings ------------------------------

WORDS = (  # noqa: SIM905
    "order invoice user account record batch queue token report item cache table entry "
    "value limit page index event stream payload config client server request answer"
).split()


def _py_function(rng: random.Random, name: str, bad: bool, indent: str = "") -> list[str]:
    """A function of random statements: its shape differs from file to file, so lizard's
    duplicate finder (which unifies names and constants) sees copies only where we put them."""
    args = rng.sample(["a", "b", "c", "d", "key", "count"], rng.randint(1, 3))
    default = ", acc=[]" if bad and rng.random() < 0.3 else ""  # B006
    out = [f"{indent}def {name}({', '.join(args)}{default}):"]
    body = indent + "    "
    if rng.random() < 0.7:
        out.append(f'{body}"""{rng.choice(WORDS).title()} the {rng.choice(WORDS)}s.')
        if rng.random() < 0.5:
            out += ["", f"{body}Returns the {rng.choice(WORDS)} {rng.choice(WORDS)}."]
        out.append(f'{body}"""')
    local = ["total", "items", "seen", "result"]
    out += [f"{body}total = 0", f"{body}items = []", f"{body}seen = {{}}", f"{body}result = None"]
    for _ in range(rng.randint(3, 9)):
        u, v = rng.choice(args), rng.choice(local[:1])
        n = rng.randint(1, 99)
        shape = rng.randrange(12)
        if shape == 0:
            out.append(f"{body}total = total + {n} * len(str({u}))")
        elif shape == 1:
            out += [f"{body}for x in range({n}):", f"{body}    items.append(x * {n})"]
        elif shape == 2:
            out += [
                f"{body}if {u} is not None and len(str({u})) > {n}:",
                f"{body}    total += {n}",
                f"{body}else:",
                f"{body}    total -= 1",
            ]
        elif shape == 3:
            out += [f"{body}while {v} > {n}:", f"{body}    {v} -= {n}"]
        elif shape == 4:
            out += [
                f"{body}try:",
                f"{body}    total += int({u})",
                f"{body}except (TypeError, ValueError):",
                f"{body}    log.debug('not a number: %r', {u})",
            ]
        elif shape == 5:
            out.append(f"{body}seen[str({u})] = seen.get(str({u}), 0) + 1")
        elif shape == 6:
            out.append(f"{body}# {' '.join(rng.sample(WORDS, 5))}")
        elif shape == 7:
            out.append(f"{body}result = json.dumps({{'{rng.choice(WORDS)}': {u}, 'n': total}})")
        elif shape == 8:
            out += [
                f"{body}with open(str({u}), encoding='utf-8') as fh:",
                f"{body}    items.extend(fh.read().split())",
            ]
        elif shape == 9:
            out.append(f"{body}items = sorted(set(items), key=str)[:{n}]")
        elif shape == 10:
            out += [f"{body}if not items:", f"{body}    return None"]
        else:
            out.append(f"{body}log.info('%s %s', {u}, total)")
    if bad:
        u = args[0]
        for kind in rng.sample(range(8), rng.randint(1, 3)):
            if kind == 0:
                out += [f"{body}if {u} == None:", f"{body}    return 0"]  # E711
            elif kind == 1:
                out += [f"{body}try:", f"{body}    total += 1", f"{body}except:", f"{body}    pass"]
            elif kind == 2:
                out.append(f"{body}l = len(items)")  # E741, F841
            elif kind == 3:
                out.append(f"{body}total += eval(str({u}))")  # S307
            elif kind == 4:
                out.append(f"{body}assert {u}")  # S101
            elif kind == 5:
                out.append(f"{body}subprocess.call(str({u}), shell=True)")  # S602
            elif kind == 6:
                out.append(f"{body}unused = undefined_{name}")  # F841, F821
            else:
                out.append(f"{body}password = 'hunter2'")  # S105, F841
    out.append(f"{body}return total, items, seen, result")
    return out


def _branchy(name: str, arms: int) -> list[str]:
    out = [f"def {name}(code):", '    """The label of a status code."""']
    for k in range(arms):
        out += [f"    {'if' if k == 0 else 'elif'} code == {k}:", f"        return 'label{k}'"]
    return [*out, "    return 'unknown'"]


COPIED = [  # the same block in a few files: what the duplication task finds
    "def merge_records(records, keys):",
    '    """Merge records that share a key, keeping the newest field values."""',
    "    merged = {}",
    "    for record in records:",
    "        key = tuple(record.get(k) for k in keys)",
    "        if key not in merged:",
    "            merged[key] = dict(record)",
    "            continue",
    "        current = merged[key]",
    "        for field, value in record.items():",
    "            if value is None:",
    "                continue",
    "            if field not in current or current[field] is None:",
    "                current[field] = value",
    "            elif isinstance(value, list):",
    "                current[field] = list(current[field]) + value",
    "            elif isinstance(value, dict):",
    "                current[field] = {**current[field], **value}",
    "            else:",
    "                current[field] = value",
    "    return sorted(merged.values(), key=lambda r: [str(r.get(k)) for k in keys])",
]


def python_file(i: int, rng: random.Random) -> str:
    bad = rng.random() < 0.35
    lines = [
        f'"""{rng.choice(WORDS).title()} {rng.choice(WORDS)} handling, module {i}.',
        "",
        f"Reads {rng.choice(WORDS)}s and writes {rng.choice(WORDS)}s; see the package docs.",
        '"""',
        "",
        "import json",
        "import logging",
    ]
    if bad:
        lines += ["import os", "import subprocess"]  # F401 where unused
    lines += ["", "log = logging.getLogger(__name__)", "", f"LIMIT = {rng.randint(10, 999)}", ""]
    # a bad file's first function has findings, and each later one a chance of some
    faults = iter([bad, *(bad and rng.random() < 0.2 for _ in range(20))])
    if rng.random() < 0.5:
        cls = f"{rng.choice(WORDS).title()}{i}"
        lines += ["", f"class {cls}:", f'    """A {rng.choice(WORDS)} store."""', ""]
        for m in range(rng.randint(1, 3)):
            lines += [*_py_function(rng, f"method_{m}", next(faults), indent="    "), ""]
    for f in range(rng.randint(2, 6)):
        lines += ["", *_py_function(rng, f"func_{i}_{f}", next(faults)), ""]
    if i % 15 == 7:
        lines += ["", *_branchy(f"label_{i}", rng.randint(21, 30)), ""]
    if i % 40 == 3:
        lines += ["", *COPIED, ""]
    return "\n".join(lines).rstrip() + "\n"


def shell_file(i: int, rng: random.Random) -> str:
    bad = rng.random() < 0.4
    lines = ["#!/bin/bash", f"# {' '.join(rng.sample(WORDS, 6))}", "set -euo pipefail", ""]
    for f in range(rng.randint(2, 5)):
        lines += [
            f"task_{i}_{f}() {{",
            '    local target="$1"',
            '    if [ -z "$target" ]; then',
            f'        echo "usage: task_{f} <{rng.choice(WORDS)}>" >&2',
            "        return 2",
            "    fi",
            '    for item in "$@"; do',
            f"        printf '%s {rng.choice(WORDS)}\\n' \"$item\"",
            "    done",
        ]
        if rng.random() < 0.5:
            lines += [
                '    case "$target" in',
                f'        {rng.choice(WORDS)}) echo "one" ;;',
                '        *) echo "other" ;;',
                "    esac",
            ]
        if bad and (f == 0 or rng.random() < 0.2):
            lines += rng.sample(
                ["    echo $target", "    cd /tmp/work", "    now=`date`", "    ls $1 | wc -l"],
                2,
            )
        lines += ["}", ""]
    lines += [f'task_{i}_0 "${{1:-default}}"']
    return "\n".join(lines) + "\n"


def synthetic_tree(count: int) -> dict[str, tuple[bytes, int]]:
    """`count` files: 80% Python, 15% shell (half without a suffix), 5% Markdown and YAML.
    File i is the same in every tree, so the 100-file tree is the 2,000-file tree's start."""
    files: dict[str, tuple[bytes, int]] = {}
    for i in range(count):
        rng = random.Random(i)
        kind = i % 20
        pkg = f"pkg{i // 50:02d}"
        if kind < 16:
            files[f"{pkg}/mod{i:04d}.py"] = (python_file(i, rng).encode(), FILE_MODE)
        elif kind < 19:
            name = f"scripts/{pkg}/run{i:04d}" + (".sh" if i % 2 else "")
            files[name] = (shell_file(i, rng).encode(), EXEC_MODE)
        elif i % 40 == 19:
            text = f"# {pkg}\n\n{' '.join(rng.choices(WORDS, k=40))}\n\n- one\n- two\n"
            files[f"{pkg}/README{i:04d}.md"] = (text.encode(), FILE_MODE)
        else:
            text = "".join(f"{w}: {rng.randint(1, 99)}\n" for w in rng.sample(WORDS, 8))
            files[f"{pkg}/config{i:04d}.yaml"] = (text.encode(), FILE_MODE)
    return dict(sorted(files.items()))


# ---- driving a scan ----------------------------------------------------------------------------


class Tca:
    """The TCA face's calls, as a CI script makes them."""

    def __init__(self, client: Client, template: int):
        self.client, self.template = client, template

    def ok(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.client.http.post(MAIN + path, headers=HEADERS, body=json.dumps(body))
        data = json.loads(response.body)
        if response.status_code != status or data.get("code") != 0:
            raise RuntimeError(f"POST {path}: {response.status_code} {data}")
        return data["data"]

    def project(self, repo_path: Path) -> tuple[int, int]:
        repo_id = self.ok("/repos/", {"scm_url": str(repo_path), "scm_type": "git"}, 201)["id"]
        body = {"branch": "master", "global_scheme_id": self.template}
        return repo_id, self.ok(f"/repos/{repo_id}/projects/", body, 201)["id"]

    def scan(self, repo_id: int, project_id: int) -> int:
        path = f"/repos/{repo_id}/projects/{project_id}/scans/create/"
        return self.ok(path, {"incr_scan": False})["job"]["id"]


def drain(timings: list[tuple[str, int | None, float, Counter]]) -> None:
    """Deliver the scan queue's messages to the Lambda handler one at a time until it is empty;
    each message's (op, task, seconds, AWS calls) goes to `timings`."""
    sqs = aws.client("sqs")
    url = resources.queue_url("scans")
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES['scans'].queue_name}"
    deadline = time.monotonic() + SCAN_DEADLINE_S
    for _ in range(MAX_ROUNDS):
        if time.monotonic() > deadline:
            break
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return
        for m in messages:
            body = json.loads(m["Body"])
            began = time.perf_counter()
            with count_calls() as calls:
                result = worker.handle_sqs(sqs_event([m], arn))
            timings.append((body.get("op"), body.get("task"), time.perf_counter() - began, calls))
            if result["batchItemFailures"]:
                raise RuntimeError(f"the handler failed on {body}")
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    raise RuntimeError("the scan queue did not drain in time")


def scan(tca: Tca, repo_path: Path) -> dict[str, Any]:
    """One full scan of `repo_path` through the face and the handler, with its figures."""
    repo_id, project_id = tca.project(repo_path)
    SENT.clear()
    timings: list[tuple[str, int | None, float, Counter]] = []
    began = time.perf_counter()
    with count_calls() as create_calls:
        job_id = tca.scan(repo_id, project_id)
    with count_calls() as engine_calls:
        drain(timings)
    wall = time.perf_counter() - began
    job = JobModel.get(project_id, job_id, consistent_read=True)
    if job.result_code != 0:
        raise RuntimeError(f"scan of {repo_path} ended {job.result_code}: {job.result_msg}")
    stored = s3_sizes(f"scans/{project_id}/{job_id}/")
    tasks = []
    for task in TaskModel.query(job_id, consistent_read=True):
        shards = list(ShardModel.query(f"{job_id}:{task.task_id}", consistent_read=True))
        mine = [t for t in timings if t[1] == task.task_id]
        tasks.append(
            {
                "name": task.task_name,
                "shards": task.shard_count,
                "files": sum(s.file_count for s in shards),
                "shard_ms": [s.ms or 0 for s in shards],
                "max_shard_ms": task.max_shard_ms,
                "span_s": ((task.end_time or 0) - (task.start_time or 0)) / 1000,
                "handler_s": sum(t[2] for t in mine),
                "merge_s": sum(t[2] for t in mine if t[0] == "merge"),
                "summary": task.summary or {},
                "shard_bytes": stored.get((task.task_id, "shard"), 0),
                "report_bytes": stored.get((task.task_id, "report"), 0),
            }
        )
    by_op: dict[str, Counter] = defaultdict(Counter)
    op_seconds: Counter = Counter()
    delivered: Counter = Counter()
    for op, _, seconds, calls in timings:
        by_op[op].update(calls)
        op_seconds[op] += seconds
        delivered[op] += 1
    lint = job.summary.get("lint", {})
    return {
        "project_id": project_id,
        "job": job,
        "wall_s": wall,
        "job_s": (job.end_time - job.create_time) / 1000,
        "tasks": tasks,
        "create_calls": create_calls,
        "engine_calls": engine_calls,
        "by_op": by_op,
        "op_seconds": op_seconds,
        "sent": Counter(SENT),
        "delivered": delivered,
        "findings": lint.get("issue_open_num", 0),
    }


def s3_sizes(prefix: str) -> Counter:
    """Bytes of a job's results in S3 by (task id, "shard" or "report")."""
    s3 = aws.client("s3")
    sizes: Counter = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings().bucket, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            parts = item["Key"][len(prefix) :].split("/")
            if len(parts) == 2 and parts[0].isdigit():
                kind = "report" if parts[1] == "report.json" else "shard"
                sizes[(int(parts[0]), kind)] += item["Size"]
    return sizes


# ---- the bare tools ----------------------------------------------------------------------------


def timed(fn: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def shell_paths(tree: Path, paths: list[str]) -> list[str]:
    checker = shellcheck_lint.ShellCheck()
    return [p for p in paths if checker.wants(p, toolbase.head(tree, p))]


def bare_tools(tree: Path, paths: list[str]) -> dict[str, tuple[float, str]]:
    """Each tool once over the checked-out tree, as one would run it by hand: seconds, a note."""
    out: dict[str, tuple[float, str]] = {}

    def tokei() -> str:
        languages = pytokei.Languages()
        languages.get_statistics([str(tree)], [], pytokei.Config())
        code = sum(lang.code for lang in languages.get_languages().values())
        return f"{code} code lines"

    out["pytokei"] = timed(tokei)
    ruff = [toolbase.tool_binary("ruff"), "check", "--isolated", "--no-cache", "--exit-zero"]
    ruff += ["--output-format", "json", "--select", ruff_lint.SELECT, "."]

    def run_ruff() -> str:
        proc = subprocess.run(ruff, cwd=tree, capture_output=True, text=True, check=True)
        return f"{len(json.loads(proc.stdout))} findings"

    out["ruff"] = timed(run_ruff)
    scripts = shell_paths(tree, paths)
    if scripts:
        argv = [toolbase.tool_binary("shellcheck"), "--norc", "--format=json1", "--"]
        argv += [toolbase.argv_path(p) for p in scripts]

        def run_shellcheck() -> str:
            proc = subprocess.run(argv, cwd=tree, capture_output=True, text=True, check=False)
            return f"{len(json.loads(proc.stdout)['comments'])} findings in {len(scripts)} files"

        out["shellcheck"] = timed(run_shellcheck)
    lizard = [sys.executable, "-m", "lizard", "-Eduplicate", "."]

    def run_lizard() -> str:
        proc = subprocess.run(lizard, cwd=tree, capture_output=True, text=True, check=False)
        if "Total nloc" not in proc.stdout:
            raise RuntimeError(f"lizard failed: {proc.stderr[-500:]}")
        return "complexity and duplicates, one pass"

    out["lizard -Eduplicate"] = timed(run_lizard)
    return out


# ---- printing ----------------------------------------------------------------------------------


def _note(summary: dict[str, Any]) -> str:
    if "issue_count" in summary:
        return f"{summary['issue_count']} findings"
    if "code" in summary:
        return f"{summary['code']} code lines"
    if "over_cc_func_count" in summary:
        return f"{summary['over_cc_func_count']} functions over min_ccn"
    return f"{summary.get('duplicate_block_count')} duplicated blocks"


def print_tasks(result: dict[str, Any]) -> None:
    """Per task: the handler time of its messages (shards and merge), of which the tool's own
    time in the shards (ShardModel.ms) and the merge; the rest is the engine around them
    (claims, the source archive fetched and unpacked per shard, results to S3)."""
    print(
        f"  {'task':<11} {'files':>5} {'shards':>6} {'handler s':>9} {'tool s':>7} "
        f"{'max shard s':>11} {'merge s':>7} {'rest s':>6} {'results MB':>10}  found"
    )
    for t in result["tasks"]:
        tool = sum(t["shard_ms"]) / 1000
        rest = t["handler_s"] - tool - t["merge_s"]
        size = (t["shard_bytes"] + t["report_bytes"]) / 1e6
        print(
            f"  {t['name']:<11} {t['files']:>5} {t['shards']:>6} {t['handler_s']:>9.2f} "
            f"{tool:>7.2f} {t['max_shard_ms'] / 1000:>11.2f} {t['merge_s']:>7.2f} {rest:>6.2f} "
            f"{size:>10.1f}  {_note(t['summary'])}"
        )
    ops = result["op_seconds"]
    print(
        f"  {'start':<11} {'':>5} {'':>6} {ops['start']:>9.2f}  fetch, plan, source archive to S3"
    )
    print(
        f"  {'close':<11} {'':>5} {'':>6} {ops['close']:>9.2f}  store {result['findings']} "
        "issues, reading the project's issue index once"
    )
    handled = sum(ops.values())
    print(
        f"  whole scan, create to closed: {result['job_s']:.2f} s by the job's times "
        f"({handled:.2f} s in the handler, {result['wall_s']:.2f} s by the bench's clock)"
    )


def print_floor(result: dict[str, Any], bare: dict[str, tuple[float, str]]) -> None:
    floor = sum(seconds for seconds, _ in bare.values())
    print("  the same tools bare, on the checked-out tree, one after another:")
    for name, (seconds, note) in bare.items():
        print(f"    {name:<20} {seconds:>7.2f} s  {note}")
    print(f"    {'sum of bare tools':<20} {floor:>7.2f} s")
    ratio = result["job_s"] / floor
    print(
        f"  whole scan / sum of bare tools: {ratio:.2f}x (target <= 1.5x), messages one at a time"
    )
    path = critical_path(result)
    print(
        f"  critical path, each message on its own Lambda as deployed (start + the slowest "
        f"task's slowest shard and merge + close): {path:.2f} s, {path / floor:.2f}x"
    )


def critical_path(result: dict[str, Any]) -> float:
    """The scan's wall time when its messages run in parallel, from the measured handler
    times: tasks run side by side, so only the slowest shard and the merge of each count."""
    ops = result["op_seconds"]

    def task_path(t: dict[str, Any]) -> float:
        tool = sum(t["shard_ms"]) / 1000
        around = (t["handler_s"] - tool - t["merge_s"]) / max(1, t["shards"])
        return t["max_shard_ms"] / 1000 + around + t["merge_s"]

    return ops["start"] + max(task_path(t) for t in result["tasks"]) + ops["close"]


def part1(tca: Tca, work: Path) -> tuple[Path, list[str]]:
    files, head = own_tree()
    lines = sum(data.count(b"\n") for data, _ in files.values())
    print(f"\n1. This repository's tree at {head}: {len(files)} files, {lines} lines")
    repo = bare_repo(work / "own.git", files)
    tree = checkout(files, work / "own-tree")
    result = scan(tca, repo)
    print_tasks(result)
    print_floor(result, bare_tools(tree, list(files)))
    return tree, list(files)


# ---- part 2: codecount against cloc ------------------------------------------------------------

CLOC_NAMES = {  # tokei's language names -> cloc's
    "Python": "Python",
    "Shell": "Bourne Shell",
    "BASH": "Bourne Again Shell",
    "Markdown": "Markdown",
    "JSON": "JSON",
    "YAML": "YAML",
    "TOML": "TOML",
    "Makefile": "make",
    "Plain Text": "Text",
    "Text": "Text",
}


def docstring_lines(tree: Path, paths: list[str]) -> int:
    """Lines of module, class and function docstrings in the Python files."""
    total = 0
    for path in paths:
        if not path.endswith(".py"):
            continue
        try:
            module = ast.parse((tree / path).read_bytes())
        except SyntaxError:
            continue
        for node in ast.walk(module):
            if isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ) and ast.get_docstring(node, clean=False):
                doc = node.body[0]
                total += doc.end_lineno - doc.lineno + 1
    return total


def part2(tree: Path, paths: list[str], work: Path) -> None:
    print(f"\n2. codecount (pytokei) against cloc, on the same {len(paths)} files")
    cloc = shutil.which("cloc")
    if cloc is None:
        print("  cloc is not installed (apt-get install -y cloc): skipped")
        return
    listing = work / "files.txt"
    listing.write_text("".join(str(tree / p) + "\n" for p in paths))
    # --skip-uniqueness: cloc counts identical files (empty __init__.py) once otherwise
    argv = [cloc, "--json", "--quiet", "--skip-uniqueness", f"--list-file={listing}"]
    tokei_s, counts = min(timed(lambda: codecount.count(tree, paths)) for _ in range(3))
    cloc_runs = [
        timed(lambda: subprocess.run(argv, capture_output=True, text=True, check=True))
        for _ in range(3)
    ]
    cloc_s, proc = min(cloc_runs, key=lambda r: r[0])
    report = json.loads(proc.stdout)
    version = report.get("header", {}).get("cloc_version", "?")
    print(f"  codecount.count: {tokei_s * 1000:8.1f} ms (best of 3)")
    print(f"  cloc {version:<10} {cloc_s * 1000:8.1f} ms (best of 3, one process each)")
    print(f"  cloc / codecount: {cloc_s / tokei_s:.1f}x (target >= 3x)")
    mine: dict[str, Counter] = defaultdict(Counter)
    for c in counts:
        bucket = mine[CLOC_NAMES.get(c.language, c.language)]
        bucket.update(files=1, code=c.code, comment=c.comment, blank=c.blank)
    theirs = {
        name: Counter(files=v["nFiles"], code=v["code"], comment=v["comment"], blank=v["blank"])
        for name, v in report.items()
        if name not in ("header", "SUM") and isinstance(v, dict) and "nFiles" in v
    }
    print(
        f"  {'language (cloc name)':<22} {'files':>11} {'code tokei':>10} {'code cloc':>9} "
        f"{'diff':>6} {'comment tokei':>13} {'comment cloc':>12}"
    )
    for name in sorted(set(mine) | set(theirs)):
        a, b = mine.get(name, Counter()), theirs.get(name, Counter())
        print(
            f"  {name:<22} {a['files']:>5}/{b['files']:<5} {a['code']:>10} {b['code']:>9} "
            f"{a['code'] - b['code']:>+6} {a['comment']:>13} {b['comment']:>12}"
        )
    total_a = sum(c["code"] for c in mine.values())
    total_b = sum(c["code"] for c in theirs.values())
    print(f"  {'all':<22} {'':>11} {total_a:>10} {total_b:>9} {total_a - total_b:>+6}")
    docs = docstring_lines(tree, paths)
    py = mine.get("Python", Counter())["code"] - theirs.get("Python", Counter())["code"]
    empty = sum(1 for p in paths if not (tree / p).read_bytes().strip())
    print("  where they differ by convention:")
    print(
        f"  - Python {py:+}: tokei's default config (tools/codecount.py) counts docstrings as\n"
        f"    code, cloc as comments: {docs} docstring lines (ast); the other {py - docs:+} are\n"
        "    other triple-quoted strings (test fixtures), which cloc also strips as comments."
    )
    print("  - Markdown and plain text: tokei counts prose as comments, cloc as code.")
    print("  - shell: tokei counts the `#!` line as a comment, cloc as code.")
    print(f"  - files: cloc leaves out the {empty} empty files (0 lines either way).")


# ---- parts 3 and 4: synthetic repositories -----------------------------------------------------


def ddb(calls: Counter) -> int:
    return calls["dynamodb"]


def part3(tca: Tca, work: Path) -> tuple[dict[str, Any], dict[str, tuple[bytes, int]]]:
    """Scans of 100 and 2,000 files, both in shards of SHARDED_FILES files (the 100-file one
    is a shard per task): the 2,000-file scan is also part 4's."""
    print(
        f"\n3. DynamoDB calls and SQS messages per scan (TASKHUB_SCAN_SHARD_FILES={SHARDED_FILES}; "
        "creating the scan through the face, then every engine message)"
    )
    rows = []
    os.environ["TASKHUB_SCAN_SHARD_FILES"] = str(SHARDED_FILES)
    try:
        for count in (100, 2000):
            files = synthetic_tree(count)
            result = scan(tca, bare_repo(work / f"synthetic{count}.git", files))
            result["files"] = count
            result["lines"] = sum(data.count(b"\n") for data, _ in files.values())
            rows.append(result)
    finally:
        os.environ.pop("TASKHUB_SCAN_SHARD_FILES", None)
    print(
        f"  {'files':>5} {'lines':>7} {'findings':>8} {'shards':>6} {'DDB calls':>9} "
        f"{'per file':>8} {'per finding':>11} {'storing':>7} {'per finding':>11} "
        f"{'SQS msgs':>8} {'SQS sends':>9}"
    )
    for r in rows:
        total = ddb(r["create_calls"]) + ddb(r["engine_calls"])
        close = ddb(r["by_op"]["close"])
        calls = r["create_calls"] + r["engine_calls"]
        sends = calls["sqs.SendMessage"] + calls["sqs.SendMessageBatch"]
        found = max(r["findings"], 1)
        print(
            f"  {r['files']:>5} {r['lines']:>7} {r['findings']:>8} "
            f"{sum(t['shards'] for t in r['tasks']):>6} {total:>9} {total / r['files']:>8.3f} "
            f"{total / found:>11.3f} {close:>7} {close / found:>11.3f} "
            f"{sum(r['sent'].values()):>8} {sends:>9}"
        )
    print("  by message (DynamoDB calls by operation; 'storing' above is the close):")
    for r in rows:
        ops = ", ".join(f"{op} {n}" for op, n in sorted(r["sent"].items()))
        print(f"  {r['files']:>5} files: messages sent: {ops}")
        creating = {"create": r["create_calls"]}
        for op, calls in {**creating, **{o: r["by_op"][o] for o in OPS}}.items():
            detail = ", ".join(
                f"{k.split('.', 1)[1]} {v}"
                for k, v in sorted(calls.items())
                if k.startswith("dynamodb.")
            )
            n = r["delivered"][op] if op in OPS else 1
            print(f"    {op:<6} x{n:<3} DDB {ddb(calls):>4}: {detail}")
    per = [(ddb(r["create_calls"]) + ddb(r["engine_calls"])) / max(r["findings"], 1) for r in rows]
    store = [ddb(r["by_op"]["close"]) / max(r["findings"], 1) for r in rows]
    print(
        f"  DynamoDB calls per finding, 2,000 vs 100 files: {per[1] / per[0]:.2f}x overall, "
        f"{store[1] / store[0]:.2f}x storing (flat or falling is the goal)"
    )
    return rows[1], files


OPS = ("start", "shard", "merge", "close")


def part4(result: dict[str, Any], files: dict[str, tuple[bytes, int]], work: Path) -> None:
    lines = sum(data.count(b"\n") for data, _ in files.values())
    print(
        f"\n4. {len(files)} files, {lines} lines, in shards of {SHARDED_FILES} files "
        "(part 3's 2,000-file scan)"
    )
    print_tasks(result)
    slowest = max(result["tasks"], key=lambda t: t["max_shard_ms"])
    shards = ", ".join(f"{t['name']} {t['shards']}" for t in result["tasks"])
    print(f"  shards per task: {shards}")
    print(
        f"  slowest shard: {slowest['max_shard_ms'] / 1000:.2f} s ({slowest['name']}); "
        f"whole scan, create to closed: {result['job_s']:.2f} s"
    )
    tree = checkout(files, work / "synthetic-tree")
    print_floor(result, bare_tools(tree, list(files)))


def setup() -> Tca:
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
    template = schemes.new_scheme(
        owners.org_key("tca", ORG),
        "bench",
        "admin",
        languages=["python", "shell"],
        lint_enabled=True,
        metric={"cc_scan_enabled": True, "dup_scan_enabled": True},
    )
    template.save()
    return Tca(Client(app), template.scheme_id)


def main() -> int:
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        tca = setup()
        print(f"{os.cpu_count()} CPUs; messages handled one at a time, in this process")
        tree, paths = part1(tca, work)
        part2(tree, paths, work)
        part4(*part3(tca, work), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        STORE.stop()
    print(f"\nbench time: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
