"""The ONES workspace sections: idempotent, validated before anything is written."""

from __future__ import annotations

import copy

from chalicelib.core import cursors, workspace
from chalicelib.core.identity import service as identity
from chalicelib.workitems import catalog

from ..conftest import make_admin, page_rows
from .conftest import P1, PEI, TEAM, VERA, WORKSPACE


def test_sections_are_idempotent_and_namespaces_nest(apply_workspace):
    first = apply_workspace(WORKSPACE)
    assert first["teams"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert first["statuses"]["created"] == 3 and first["sprints"]["created"] == 3
    again = apply_workspace(WORKSPACE)
    for name in (
        "teams",
        "projects",
        "statuses",
        "issue_types",
        "transitions",
        "priorities",
        "fields",
        "sprints",
    ):
        assert again[name]["created"] == again[name]["updated"] == 0, name
    assert identity.get_namespace("ones", P1).parent == TEAM
    assert identity.role_in(PEI, "ones", P1) == "member"  # inherited from the team
    assert identity.role_in(VERA, "ones", P1) == "viewer"
    loaded = catalog.load(TEAM)
    assert loaded.default_status("FF78d8EL") == "MZQu4VaM"
    assert loaded.default_priority() == "7tKAV46c"
    changed = copy.deepcopy(WORKSPACE)
    changed["statuses"][1]["name"] = "In progress"
    assert apply_workspace(changed)["statuses"] == {"created": 0, "updated": 1, "unchanged": 2}


def test_bad_documents_write_nothing(api, admin):
    cases = [
        ({"projects": [{"uuid": P1, "team": "NoTeam00", "name": "x"}]}, "unknown team"),
        (
            {
                **WORKSPACE,
                "sprints": [{"uuid": "Sprint01", "team": TEAM, "project": "x" * 16, "name": "s"}],
            },
            "unknown project",
        ),
        (
            {
                **WORKSPACE,
                "transitions": [
                    {
                        "uuid": "Tr000001",
                        "team": TEAM,
                        "name": "t",
                        "start_status": "Nope0001",
                        "end_status": "MZQu4VaM",
                    }
                ],
            },
            "unknown status",
        ),
        (
            {**WORKSPACE, "fields": [{"uuid": "field001", "team": TEAM, "name": "x", "type": 2}]},
            "built-in",
        ),
        (
            {**WORKSPACE, "fields": [{"uuid": "Fopt0009", "team": TEAM, "name": "x", "type": 1}]},
            "needs options",
        ),
        (
            {
                **WORKSPACE,
                "statuses": [{"uuid": "St000001", "team": TEAM, "name": "x", "category": "later"}],
            },
            "category",
        ),
        (
            {**WORKSPACE, "teams": [{"uuid": TEAM, "name": "T", "members": {"Nobody01": "admin"}}]},
            "unknown user",
        ),
    ]
    for document, message in cases:
        status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
        assert status == 400 and message in body["error"]["message"], (message, body)
    assert catalog.load(TEAM) is None


CATALOG = ("teams", "projects", "statuses", "issue_types", "transitions", "priorities")
CATALOG += ("fields", "sprints")


def test_the_catalog_exports_as_applied_and_applies_back_unchanged(
    api, admin, apply_workspace, export_workspace
):
    apply_workspace(WORKSPACE)
    document, _ = export_workspace()
    for name in CATALOG:
        assert sorted(document[name], key=lambda i: i["uuid"]) == sorted(
            catalog_items(name), key=lambda i: i["uuid"]
        ), name
    again = apply_workspace(document)
    assert all(again[name]["created"] == again[name]["updated"] == 0 for name in again), again


def test_catalog_export_pages_join_into_the_whole(api, admin, apply_workspace, export_workspace):
    apply_workspace(WORKSPACE)
    two, project = "TeamTwo1", "TwoProject000001"
    other = {  # a second team, so the per-team sections go on from one team to the next
        "teams": [{"uuid": two, "name": "Two", "members": {PEI: "admin"}}],
        "projects": [{"uuid": project, "team": two, "name": "P"}],
        "statuses": [{"uuid": "St2Todo1", "team": two, "name": "New", "category": "to_do"}],
        "sprints": [{"uuid": "Sp2First", "team": two, "project": project, "name": "x"}],
    }
    apply_workspace(other)
    whole, _ = export_workspace()
    for limit in (1, 2, 3, 7):
        document, pages = export_workspace(limit)
        assert document == whole, limit
        assert all(page_rows(page) <= limit for page in pages), limit


def test_catalog_export_onto_an_empty_store_makes_the_same_catalog(
    aws, api, admin, apply_workspace, export_workspace
):
    apply_workspace(WORKSPACE)
    loaded = catalog.load(TEAM)
    document, _ = export_workspace(5)
    aws.truncate()
    status, body = api.call("PUT", "/admin/v1/workspace", document, make_admin())
    assert status == 200, body
    assert body["applied"]["statuses"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert catalog.load(TEAM) == loaded
    assert identity.role_in(VERA, "ones", P1) == "viewer"
    assert export_workspace(5)[0] == document


def catalog_items(name: str) -> list[dict]:
    """What the export of a section holds for WORKSPACE: every field, defaults too."""
    model = workspace.SECTIONS[name].item
    return [model.model_validate(item).model_dump() for item in WORKSPACE[name]]


def test_a_catalog_cursor_outside_its_query_is_refused(api, admin, apply_workspace):
    apply_workspace(WORKSPACE)
    team = {"face": {"S": "ones"}, "kind": {"S": "team"}, "key": {"S": f"ones:{TEAM}"}}
    project = {**team, "kind": {"S": "project"}}  # a key the Query of teams never reaches
    field = {"team_uuid": {"S": TEAM}, "key": {"S": "field#FtXt0001"}}
    for position in (
        {"s": "teams", "at": {"o": project}},
        {"s": "statuses", "at": {"o": None, "i": field}},
    ):
        query = f"limit=5&cursor={cursors.encode(position)}"
        status, body = api.call("GET", f"/admin/v1/workspace?{query}", headers=admin)
        assert status == 400 and body["error"]["message"] == "cursor is not valid", body
