"""What `/docs` serves, gathered from its sources: the OpenAPI documents of `docs/openapi`
(as JSON, so the Lambda needs no YAML parser) and the few Swagger UI files the pages load,
taken from the pinned `swagger-ui-bundle` package (never a CDN).

A working tree serves straight from these sources, so an edited document shows at the next
start. `chalice package` ships `chalicelib/` only, so `make package` first writes the same
files to `chalicelib/apidocs/dist` (`python -m chalicelib.apidocs.bundle`), which a package
serves from: about 1.2 MB of the 8.3 MB the pip package installs.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = ROOT / "docs" / "openapi"
DIST = HERE / "dist"
STATIC = HERE / "static"
# Swagger UI's files the pages need; the rest of the package (ES bundles, source maps, the
# standalone preset, its own index page) is never loaded.
VENDORED = ("swagger-ui-bundle.js", "swagger-ui.css")
OURS = ("init.js", "docs.css")
INDEX = "index.json"


def _swagger_ui() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def contents() -> dict[str, bytes]:
    """Every served file by its path under the bundle: `index.json` (the documents, by name,
    with their titles), `openapi/<name>.json` and `assets/<file>`."""
    import yaml

    files: dict[str, bytes] = {}
    index = []
    for source in sorted(SOURCES.glob("*.yaml")):
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
        files[f"openapi/{source.stem}.json"] = json.dumps(document, ensure_ascii=False).encode()
        index.append({"name": source.stem, "title": document["info"]["title"]})
    files[INDEX] = json.dumps(index, ensure_ascii=False).encode()
    ui = _swagger_ui()
    for name in VENDORED:
        files[f"assets/{name}"] = (ui / name).read_bytes()
    for name in OURS:
        files[f"assets/{name}"] = (STATIC / name).read_bytes()
    return files


def build(dest: Path = DIST) -> dict[str, int]:
    """Write the bundle to `dest` afresh; returns each file's size."""
    files = contents()
    if dest.exists():
        shutil.rmtree(dest)
    for name, data in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return {name: len(data) for name, data in files.items()}


if __name__ == "__main__":
    sizes = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DIST)
    print(f"API docs: {len(sizes)} files, {sum(sizes.values())} bytes")
