"""The scan tools on small real files: real ruff, shellcheck, tokei and lizard, no network."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from chalicelib.scans.tools import base, codecount, complexity, duplication, ruff_lint
from chalicelib.scans.tools.base import (
    SEVERITIES,
    Finding,
    RawFinding,
    ToolError,
    fingerprint,
    fingerprints,
    run_tool,
    tool_binary,
)
from chalicelib.scans.tools.linters import LINTERS, Linter, linters_for
from chalicelib.scans.tools.ruff_lint import Ruff, classify
from chalicelib.scans.tools.shellcheck_lint import ShellCheck, shebang_shell


def write(root: Path, rel: str, text: str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return rel


def roundtrip(obj):
    return type(obj).from_dict(json.loads(json.dumps(obj.to_dict())))


EVAL_MODULE = "import os\n\n\ndef run(expr):\n    return eval(expr)\n"


# --- registry ---------------------------------------------------------------------------


def test_registry_is_complete_and_sorted():
    assert set(LINTERS) >= {"ruff", "shellcheck"}
    assert all(isinstance(lt, Linter) for lt in LINTERS.values())
    assert [lt.name for lt in linters_for(["shell", "python", "go"])] == ["ruff", "shellcheck"]
    assert [lt.name for lt in linters_for(["python"])] == ["ruff"]
    assert linters_for([]) == []
    assert (LINTERS["ruff"].language, LINTERS["shellcheck"].language) == ("python", "shell")


def test_wants_by_suffix_and_shebang():
    ruff, sc = Ruff(), ShellCheck()
    assert ruff.wants("a/b.py", b"") and ruff.wants("stubs/x.pyi", b"")
    assert not ruff.wants("run.sh", b"#!/bin/sh\n")
    for path in ("a.sh", "a.bash", "a.ksh", "a.dash"):
        assert sc.wants(path, b"")
    for shebang in (
        b"#!/bin/sh\n",
        b"#!/bin/bash -e\n",
        b"#! /usr/bin/env bash\n",
        b"#!/usr/bin/env -S dash -e\n",
        b"#!/bin/ksh",
    ):
        assert sc.wants("bin/tool", shebang), shebang
    for shebang in (b"#!/usr/bin/env python3\n", b"#!/bin/zsh\n", b"echo hi\n", b""):
        assert not sc.wants("bin/tool", shebang), shebang
    assert shebang_shell(b"#!/usr/bin/env FOO=1 bash\n") == "bash"


# --- ruff --------------------------------------------------------------------------------


def test_ruff_finds_unused_import_and_eval(tmp_path):
    write(tmp_path, "pkg/mod.py", EVAL_MODULE)
    found = Ruff().lint(tmp_path, ["pkg/mod.py"])
    got = {(f.rule, f.path, f.line, f.column, f.severity, f.category) for f in found}
    assert got == {
        ("F401", "pkg/mod.py", 1, 8, 3, "correctness"),
        ("S307", "pkg/mod.py", 5, 12, 2, "security"),
    }
    assert all(f.tool == "ruff" and f.message and len(f.fingerprint) == 32 for f in found)
    assert all(f.severity in SEVERITIES for f in found)


def test_ruff_severities():
    assert classify("F821") == (2, "correctness")
    assert classify("F632") == (2, "correctness")
    assert classify("F706") == (2, "correctness")
    assert classify("invalid-syntax") == (2, "correctness")
    assert classify("E902") == (2, "correctness")
    assert classify("F841") == (3, "correctness")
    assert classify("B006") == (3, "bugrisk")
    assert classify("S602") == (2, "security")
    assert classify("S105") == (2, "security")
    assert classify("S311") == (3, "security")
    assert classify("E711") == (4, "style")
    assert classify("W291") == (4, "style")


def test_ruff_reports_syntax_errors_as_errors(tmp_path):
    write(tmp_path, "bad.py", "def f(:\n    pass\n")
    found = Ruff().lint(tmp_path, ["bad.py"])
    assert found and {(f.rule, f.severity, f.line) for f in found} == {("invalid-syntax", 2, 1)}


def test_repo_ruff_config_does_not_change_results(tmp_path):
    write(tmp_path, "a.py", EVAL_MODULE)
    before = Ruff().lint(tmp_path, ["a.py"])
    write(tmp_path, "pyproject.toml", "[tool.ruff]\nselect = []\n[tool.ruff.lint]\nselect = []\n")
    write(tmp_path, "ruff.toml", '[lint]\nselect = []\nignore = ["ALL"]\n')
    write(tmp_path, ".ruff.toml", 'exclude = ["*.py"]\n')
    assert Ruff().lint(tmp_path, ["a.py"]) == before
    assert {f.rule for f in before} == {"F401", "S307"}


def test_ruff_chunks_merge(tmp_path, monkeypatch):
    paths = [write(tmp_path, f"m{i}.py", "import os\n") for i in range(3)]
    whole = Ruff().lint(tmp_path, paths)
    monkeypatch.setattr(ruff_lint, "chunks", lambda p: base.chunks(p, max_count=1))
    assert Ruff().lint(tmp_path, paths) == whole
    assert [f.path for f in whole] == paths


def test_chunks_respect_count_and_bytes():
    paths = [f"p{i:03}" for i in range(10)]
    assert [len(c) for c in base.chunks(paths, max_count=4)] == [4, 4, 2]
    assert [len(c) for c in base.chunks(paths, max_bytes=10)] == [2] * 5
    assert [p for c in base.chunks(paths) for p in c] == paths


# --- shellcheck --------------------------------------------------------------------------


def test_shellcheck_finds_sc2086(tmp_path):
    write(tmp_path, "bin/run.sh", "#!/bin/sh\necho $1\n")
    write(tmp_path, "bin/deploy", "#!/usr/bin/env bash\necho $1\n")
    write(tmp_path, "notes.txt", "echo $1\n")
    found = ShellCheck().lint(tmp_path, ["bin/run.sh", "bin/deploy", "notes.txt"])
    got = {(f.rule, f.path, f.line, f.column, f.severity, f.category) for f in found}
    assert got == {
        ("SC2086", "bin/deploy", 2, 6, 4, "style"),
        ("SC2086", "bin/run.sh", 2, 6, 4, "style"),
    }


def test_shellcheck_levels_and_no_source_following(tmp_path):
    write(tmp_path, "lib.sh", "#!/bin/sh\nFOO=1\n")
    write(tmp_path, "main.sh", "#!/bin/sh\n. ./lib.sh\nunused=1\nif then\n")
    found = ShellCheck().lint(tmp_path, ["main.sh"])
    assert {f.path for f in found} == {"main.sh"}
    assert any(f.severity == 2 and f.category == "correctness" for f in found)


def test_repo_shellcheckrc_does_not_change_results(tmp_path):
    write(tmp_path, "run.sh", "#!/bin/sh\necho $1\n")
    before = ShellCheck().lint(tmp_path, ["run.sh"])
    write(tmp_path, ".shellcheckrc", "disable=all\n")
    (tmp_path / ".config").mkdir()
    write(tmp_path, ".config/shellcheckrc", "disable=SC2086\n")
    assert ShellCheck().lint(tmp_path, ["run.sh"]) == before
    assert [f.rule for f in before] == ["SC2086"]


# --- paths -------------------------------------------------------------------------------


def test_paths_with_spaces_and_leading_dashes(tmp_path):
    write(tmp_path, "-rf.py", "import os\n")
    write(tmp_path, "my dir/a b.py", "import sys\n")
    write(tmp_path, "--version.sh", "#!/bin/sh\necho $1\n")
    write(tmp_path, "-", "#!/bin/sh\necho $1\n")
    py = Ruff().lint(tmp_path, ["-rf.py", "my dir/a b.py"])
    assert {(f.rule, f.path) for f in py} == {("F401", "-rf.py"), ("F401", "my dir/a b.py")}
    sh = ShellCheck().lint(tmp_path, ["--version.sh", "-"])
    assert {(f.rule, f.path) for f in sh} == {("SC2086", "--version.sh"), ("SC2086", "-")}
    counts = codecount.count(tmp_path, ["-rf.py", "my dir/a b.py", "--version.sh"])
    assert [c.path for c in counts] == ["--version.sh", "-rf.py", "my dir/a b.py"]


def test_symlinks_and_escapes_are_not_read(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.py", "import os\n")
    root = tmp_path / "repo"
    write(root, "real.py", "import os\n")
    (root / "leak.py").symlink_to(outside / "secret.py")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    paths = ["real.py", "leak.py", "linked/secret.py", "../outside/secret.py", str(outside)]
    assert base.regular_files(root, paths) == ["real.py"]
    assert {f.path for f in Ruff().lint(root, paths)} == {"real.py"}
    assert [c.path for c in codecount.count(root, paths)] == ["real.py"]


# --- fingerprints ------------------------------------------------------------------------


def test_fingerprint_survives_inserted_lines_and_changes_with_the_line(tmp_path):
    write(tmp_path, "a.py", EVAL_MODULE)
    before = {f.rule: f for f in Ruff().lint(tmp_path, ["a.py"])}
    write(tmp_path, "a.py", "# header\n# more\n\n" + EVAL_MODULE.replace("\n\n\n", "\n\n\n\n"))
    after = {f.rule: f for f in Ruff().lint(tmp_path, ["a.py"])}
    assert after["S307"].line == before["S307"].line + 4
    assert after["S307"].fingerprint == before["S307"].fingerprint
    assert after["F401"].fingerprint == before["F401"].fingerprint
    write(tmp_path, "a.py", EVAL_MODULE.replace("eval(expr)", "eval(expr + '1')"))
    changed = {f.rule: f for f in Ruff().lint(tmp_path, ["a.py"])}
    assert changed["S307"].fingerprint != before["S307"].fingerprint
    assert changed["F401"].fingerprint == before["F401"].fingerprint


def test_identical_findings_get_distinct_stable_fingerprints(tmp_path):
    body = "def f(x):\n    y = eval(x)\n    y = eval(x)\n    return y\n"
    write(tmp_path, "a.py", body)
    first = [f for f in Ruff().lint(tmp_path, ["a.py"]) if f.rule == "S307"]
    assert len(first) == 2 and first[0].fingerprint != first[1].fingerprint
    write(tmp_path, "a.py", "import sys\n\n" + body.replace("    ", "        "))
    again = [f for f in Ruff().lint(tmp_path, ["a.py"]) if f.rule == "S307"]
    assert [f.fingerprint for f in again] == [f.fingerprint for f in first]


def test_fingerprints_are_order_independent_and_tolerate_missing_files(tmp_path):
    write(tmp_path, "a.py", "x = 1\nx = 1\n")
    raw = [
        RawFinding("t", "R1", 3, "a.py", 2, 1, "m"),
        RawFinding("t", "R1", 3, "a.py", 1, 1, "m"),
        RawFinding("t", "R1", 3, "gone.py", 9, 1, "m"),
    ]
    one, two = fingerprints(tmp_path, raw), fingerprints(tmp_path, raw[::-1])
    assert one == two
    assert [f.line for f in one] == [1, 2, 9]
    assert one[0].fingerprint == fingerprint("t", "R1", "a.py", "x  =   1", 0)
    assert one[1].fingerprint == fingerprint("t", "R1", "a.py", "x = 1", 1)
    assert len({f.fingerprint for f in one}) == 3


# --- errors ------------------------------------------------------------------------------


def test_tool_binary_finds_the_installed_tools():
    for name in ("ruff", "shellcheck"):
        assert os.access(tool_binary(name), os.X_OK)
    with pytest.raises(ToolError, match="is not installed"):
        tool_binary("no-such-tool-taskhub")


def test_missing_binary_is_a_tool_error(tmp_path, monkeypatch):
    write(tmp_path, "a.py", "import os\n")
    write(tmp_path, "a.sh", "echo $1\n")

    def missing(name):
        raise ToolError(f"{name} is not installed")

    monkeypatch.setattr(base, "tool_binary", missing)
    with pytest.raises(ToolError, match="ruff is not installed"):
        Ruff().lint(tmp_path, ["a.py"])
    monkeypatch.setattr(base, "tool_binary", lambda name: str(tmp_path / "nowhere" / name))
    with pytest.raises(ToolError, match="shellcheck is not installed") as exc:
        ShellCheck().lint(tmp_path, ["a.sh"])
    assert "/" not in str(exc.value)


def test_timeout_is_a_tool_error(tmp_path, monkeypatch):
    hang = tmp_path / "bin" / "ruff"
    hang.parent.mkdir()
    hang.write_text("#!/bin/sh\nwhile :; do :; done\n")
    hang.chmod(0o755)
    write(tmp_path, "a.py", "import os\n")
    monkeypatch.setattr(base, "tool_binary", lambda name: str(hang))
    with pytest.raises(ToolError, match=r"ruff timed out after 0\.3 s"):
        Ruff().lint(tmp_path, ["a.py"], timeout_s=0.3)


def test_crash_and_garbage_are_tool_errors(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "tool"
    fake.parent.mkdir()
    write(tmp_path, "a.py", "import os\n")
    write(tmp_path, "a.sh", "echo $1\n")
    monkeypatch.setattr(base, "tool_binary", lambda name: str(fake))
    fake.write_text(f"#!/bin/sh\necho 'boom in {tmp_path}/a.py at /etc/x' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(ToolError) as exc:
        Ruff().lint(tmp_path, ["a.py"])
    assert str(exc.value) == "ruff failed (exit 2): boom in a.py at <path>"
    with pytest.raises(ToolError, match=r"failed \(exit 2\)"):
        ShellCheck().lint(tmp_path, ["a.sh"])
    fake.write_text("#!/bin/sh\necho 'not json'\n")
    with pytest.raises(ToolError, match="not its JSON report"):
        Ruff().lint(tmp_path, ["a.py"])
    with pytest.raises(ToolError, match="not its JSON report"):
        ShellCheck().lint(tmp_path, ["a.sh"])


def test_run_tool_environment_is_minimal(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    script = "import json, os, sys; print(json.dumps([dict(os.environ), sys.stdin.read()]))"
    proc = run_tool([sys.executable, "-c", script], cwd=tmp_path, timeout_s=30)
    env, stdin = json.loads(proc.stdout)
    assert stdin == ""
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert {k: env[k] for k in ("PATH", "LANG", "HOME")} == {
        "PATH": str(Path(sys.executable).parent),
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
    }
    assert set(env) <= {"PATH", "LANG", "HOME", "LC_CTYPE", "PWD"}


def test_run_tool_timeout(tmp_path):
    with pytest.raises(ToolError, match="timed out"):
        run_tool([sys.executable, "-c", "while True: pass"], cwd=tmp_path, timeout_s=0.2)


# --- codecount ---------------------------------------------------------------------------

PY_COUNTED = '''"""Module docstring.

