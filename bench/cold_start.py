"""Cold start: the CPU time of `import app` from the deployment package, beside importing
boto3, pynamodb and chalice alone, each in fresh processes (median of `--runs`).

    .venv/bin/python -m bench.cold_start [--runs 9] [--no-faces]
    .venv/bin/python -m bench.cold_start --zip build/package-dev/deployment.zip
    .venv/bin/python -m bench.cold_start --source      # from the source tree instead

Without `--zip` it builds the package of the source as it is (`chalice package --stage dev`
into a temporary directory, about 30 s); if that fails, it takes
`build/package-dev/deployment.zip` (`make package STAGE=dev`), else it measures the source
tree, and says which. The zip is unpacked and each process imports from it
alone (`python -I -S`, no site-packages), as Lambda does from /var/task; boto3, which Lambda's
runtime provides and the package does not ship, comes from this virtualenv. The environment is
the dev stage's (`.chalice/config.json`), outside Lambda.

Two conditions: with the package's bytecode cached (written by a warm-up run), and as a Lambda
first starts, with no .pyc in the package (/var/task is read-only and `chalice package` ships
none, so every module of the package is compiled at import; the runtime's boto3 has its own).
A third row, `import app` + every domain (`load_faces()`), is what importing app cost
before the faces loaded their domains lazily; then what each face's first request adds by
importing its domain (`--no-faces` skips that).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZIP = ROOT / "build" / "package-dev" / "deployment.zip"
STAGE = "dev"
TARGET = 1.3

BASELINE = "import boto3, pynamodb.models, chalice"
APP = "import app"
EVERYTHING = "import app; from chalicelib.faces import load_faces; load_faces()"

# what the first request of a face adds: its face module's lazy modules, loaded after app
FACE_DOMAIN = (
    "import app, importlib; from chalicelib.core.lazy import LazyModule\n"
    "module = importlib.import_module({module!r})\n"
    "start = time.process_time()\n"
    "[v._load() for v in vars(module).values() if isinstance(v, LazyModule)]"
)

CODE = """
import sys, time
sys.path[:0] = {path!r}
start = time.process_time()
{statement}
print(time.process_time() - start)
"""


def stage_environment() -> dict[str, str]:
    """What Lambda's environment would hold for the stage, without credentials."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"][STAGE].get("environment_variables", {}))
    return env


def build_zip(into: Path) -> Path | None:
    chalice = Path(sys.executable).parent / "chalice"
    out = into / "package"
    built = subprocess.run(
        [str(chalice), "package", "--stage", STAGE, str(out)],
        cwd=ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
    )
    zipped = out / "deployment.zip"
    if built.returncode != 0 or not zipped.exists():
        print(f"chalice package failed: {built.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return zipped


def unpack(zipped: Path, into: Path) -> Path:
    into.mkdir(parents=True)
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(into)
    return into


def runtime_dir(package: Path, into: Path) -> Path | None:
    """boto3 (and s3transfer) from this virtualenv when the package lacks them, as Lambda's
    runtime provides them; botocore still comes from the package, which is first on the path."""
    if (package / "boto3").exists():
        return None
    import boto3
    import s3transfer

    into.mkdir(parents=True)
    for module in (boto3, s3transfer):
        source = Path(module.__file__).parent
        (into / source.name).symlink_to(source)
    return into


def cpu_ms(statement: str, path: list[str], env: dict[str, str], cwd: Path) -> float:
    code = CODE.format(path=path, statement=statement)
    flags = ["-I", "-S"] + (["-B"] if env.get("PYTHONDONTWRITEBYTECODE") else [])
    run = subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"{statement!r} failed:\n{run.stderr[-2000:]}")
    return float(run.stdout.split()[-1]) * 1000


def measure(path: list[str], env: dict[str, str], cwd: Path, runs: int) -> dict[str, float]:
    """Median CPU ms of each statement, the runs interleaved so load drifts hit all alike."""
    times: dict[str, list[float]] = {BASELINE: [], APP: [], EVERYTHING: []}
    for _ in range(runs):
        for statement in times:
            times[statement].append(cpu_ms(statement, path, env, cwd))
    return {statement: statistics.median(values) for statement, values in times.items()}


def first_requests(path: list[str], env: dict[str, str], cwd: Path, runs: int) -> None:
    """CPU a face's first request spends importing its domain (after `import app`)."""
    from chalicelib.faces import FACE_MODULES

    print("\nfirst request of each face: importing its domain, after import app")
    for module in FACE_MODULES:
        statement = FACE_DOMAIN.format(module=module)
        median = statistics.median(cpu_ms(statement, path, env, cwd) for _ in range(runs))
        print(f"  {module:<34} {median:8.1f} ms CPU")


def report(title: str, medians: dict[str, float]) -> float:
    base, app, everything = medians[BASELINE], medians[APP], medians[EVERYTHING]
    ratio = app / base
    print(f"\n{title}")
    print(f"  {'boto3 + pynamodb + chalice':<34} {base:8.1f} ms CPU   1.00x")
    print(f"  {'import app':<34} {app:8.1f} ms CPU   {ratio:.2f}x")
    print(
        f"  {'import app + every domain':<34} {everything:8.1f} ms CPU   {everything / base:.2f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--zip", type=Path, default=None, help="a chalice deployment.zip")
    parser.add_argument("--source", action="store_true", help="measure the source tree")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-faces", dest="faces", action="store_false", help="skip per face")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="taskhub-cold-"))
    try:
        zipped = None
        if not args.source:
            zipped = args.zip or build_zip(work)
            if zipped is None and DEFAULT_ZIP.exists():
                print(f"using {DEFAULT_ZIP} instead (it may be older than the source)")
                zipped = DEFAULT_ZIP
        env = stage_environment()
        if zipped is None:
            where = f"the source tree {ROOT} (no deployment package)"
            package = ROOT
            path = [str(ROOT), *site.getsitepackages()]
        else:
            where = f"the deployment package {zipped}, unpacked"
            package = unpack(zipped, work / "task")
            runtime = runtime_dir(package, work / "runtime")
            path = [str(package)] + ([str(runtime)] if runtime else [])
        print(f"`import app` from {where}; stage {STAGE}; {args.runs} fresh processes each")
        print(f"  python -I -S, sys.path: {' + '.join(path)} + the standard library")

        cpu_ms(EVERYTHING, path, env, package)  # warm-up: writes the package's bytecode
        ratio = report("bytecode cached:", measure(path, env, package, args.runs))
        if args.faces:
            first_requests(path, env, package, max(3, args.runs // 2))
        if zipped is not None:
            cold = unpack(zipped, work / "task-nopyc")
            cold_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
            cold_path = [str(cold), *path[1:]]
            report(
                "no .pyc in the package (a Lambda's first start):",
                measure(cold_path, cold_env, cold, args.runs),
            )
        verdict = "within" if ratio <= TARGET else "over"
        print(f"\nratio {ratio:.2f}x (bytecode cached), {verdict} the {TARGET}x target")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
