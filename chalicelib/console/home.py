"""The home page: the caller's namespaces of each face the console shows, with links.

A user's own memberships (one Query per face, at most HOME_LIMIT each) and each namespace
read once; an admin, who may read everything, gets the first namespaces of each face. Only
namespaces the caller may read are listed."""

from __future__ import annotations

from ..core.auth import Principal
from ..core.identity import service as identity
from ..core.identity.service import Namespace
from . import READ
from .html import esc, link, table, url

HOME_LIMIT = 25
TITLES = {
    "jobx": "JOBX projects",
    "tca": "TCA teams",
    "codearts": "CodeArts Check projects",
    "ones": "ONES teams",
}


def _namespaces(principal: Principal, face: str) -> list[Namespace]:
    if principal.user.is_admin:
        return [ns for ns, _ in identity.namespaces_of_face(face, HOME_LIMIT, None)]
    found = []
    for ns_id in identity.namespaces_of(principal.uuid, face, limit=HOME_LIMIT):
        ns = identity.get_namespace(face, ns_id)
        if ns is not None and principal.can(face, ns_id, READ[face]):
            found.append(ns)
    return found


def _team_of(ns: Namespace) -> str | None:
    """The ONES team a team or project namespace opens on."""
    if ns.kind == "project":
        return ns.parent
    return ns.ns_id


def _row(principal: Principal, ns: Namespace) -> list[str] | None:
    name = esc(ns.name or ns.ns_id)
    role = esc(principal.role(ns.face, ns.ns_id) or ("admin" if principal.user.is_admin else ""))
    if ns.face == "jobx":
        target = url("jobx", ns.ns_id)
    elif ns.face == "codearts":
        target = url("codearts", ns.ns_id)
    elif ns.face == "tca":
        if "/" not in ns.ns_id:  # an organisation: its teams are listed as their own rows
            return None
        org, team = ns.ns_id.split("/", 1)
        target = url("tca", org, team)
    else:
        team = _team_of(ns)
        if not team:
            return None
        target = url("ones", team)
    return [link(target, ns.ns_id), name, esc(ns.kind), role]


def _org_teams(principal: Principal, orgs: list[str]) -> list[Namespace]:
    """The teams of the TCA organisations the caller belongs to (they inherit its role)."""
    if not orgs:
        return []
    teams = identity.namespaces_of_face("tca", HOME_LIMIT * 4, None)
    return [ns for ns, _ in teams if ns.parent in orgs][:HOME_LIMIT]


def page(principal: Principal) -> tuple[str, str]:
    parts = ["<h1>Your namespaces</h1>"]
    for face, title in TITLES.items():
        found = _namespaces(principal, face)
        if face == "tca" and not principal.user.is_admin:
            orgs = [ns.ns_id for ns in found if "/" not in ns.ns_id]
            known = {ns.ns_id for ns in found}
            found += [ns for ns in _org_teams(principal, orgs) if ns.ns_id not in known]
        rows = [r for r in (_row(principal, ns) for ns in found) if r is not None]
        parts.append(f"<h2>{esc(title)}</h2>")
        if rows:
            parts.append(table(("id", "name", "kind", "role"), rows))
        else:
            parts.append('<p class="muted">None.</p>')
    return "Home", "".join(parts)
