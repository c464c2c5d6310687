"""The ONES workspace sections: idempotent, validated before anything is written."""

from __future__ import annotations

import copy

from chalicelib.core.identity import service as identity
from chalicelib.workitems import catalog

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
