"""Email + password login: the user, a new API token, and the user's namespaces of a face.

Faces render their own login body from this (ONES: the user with its token, and its teams).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import service
from .service import Namespace, User


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    namespaces: list[Namespace]

    def of_kind(self, kind: str) -> list[Namespace]:
        return [ns for ns in self.namespaces if ns.kind == kind]


def login(email: str, password: str, *, face: str, client: str) -> Session:
    """Unauthorized for an unknown email or a wrong password alike; the token is named after
    the `client` that asked for it."""
    user = service.check_password(email, password)
    token, _ = service.issue_token(user.uuid, name=client)
    namespaces = []
    for ns_id in service.namespaces_of(user.uuid, face):
        ns = service.get_namespace(face, ns_id)
        if ns is not None:
            namespaces.append(ns)
    return Session(user, token, namespaces)
