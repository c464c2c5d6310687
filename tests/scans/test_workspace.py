"""TCA's repositories, schemes and projects in the workspace document: idempotent, validated
before anything is written, exported by Query without credentials, and applied back."""

from __future__ import annotations

import copy
import json

import pytest

from chalicelib.core import cursors, workspace
from chalicelib.core.identity import service as identity
from chalicelib.core.metering import count_calls
from chalicelib.scans import projects, repos, schemes
from chalicelib.scans import workspace as sections
from chalicelib.scans.models import RepoModel, SchemeModel
from chalicelib.scans.owners import Owner, org_key, repo_key
from chalicelib.scans.schemas import (
    METRIC_DEFAULTS,
    BasicConfIn,
    LintConfIn,
    MetricConfIn,
    ProjectIn,
    RepoIn,
)

from ..conftest import make_admin, page_rows

ORG, TEAM, OTHER = "acme", "acme/backend", "acme/web"
URL = "https://git.example.com/acme/api.git"
WEB = "https://git.example.com/acme/web"
SECRET = "s3cret-token-value-0001"
TCA = ("tca_repos", "tca_schemes", "tca_projects")
DOC = {
    "namespaces": [
        {"face": "tca", "id": ORG, "kind": "org", "name": "Acme"},
        {"face": "tca", "id": TEAM, "kind": "team", "name": "backend", "parent": ORG},
        {"face": "tca", "id": OTHER, "kind": "team", "name": "web", "parent": ORG},
    ],
    "tca_repos": [
        {
            "team": TEAM,
            "scm_url": URL,
            "scm_type": "git",
            "name": "acme/api",
            "labels": ["core"],
            "scm_auth": {
                "auth_type": "token",
                "scm_account": {"scm_username": "bot", "scm_password": SECRET},
            },
        },
        {"team": TEAM, "scm_url": WEB, "scm_type": "git"},
        {"team": OTHER, "scm_url": WEB + "/", "scm_type": "git", "created_from": "web"},
    ],
    "tca_schemes": [
        {"org": ORG, "name": "default", "languages": ["python"], "metric": {"min_ccn": 15}},
        {
            "team": TEAM,
            "repo": URL,
            "name": "python",
            "languages": ["Python", "shell"],
            "exclude": ["vendor/*"],
            "lint": {"build_cmd": "make"},
        },
        {
            "team": TEAM,
            "repo": URL,
            "name": "metrics",
            "lint": {"enabled": False},
            "metric": {"cc_scan_enabled": True, "dup_scan_enabled": True},
        },
        {"team": OTHER, "repo": WEB, "name": "python", "languages": ["python"]},
    ],
    "tca_projects": [
        {"team": TEAM, "repo": URL, "branch": "master", "scheme": "python"},
        {
            "team": TEAM,
            "repo": URL,
            "branch": "release/1.x",
            "scheme": "python",
            "scan_path": "src",
        },
        {"team": TEAM, "repo": URL, "branch": "master", "scheme": "metrics"},
        {"team": OTHER, "repo": WEB, "branch": "main", "scheme": "python"},
    ],
}


@pytest.fixture(autouse=True)
def git_hosts(monkeypatch):
    """The stage's git policy: repositories of git.example.com may be registered."""
    monkeypatch.setenv("TASKHUB_SCAN_GIT_HOSTS", "git.example.com")


def tca_get(api, headers, path: str):
    status, body = api.call("GET", f"/server/main/api{path}", headers=headers)
    assert status == 200, body
    return body["data"]


def repo_of(team: str, url: str) -> RepoModel:
    found = repos.find(Owner("tca", team), url)
    assert found is not None
    return found


def tca_items(document: dict) -> dict:
    return {name: document.get(name, []) for name in TCA}


