"""Admin CLI: `python -m chalicelib.admin [--stage local] apply workspace.json`, `export`, and
friends.

It reads the stage's environment from `.chalice/config.json`. For the local stage it talks to
the running local server's store, found through the `server.json` that server keeps in its
data directory (`TASKHUB_DATA_DIR`); with no server running it refuses rather than write
into whatever listens on a port. For deployed stages it uses AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]


def _load_stage_env(stage: str) -> None:
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    for key, value in env.items():
        os.environ.setdefault(key, str(value))
    if embedded():
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def embedded() -> bool:
    return os.environ.get("TASKHUB_EMBEDDED", "").lower() in {"1", "true"}


class NoServer(Exception):
    pass


def _find_local_server() -> None:
    """Point this process at the running local server's store, or refuse."""
    from ..core import config
    from ..core.embedded import hold_lock, read_server_file

    data_dir = config.reload().data_dir
    lock = hold_lock(data_dir)
    if lock is not None:
        os.close(lock)
        raise NoServer(
            f"no local taskhub is running with the data directory {data_dir}; "
            "start it with `make run` (or set TASKHUB_DATA_DIR to the running one's)"
        )
    info = read_server_file(data_dir)
    if not info or not info.get("store"):
        raise NoServer(f"the local taskhub in {data_dir} has not finished starting; try again")
    os.environ["TASKHUB_ENDPOINT_URL"] = info["store"]
    config.reload()


def wipe_local() -> dict[str, str]:
    """Delete the local stage's data, only while no server holds it."""
    import shutil

    from ..core import config
    from ..core.embedded import SERVER_FILE, hold_lock

    data_dir = config.reload().data_dir
    lock = hold_lock(data_dir)
    if lock is None:
        raise NoServer(f"a local taskhub is running with {data_dir}; stop it before wiping")
    try:
        shutil.rmtree(data_dir / "store", ignore_errors=True)
        (data_dir / SERVER_FILE).unlink(missing_ok=True)
    finally:
        os.close(lock)
    return {"wiped": str(data_dir)}


def _export(out: str | None) -> dict[str, Any]:
    from . import service

    document = service.export_whole_workspace()
    if out is None:
        return document
    Path(out).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return {"written": out, "items": {name: len(items) for name, items in document.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.admin")
    parser.add_argument("--stage", default=os.environ.get("TASKHUB_STAGE", "local"))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("apply", help="apply a workspace document (JSON file, - for stdin)")
    p.add_argument("file")
    p = sub.add_parser(
        "export", help="write the whole workspace document, secrets left out (to stdout or --out)"
    )
    p.add_argument("--out", help="file to write instead of stdout")
    p = sub.add_parser("create-user")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--uuid")
    p.add_argument("--password")
    p.add_argument("--admin", action="store_true")
    p = sub.add_parser("create-token", help="issue a token; it is printed once")
    p.add_argument("user_uuid")
    p.add_argument("--name", default="cli")
    p = sub.add_parser("revoke-token", help="revoke by token or token id")
    p.add_argument("token")
    p = sub.add_parser("create-access-key", help="issue an AK/SK pair; the SK is printed once")
    p.add_argument("user_uuid")
    p = sub.add_parser("revoke-access-key", help="revoke an AK/SK pair by its access key id")
    p.add_argument("access_key_id")
    sub.add_parser(
        "init-secret-key", help="create the SSM key that encrypts AK secrets, if missing"
    )
    sub.add_parser("wipe-local", help="delete the local stage's data (server stopped)")
    args = parser.parse_args(argv)

    os.environ["TASKHUB_STAGE"] = args.stage
    _load_stage_env(args.stage)
    try:
        if args.command == "wipe-local":
            if not embedded():
                raise NoServer("wipe-local is for the local stage only")
            print(json.dumps(wipe_local(), indent=2))
            return 0
        if embedded():
            _find_local_server()
    except NoServer as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from ..core.errors import TaskhubError
    from ..faces import load_faces
    from . import service

    load_faces()
    try:
        if args.command == "apply":
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
            result = service.apply_workspace(json.loads(text))
        elif args.command == "export":
            result = _export(args.out)
        elif args.command == "create-user":
            result = service.create_user(
                args.name, args.email, uuid=args.uuid, password=args.password, admin=args.admin
            )
        elif args.command == "create-token":
            result = service.create_token(args.user_uuid, args.name)
        elif args.command == "revoke-token":
            result = service.revoke_token(args.token)
        elif args.command == "create-access-key":
            result = service.create_access_key(args.user_uuid)
        elif args.command == "revoke-access-key":
            result = service.revoke_access_key(args.access_key_id)
        else:
            result = service.init_secret_key()
    except (TaskhubError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
