"""Admin operations shared by the HTTP surface and the CLI."""

from __future__ import annotations

from typing import Any

from ..core import crypto, workspace
from ..core.config import settings
from ..core.identity import service as identity

LOCAL_ADMIN_UUID = "admin000"


def apply_workspace(document: Any) -> dict[str, dict[str, int]]:
    return workspace.apply(document)


def export_workspace(limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the workspace document, without secrets, and the cursor of the next."""
    return workspace.export(limit, cursor)


def export_whole_workspace(limit: int = workspace.MAX_LIMIT) -> dict[str, list[dict]]:
    """The whole document, page after page (for backups and moving between stages)."""
    document: dict[str, list[dict]] = {}
    cursor = None
    while True:
        page = workspace.export(limit, cursor)
        workspace.merge(document, page["workspace"])
        cursor = page["cursor"]
        if cursor is None:
            return document


def create_user(
    name: str, email: str, *, uuid: str | None = None, password: str | None = None, admin=False
) -> dict[str, Any]:
    user, _ = identity.upsert_user(
        name=name, email=email, uuid=uuid, password=password, is_admin=admin
    )
    return {"uuid": user.uuid, "name": user.name, "email": user.email, "admin": user.is_admin}


def create_token(user_uuid: str, name: str = "") -> dict[str, str]:
    token, _ = identity.issue_token(user_uuid, name=name)
    return {"token": token, "token_id": identity.token_id_of(token), "user_uuid": user_uuid}


def revoke_token(token_or_id: str) -> dict[str, str]:
    return {"revoked": identity.revoke_token(token_or_id)}


def create_access_key(user_uuid: str) -> dict[str, str]:
    ak, sk = identity.create_access_key(user_uuid)
    return {"access_key_id": ak, "secret_access_key": sk, "user_uuid": user_uuid}


def revoke_access_key(access_key_id: str) -> dict[str, str]:
    return {"revoked": identity.revoke_access_key(access_key_id)}


def init_secret_key() -> dict[str, str]:
    crypto.ensure_secret_parameter()
    return {"parameter": crypto.secret_parameter_name()}


def bootstrap_local_admin() -> None:
    """Only the embedded local stage has a default admin, with the token from the env."""
    cfg = settings()
    if not (cfg.embedded and cfg.admin_token):
        return
    identity.upsert_user(
        uuid=LOCAL_ADMIN_UUID, name="admin", email="admin@taskhub.local", is_admin=True
    )
    identity.issue_token(LOCAL_ADMIN_UUID, name="local-admin", token=cfg.admin_token)