def test_apply_creates_through_the_face_s_own_writes_then_changes_nothing(
    api, admin, apply_workspace
):
    first = apply_workspace(DOC)
    assert first["tca_repos"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert first["tca_schemes"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert first["tca_projects"] == {"created": 4, "updated": 0, "unchanged": 0}
    again = apply_workspace(DOC)
    for name in (*TCA, "namespaces"):
        assert again[name] == {"created": 0, "updated": 0, "unchanged": len(DOC[name])}, name

    api_repo = repo_of(TEAM, URL)
    assert (api_repo.scheme_count, api_repo.project_count) == (2, 3)
    assert api_repo.scm_secret and SECRET not in api_repo.scm_secret  # encrypted at rest
    assert repos.credentials(api_repo).password == SECRET
    assert repo_of(OTHER, WEB).created_from == "web"  # the trailing slash: the same URL

    rows = tca_get(api, admin, f"/orgs/{ORG}/teams/backend/repos")["results"]
    assert {r["scm_url"]: r["name"] for r in rows} == {URL: "acme/api", WEB: "acme/web"}
    row = next(r for r in rows if r["scm_url"] == URL)
    assert row["scm_auth"] == {"auth_type": "token", "scm_account": {"scm_username": "bot"}}
    assert (row["scheme_count"], row["branch_count"], row["labels"]) == (2, 3, ["core"])

    base = f"/orgs/{ORG}/teams/backend/repos/{api_repo.repo_id}"
    names = {s["id"]: s["name"] for s in tca_get(api, admin, base + "/schemes")["results"]}
    listed = tca_get(api, admin, base + "/projects")["results"]
    found = {f"{p['branch']}:{names[p['scan_scheme']['id']]}": p for p in listed}
    assert set(found) == {"master:python", "release/1.x:python", "master:metrics"}
    assert found["release/1.x:python"]["scan_path"] == "src"
    assert found["master:python"]["creator"] == "workspace"
    python = found["master:python"]["scan_scheme"]["id"]
    lint = tca_get(api, admin, f"{base}/schemes/{python}/lintconf")
    assert (lint["enabled"], lint["build_cmd"]) == (True, "make")
    basic = tca_get(api, admin, f"{base}/schemes/{python}/basicconf")
    assert (basic["languages"], basic["exclude"]) == (["python", "shell"], ["vendor/*"])
    metrics = found["master:metrics"]["scan_scheme"]["id"]
    metric = tca_get(api, admin, f"{base}/schemes/{metrics}/metricconf")
    assert metric["cc_scan_enabled"] and metric["dup_scan_enabled"] and metric["min_ccn"] == 20
    assert [t.task_name for t in schemes.tools(schemes.of_repo(api_repo.repo_id, metrics))] == [
        "lizard",
        "cpd",
        "codecount",
    ]
    templates = tca_get(api, admin, f"/orgs/{ORG}/schemes")["results"]
    assert [(t["name"], t["languages"]) for t in templates] == [("default", ["python"])]


def test_a_change_is_an_update_of_that_item_only(apply_workspace):
    apply_workspace(DOC)
    api_repo = repo_of(TEAM, URL)
    changed = copy.deepcopy(DOC)
    changed["tca_repos"][0]["labels"] = ["core", "py"]
    changed["tca_schemes"][0]["metric"]["min_ccn"] = 30  # the template
    changed["tca_schemes"][1]["lint"]["build_cmd"] = None
    changed["tca_schemes"][2]["description"] = "only metrics"
    changed["tca_projects"][1]["scan_path"] = None
    report = apply_workspace(changed)
    assert report["tca_repos"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert report["tca_schemes"] == {"created": 0, "updated": 3, "unchanged": 1}
    assert report["tca_projects"] == {"created": 0, "updated": 1, "unchanged": 3}
    assert repo_of(TEAM, URL).labels == ["core", "py"]
    assert repos.credentials(repo_of(TEAM, URL)).password == SECRET  # kept
    by_name = {s.name: s for s in SchemeModel.query(repo_key(api_repo.repo_id))}
    assert by_name["python"].build_cmd is None and by_name["python"].version == 2
    assert by_name["metrics"].description == "only metrics"
    (template,) = SchemeModel.query(org_key("tca", ORG))
    assert schemes.metric(template)["min_ccn"] == 30
    release = projects.find(api_repo.repo_id, by_name["python"].scheme_id, "release/1.x")
    assert release is not None and release.scan_path is None
    assert apply_workspace(changed)["tca_schemes"]["unchanged"] == 4


def test_credentials_are_kept_without_scm_auth_and_replaced_with_it(apply_workspace):
    apply_workspace(DOC)
    bare = copy.deepcopy(DOC)
    del bare["tca_repos"][0]["scm_auth"]
    assert apply_workspace(bare)["tca_repos"]["unchanged"] == 3
    assert repos.credentials(repo_of(TEAM, URL)).password == SECRET
    rotated = copy.deepcopy(DOC)
    rotated["tca_repos"][0]["scm_auth"]["scm_account"]["scm_password"] = "rotated-token-0002"
    assert apply_workspace(rotated)["tca_repos"]["updated"] == 1
    assert repos.credentials(repo_of(TEAM, URL)).password == "rotated-token-0002"
    assert apply_workspace(rotated)["tca_repos"]["unchanged"] == 3


def with_items(name: str, *items: dict) -> dict:
    document = copy.deepcopy(DOC)
    document[name] = [*document[name], *items]
    return document


BAD = [
    (
        with_items("tca_repos", {"team": "acme/nobody", "scm_url": URL, "scm_type": "git"}),
        f"tca_repos: acme/nobody {URL}: unknown team acme/nobody",
    ),
    (
        with_items("tca_repos", {"team": TEAM, "scm_url": URL + "x", "scm_type": "svn"}),
        "only git repositories",
    ),
    (
        with_items(
            "tca_repos", {"team": TEAM, "scm_url": "https://elsewhere.io/a/b", "scm_type": "git"}
        ),
        "tca_repos: 3.scm_url",
    ),
    (with_items("tca_repos", {"team": TEAM, "scm_url": URL + "/", "scm_type": "git"}), "twice"),
    (with_items("tca_repos", {"team": TEAM, "scm_url": URL, "scm_type": "git", "x": 1}), "x"),
    (
        with_items("tca_schemes", {"team": TEAM, "repo": WEB + "2", "name": "p"}),
        f"tca_schemes: {TEAM} {WEB}2 p: unknown repo",
    ),
    (with_items("tca_schemes", {"org": "nobody", "name": "p"}), "unknown organisation nobody"),
    (with_items("tca_schemes", {"org": ORG, "team": TEAM, "repo": URL, "name": "p"}), "either"),
    (with_items("tca_schemes", {"team": TEAM, "name": "p"}), "needs org"),
    (with_items("tca_schemes", {"org": ORG, "name": "default"}), "listed twice"),
    (with_items("tca_schemes", {"org": ORG, "name": "x", "metric": {"min_ccn": 0}}), "min_ccn"),
    (
        with_items("tca_projects", {"team": TEAM, "repo": URL, "branch": "dev", "scheme": "nope"}),
        f"tca_projects: {TEAM} {URL} dev (nope): unknown scheme nope",
    ),
    (
        with_items("tca_projects", {"team": OTHER, "repo": URL, "branch": "m", "scheme": "python"}),
        "unknown repo",
    ),
    (
        with_items(
            "tca_projects", {"team": TEAM, "repo": URL, "branch": "a..b", "scheme": "python"}
        ),
        "not a valid git branch name",
    ),
    (with_items("tca_projects", DOC["tca_projects"][0]), "listed twice"),
]


@pytest.mark.parametrize(("document", "message"), BAD)
def test_a_bad_item_is_refused_by_section_and_item_and_nothing_is_written(
    api, admin, document, message
):
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 400 and message in body["error"]["message"], body
    assert identity.get_namespace("tca", TEAM) is None  # the namespaces section neither
    assert list(RepoModel.query(Owner("tca", TEAM).key)) == []
    assert list(SchemeModel.query(org_key("tca", ORG))) == []


def test_a_url_with_credentials_is_refused_without_repeating_it(api, admin):
    document = with_items(
        "tca_repos",
        {"team": TEAM, "scm_url": "https://bot:hunter2@git.example.com/a/b", "scm_type": "git"},
    )
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 400 and "must not contain credentials" in body["error"]["message"]
    assert "hunter2" not in json.dumps(body)


def test_references_resolve_against_the_store_too(apply_workspace):
    apply_workspace(DOC)
    later = {
        "tca_schemes": [{"org": ORG, "name": "strict", "metric": {"min_ccn": 10}}],
        "tca_projects": [{"team": TEAM, "repo": URL + "/", "branch": "dev", "scheme": "metrics"}],
    }
    report = apply_workspace(later)
    assert report == {
        "tca_schemes": {"created": 1, "updated": 0, "unchanged": 0},
        "tca_projects": {"created": 1, "updated": 0, "unchanged": 0},
    }
    assert repo_of(TEAM, URL).project_count == 4


def test_export_round_trips_and_never_has_credentials(
    api, admin, apply_workspace, export_workspace
):
    apply_workspace(DOC)
    with count_calls() as calls:
        document, _ = export_workspace()
    assert calls["dynamodb.Scan"] == 0
    text = json.dumps(document)
    assert SECRET not in text and "scm_auth" not in text and "scm_password" not in text
    assert "bot" not in text  # not even who the repository is fetched as
    repo_items = {(r["team"], r["scm_url"]): r for r in document["tca_repos"]}
    assert repo_items[TEAM, URL] == {
        "team": TEAM,
        "scm_url": URL,
        "scm_type": "git",
        "name": "acme/api",
        "ssh_url": None,
        "created_from": "api",
        "labels": ["core"],
    }
    assert repo_items[OTHER, WEB]["name"] == "acme/web"  # its default, from the URL
    for name in ("tca_schemes", "tca_projects"):
        expected = [exported(name, item) for item in DOC[name]]
        assert sorted(document[name], key=json.dumps) == sorted(expected, key=json.dumps), name
    report = apply_workspace(document)
    assert all(t["created"] == t["updated"] == 0 for t in report.values()), report
    assert repos.credentials(repo_of(TEAM, URL)).password == SECRET
    for limit in (1, 2, 3, 5):
        whole, pages = export_workspace(limit)
        assert whole == document, limit
        assert all(page_rows(page) <= limit for page in pages), limit


def exported(name: str, item: dict) -> dict:
    """What the export of a section holds for an item: every field, defaults too, and only
    the owner fields a scheme has."""
    data = workspace.SECTIONS[name].item.model_validate(item).model_dump()
    owners = ("org", "team", "repo") if name == "tca_schemes" else ()
    return {k: v for k, v in data.items() if not (k in owners and v is None)}


def test_export_onto_an_empty_store_makes_the_same_data_without_credentials(
    aws, api, apply_workspace, export_workspace
):
    apply_workspace(DOC)
    document, _ = export_workspace(4)
    aws.truncate()
    status, body = api.call("PUT", "/admin/v1/workspace", document, make_admin())
    assert status == 200, body
    assert body["applied"]["tca_projects"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert tca_items(export_workspace(3)[0]) == tca_items(document)
    assert repos.credentials(repo_of(TEAM, URL)) is None


def test_data_the_face_made_exports_and_applies_back_unchanged(apply_workspace, export_workspace):
    apply_workspace({"namespaces": DOC["namespaces"], "tca_schemes": DOC["tca_schemes"][:1]})
    owner = Owner("tca", TEAM)
    auth = {"scm_auth": {"scm_account": {"scm_username": "u", "scm_password": "p"}}}
    made = repos.create(owner, RepoIn(scm_url=URL, scm_type="git", **auth), "dana")
    (template,) = SchemeModel.query(org_key("tca", ORG))
    body = ProjectIn(branch="master", global_scheme_id=template.scheme_id, custom_scheme_name="c")
    _, copied = projects.create(owner, made, body, "dana", live=False)
    schemes.update(copied.owner, copied.scheme_id, BasicConfIn(name="c", languages=None))
    schemes.update(copied.owner, copied.scheme_id, LintConfIn(enabled=None, build_cmd="b"))
    schemes.update(copied.owner, copied.scheme_id, MetricConfIn(dup_max_dup_times=None))
    document, _ = export_workspace()
    (exported,) = [s for s in document["tca_schemes"] if s.get("repo") == URL]
    assert exported["languages"] == []  # the face's null reads back as the default
    assert exported["lint"] == {"enabled": True, "build_cmd": "b", "envs": None, "pre_cmd": None}
    assert exported["metric"]["min_ccn"] == 15  # copied from the template
    report = apply_workspace(document)
    assert all(t["created"] == t["updated"] == 0 for t in report.values()), report


def test_schemes_the_face_copied_under_one_name_are_refused_not_guessed(
    api, admin, apply_workspace, export_workspace
):
    apply_workspace({"namespaces": DOC["namespaces"], "tca_schemes": DOC["tca_schemes"][:1]})
    owner = Owner("tca", TEAM)
    made = repos.create(owner, RepoIn(scm_url=URL, scm_type="git"), "dana")
    (template,) = SchemeModel.query(org_key("tca", ORG))
    for branch in ("master", "dev"):  # each copies the template, named as it is
        body = ProjectIn(branch=branch, global_scheme_id=template.scheme_id)
        projects.create(owner, made, body, "dana", live=False)
    document, _ = export_workspace()
    assert [s["name"] for s in document["tca_schemes"] if "repo" in s] == ["default", "default"]
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 400, body
    assert "several schemes are named default" in body["error"]["message"]


def test_an_export_cursor_outside_its_records_is_refused(api, admin, apply_workspace):
    apply_workspace(DOC)
    for position in (
        {"s": "tca_repos", "at": {"o": None, "i": {"r": "1"}}},
        {"s": "tca_schemes", "at": {"o": None, "i": {"r": 1, "x": 2}}},
        {"s": "tca_projects", "at": {"o": None, "i": {"p": 3}}},
        {"s": "tca_projects", "at": {"o": None, "i": [1]}},
    ):
        query = f"limit=5&cursor={cursors.encode(position)}"
        status, body = api.call("GET", f"/admin/v1/workspace?{query}", headers=admin)
        assert status == 400 and body["error"]["message"] == "cursor is not valid", position


def test_the_items_take_what_the_face_takes_with_its_defaults():
    assert sections.MetricItem().model_dump() == METRIC_DEFAULTS
    metric, face = sections.MetricItem.model_json_schema(), MetricConfIn.model_json_schema()
    for name, checks in face["properties"].items():
        assert {k: v for k, v in metric["properties"][name].items() if k != "default"} == {
            k: v for k, v in checks.items() if k != "default"
        }, name
    assert set(sections.LintItem.model_fields) == set(LintConfIn.model_fields)
    basic = set(BasicConfIn.model_fields)
    assert basic <= set(sections.SchemeItem.model_fields)
    assert set(RepoIn.model_fields) | {"team"} == set(sections.RepoItem.model_fields)