Second paragraph.
"""

# a comment
import os  # trailing comment


def f():
    """A docstring: tokei counts it as code."""
    return os.sep
'''


def test_codecount_numbers(tmp_path):
    write(tmp_path, "pkg/a.py", PY_COUNTED)
    write(tmp_path, "run.sh", "#!/bin/sh\n# comment\n\necho hi  # trailing\n")
    counts = codecount.count(tmp_path, ["pkg/a.py", "run.sh"])
    # a.py: docstrings are code (tokei's default); "# a comment" is comment; blanks 5, 8, 9
    assert counts == [
        codecount.FileCount("pkg/a.py", "Python", code=8, comment=1, blank=3, total=12),
        codecount.FileCount("run.sh", "Shell", code=1, comment=2, blank=1, total=4),
    ]
    assert codecount.summarise(counts) == {
        "files": 2,
        "code": 9,
        "comment": 3,
        "blank": 4,
        "total": 16,
        "languages": {
            "Python": {"files": 1, "code": 8, "comment": 1, "blank": 3, "total": 12},
            "Shell": {"files": 1, "code": 1, "comment": 2, "blank": 1, "total": 4},
        },
    }


def test_codecount_ignores_tokei_configs_of_the_repo_cwd_and_home(tmp_path, monkeypatch):
    write(tmp_path, "repo/a.py", PY_COUNTED)
    on = "treat_doc_strings_as_comments = true\n"
    for where in ("repo/tokei.toml", "cwd/tokei.toml", "home/.tokeirc", "home/.config/tokei.toml"):
        write(tmp_path, where, on)
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (counted,) = codecount.count(tmp_path / "repo", ["a.py"])
    assert (counted.code, counted.comment, counted.blank) == (8, 1, 3)


def test_codecount_only_given_recognised_files(tmp_path):
    write(tmp_path, "a.py", "x = 1\n")
    write(tmp_path, "b.py", "y = 2\n")
    write(tmp_path, "sub/c.py", "z = 3\n")
    write(tmp_path, "data.unknownext", "x = 1\n")
    write(tmp_path, "tokei.toml", "treat_doc_strings_as_comments = false\n")
    counts = codecount.count(tmp_path, ["a.py", "sub", "data.unknownext", "missing.py"])
    assert [(c.path, c.code) for c in counts] == [("a.py", 1)]
    assert codecount.count(tmp_path, []) == []
    assert codecount.summarise([])["languages"] == {}


# --- complexity --------------------------------------------------------------------------


def branches(name: str, n: int) -> str:
    """A function of CCN n + 1: n ifs."""
    lines = [f"def {name}(x, y):"]
    lines += [f"    if x == {i}:\n        return {i}" for i in range(n)]
    return "\n".join([*lines, "    return y", "", ""])


def test_complexity_threshold(tmp_path):
    src = branches("hot", 20) + branches("edge", 19) + "def cold():\n    return 1\n"
    write(tmp_path, "c.py", src)
    write(tmp_path, "notes.txt", "if if if\n")
    files, functions = complexity.analyze(tmp_path, ["c.py", "notes.txt"])
    assert [(f.name, f.ccn, f.params, f.line) for f in functions] == [("hot", 21, 2, 1)]
    assert files == [
        complexity.FileComplexity(
            "c.py", "python", files[0].nloc, function_count=3, ccn_total=21 + 20 + 1, ccn_max=21
        )
    ]
    assert files[0].nloc > 0 and functions[0].end_line > functions[0].line
    # TCA's rule is "exceeds": CCN 20 is not over min_ccn 20, it is over 19.
    assert [f.name for f in complexity.analyze(tmp_path, ["c.py"], min_ccn=19)[1]] == [
        "hot",
        "edge",
    ]


# --- duplication -------------------------------------------------------------------------

DUP_BODY = '''def process_records(records, limit, verbose):
    """Summarise records."""
    totals = {}
    errors = []
    for index, record in enumerate(records):
        if index >= limit:
            break
        key = record.get("key")
        value = record.get("value", 0)
        if key is None:
            errors.append(index)
            continue
        if key not in totals:
            totals[key] = 0
        totals[key] += value
        if verbose:
            print("record", index, key, value)
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    best = ordered[0] if ordered else None
    worst = ordered[-1] if ordered else None
    summary = {
        "count": len(records),
        "errors": len(errors),
        "best": best,
        "worst": worst,
        "keys": [k for k, _ in ordered],
    }
    if verbose:
        for name, amount in ordered:
            print(name, amount)
    if errors and verbose:
        print("errors at", errors)
    mean = sum(totals.values()) / len(totals) if totals else 0
    summary["mean"] = mean
    spread = (best[1] - worst[1]) if best and worst else 0
    summary["spread"] = spread
    return summary
'''


@pytest.fixture
def dup_repo(tmp_path):
    write(
        tmp_path, "one.py", "import os\n\n\n" + DUP_BODY + "\n\ndef other():\n    return os.sep\n"
    )
    write(tmp_path, "two.py", '"""Two."""\n\nX = 1\nY = [1, 2, 3]\n\n\n' + DUP_BODY)
    write(tmp_path, "three.py", "def alone(a):\n    return a + 1\n")
    write(tmp_path, "README.txt", DUP_BODY)  # no lizard reader: not sampled, not in lines
    return tmp_path


def test_duplication_finds_the_copied_function(dup_repo):
    files = duplication.samples(dup_repo, ["one.py", "two.py", "three.py", "README.txt"])
    assert [(f.path, f.lines) for f in files] == [("one.py", 44), ("three.py", 2), ("two.py", 43)]
    report = duplication.find(files)
    assert len(report.blocks) == 1
    (block,) = report.blocks
    (p1, s1, e1), (p2, s2, e2) = block.locations
    assert (p1, s1, p2, s2) == ("one.py", 4, "two.py", 7)
    assert e1 - s1 == e2 - s2 and 30 <= e1 - s1 <= 37
    assert block.tokens >= 120
    assert report.lines == 44 + 2 + 43
    assert report.duplicated_blocks == 2 and report.duplicated_files == 2
    assert [(f.path, f.total_lines, f.block_count) for f in report.files] == [
        ("one.py", 44, 1),
        ("two.py", 43, 1),
    ]
    assert report.duplicated_lines == (e1 - s1 + 1) + (e2 - s2 + 1)
    assert report.rate == pytest.approx(report.duplicated_lines / report.lines * 100)


def test_duplication_shards_equal_whole(dup_repo):
    paths = ["one.py", "two.py", "three.py"]
    whole = duplication.find(duplication.samples(dup_repo, paths))
    stored = [
        duplication.FileSamples.from_dict(json.loads(json.dumps(f.to_dict())))
        for shard in (["two.py"], ["three.py", "one.py"])
        for f in duplication.samples(dup_repo, shard)
    ]
    assert duplication.find(stored) == whole
    assert duplication.find(stored[::-1]) == whole
    with pytest.raises(ValueError):
        duplication.find(stored + stored[:1])


def test_duplication_min_tokens_is_tokens_per_copy(dup_repo):
    files = duplication.samples(dup_repo, ["one.py", "two.py"])
    tokens = duplication.find(files, min_tokens=1).blocks[0].tokens
    assert len(duplication.find(files, min_tokens=tokens).blocks) == 1
    assert duplication.find(files, min_tokens=tokens + 1).blocks == []
    assert duplication.find(files, min_dup_times=3).blocks == []


def test_duplication_nothing(tmp_path):
    report = duplication.find([])
    assert (report.lines, report.rate, report.blocks, report.files) == (0, 0.0, [], [])
    write(tmp_path, "a.py", "x = 1\n")
    report = duplication.find(duplication.samples(tmp_path, ["a.py"]))
    assert (report.lines, report.duplicated_lines, report.rate) == (1, 0, 0.0)


# --- JSON --------------------------------------------------------------------------------


def test_json_round_trips(dup_repo):
    finding = Finding("ruff", "F401", 3, "a.py", 1, 8, "`os` imported", "ab" * 16, "correctness")
    assert roundtrip(finding) == finding
    raw = RawFinding("ruff", "F401", 3, "a.py", 1, 8, "m")
    assert roundtrip(raw) == raw
    for c in codecount.count(dup_repo, ["one.py"]):
        assert roundtrip(c) == c
    files, functions = complexity.analyze(dup_repo, ["one.py"], min_ccn=1)
    assert functions and all(roundtrip(x) == x for x in [*files, *functions])
    samples = duplication.samples(dup_repo, ["one.py", "two.py"])
    assert all(roundtrip(s) == s for s in samples)
    assert isinstance(samples[0].to_dict()["samples"][0], list)
    report = duplication.find(samples)
    assert report.blocks and roundtrip(report) == report
