"""What the served API docs add to the Lambda package: `python -m bench.docs_size`.

Builds the docs bundle and the dev stage's package as `make package` does, then prints the
size of `swagger-ui-bundle` as pip installs it, of the bundle taken from it (with the
OpenAPI documents), and of the bundle's entries inside `deployment.zip`, compressed as chalice
stores them, against the whole zip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from chalicelib.apidocs import bundle

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "chalicelib/apidocs/dist/"


def installed() -> int:
    import swagger_ui_bundle

    top = Path(swagger_ui_bundle.__file__).parent
    return sum(p.stat().st_size for p in top.rglob("*") if p.is_file())


def main() -> int:
    sizes = bundle.build()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with tempfile.TemporaryDirectory() as work:
        chalice = Path(sys.executable).with_name("chalice")
        built = subprocess.run(
            [str(chalice), "package", "--stage", "dev", str(Path(work) / "pkg")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if built.returncode:
            print(built.stderr[-2000:], file=sys.stderr)
            return 1
        zipped = Path(work) / "pkg" / "deployment.zip"
        with zipfile.ZipFile(zipped) as z:
            entries = [i for i in z.infolist() if i.filename.startswith(PREFIX)]
            total = zipped.stat().st_size
    mib = 1024 * 1024
    assets = sum(v for k, v in sizes.items() if k.startswith("assets/"))
    docs = sum(v for k, v in sizes.items() if not k.startswith("assets/"))
    stored = sum(i.compress_size for i in entries)
    print(f"swagger-ui-bundle as pip installs it: {installed() / mib:.2f} MiB")
    print(f"bundle: {len(sizes)} files, {sum(sizes.values()) / mib:.2f} MiB")
    print(f"  assets (Swagger UI's script and style sheet, ours): {assets / mib:.2f} MiB")
    print(f"  OpenAPI documents as JSON, and the index: {docs / mib:.2f} MiB")
    print(
        f"in deployment.zip: {stored / mib:.2f} MiB compressed of {total / mib:.2f} MiB"
        f" ({100 * stored / total:.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
