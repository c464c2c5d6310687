"""Who owns scan data, and may the caller act there?

Repositories belong to a namespace of a face: a TCA team (`tca`, id `<org>/<team>`, its
parent the organisation `<org>`) or a CodeArts project (`codearts`, its 32-hex id). Roles
are granted on namespaces and inherited from the parent, so an organisation's member is a
member of each of its teams.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.auth import Principal
from ..core.errors import Forbidden, NotFound
from ..core.identity import service as identity


@dataclass(frozen=True)
class Owner:
    face: str
    ns_id: str

    @property
    def key(self) -> str:
        return f"{self.face}:{self.ns_id}"

    @property
    def org(self) -> str:
        """The organisation of a TCA team (the part before the slash)."""
        return self.ns_id.split("/", 1)[0]


class NamespaceMissing(NotFound):
    """The organisation, team or project named in the path does not exist."""


def team_id(org_sid: str, team_name: str) -> str:
    return f"{org_sid}/{team_name}"


def require(principal: Principal, face: str, ns_id: str, permission: str) -> Owner:
    """The owner named by the path, if it exists and the caller has `permission` there."""
    if len(ns_id) > 64 or identity.get_namespace(face, ns_id) is None:
        raise NamespaceMissing(f"{face} namespace {ns_id} not found")
    if not principal.can(face, ns_id, permission):
        raise Forbidden(f"permission denied: {permission}")
    return Owner(face, ns_id)


def org_key(face: str, org: str) -> str:
    """The owner of an organisation's scheme templates."""
    return f"org:{face}:{org}"


def repo_key(repo_id: int) -> str:
    """The owner of a repository's schemes."""
    return f"repo:{repo_id}"
