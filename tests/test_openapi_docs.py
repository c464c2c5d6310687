"""The OpenAPI documents read well: every operation has tags, a unique operationId and a
summary; every request body has an example its own schema accepts; no JOBX success answer is
documented as a bare `data: {}`."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

DOCS = Path(__file__).resolve().parents[1] / "docs" / "openapi"
NAMES = sorted(p.stem for p in DOCS.glob("*.yaml"))
METHODS = ("get", "put", "post", "delete", "patch")
# camelCase; CodeArts keeps Huawei's own operation names (ShowTaskListByProjectId, ...)
OPERATION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@functools.cache
def spec(name: str) -> dict:
    return yaml.safe_load((DOCS / f"{name}.yaml").read_text())


def operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def deref(document: dict, node: dict) -> dict:
    """A `$ref` (to `#/components/...`) followed until it names no other."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validator(document: dict, schema: dict, cls=OAS30ReadValidator):
    """A validator of `schema` whose `#/components/...` references resolve in `document`."""
    return cls({**schema, "components": document.get("components", {})})


@pytest.mark.parametrize("name", NAMES)
def test_every_operation_has_tags_an_operation_id_and_a_summary(name):
    document = spec(name)
    declared = {t["name"] for t in document.get("tags", [])}
    seen: dict[str, str] = {}
    for path, method, op in operations(document):
        where = f"{name}.yaml {method} {path}"
        assert op.get("tags"), where
        assert set(op["tags"]) <= declared, (where, op["tags"], declared)
        assert OPERATION_ID.match(op.get("operationId", "")), where
        assert op["operationId"] not in seen, (where, seen.get(op["operationId"]))
        seen[op["operationId"]] = where
        summary = op.get("summary", "")
        # English first (a seed's Chinese name may follow in brackets)
        assert 8 <= len(summary) <= 120 and summary[0].isascii(), (where, summary)
        assert summary[0].isupper(), (where, summary)


@pytest.mark.parametrize("name", NAMES)
def test_every_tag_is_used(name):
    document = spec(name)
    used = {t for _, _, op in operations(document) for t in op["tags"]}
    assert {t["name"] for t in document.get("tags", [])} == used


def request_bodies():
    for name in NAMES:
        document = spec(name)
        for path, method, op in operations(document):
            body = deref(document, op.get("requestBody", {}))
            for media, content in body.get("content", {}).items():
                yield pytest.param(name, content, id=f"{name}-{method}-{path}-{media}")


@pytest.mark.parametrize(("name", "content"), list(request_bodies()))
def test_every_request_body_has_an_example_its_schema_accepts(name, content):
    document = spec(name)
    assert "example" in content, "no example"
    validator(document, content["schema"], OAS30WriteValidator).validate(content["example"])


def _data_schemas(document: dict, schema: dict) -> list[dict]:
    """What the documented answer says of `data`, through references and allOf."""
    schema = deref(document, schema)
    found = []
    if "data" in schema.get("properties", {}):
        found.append(deref(document, schema["properties"]["data"]))
    for part in schema.get("allOf", []):
        found += _data_schemas(document, part)
    return found


def test_no_jobx_success_answer_is_a_bare_data():
    document = spec("jobx")
    bare = []
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for content in deref(document, response).get("content", {}).values():
                datas = _data_schemas(document, content["schema"])
                if datas and not any(d for d in datas):
                    bare.append(f"{method} {path}")
    assert bare == []


def example(name: str, path: str, method: str, media: str = "application/json"):
    document = spec(name)
    body = deref(document, document["paths"][path][method]["requestBody"])
    return body["content"][media]["example"]


def test_admin_ones_and_dtask_examples_are_bodies_their_faces_accept(api, admin, monkeypatch):
    """The workspace example makes a user who logs in with the login example, and whose
    token links and unlinks with DTask's examples (JOBX's: tests/jobs/test_documented_answers)."""
    monkeypatch.setenv("TASKHUB_JOBX_LOCAL", "on")  # its nodes run steps locally, as `make run`'s
    workspace = example("admin", "/admin/v1/workspace", "put")
    dtask = {"face": "dtask", "id": "default", "members": {"DU6krHBN": "member"}}
    workspace = {**workspace, "namespaces": [*workspace["namespaces"], dtask]}
    status, body = api.call("PUT", "/admin/v1/workspace", workspace, admin)
    assert status == 200, body
    status, body = api.call(
        "POST",
        "/project/api/project/auth/login",
        example("ones", "/project/api/project/auth/login", "post"),
    )
    assert status == 200 and body["user"]["uuid"] == "DU6krHBN", body
    assert body["teams"] == [{"uuid": "3pDzCwAe", "name": ""}]
    dana = {"Authorization": f"Bearer {workspace['users'][0]['token']}"}
    status, body = api.call("PUT", "/dtask/links", example("dtask", "/dtask/links", "put"), dana)
    assert status == 200, body
    status, body = api.call("GET", "/dtask/links?target=bugzilla&id=10", headers=dana)
    assert status == 200 and body["result"] == {"gerrit": ["12"]}, body
    status, body = api.call(
        "DELETE", "/dtask/links", example("dtask", "/dtask/links", "delete"), dana
    )
    assert status == 200, body
    status, body = api.call("GET", "/dtask/links?target=bugzilla&id=10", headers=dana)
    assert status == 200 and body["result"] == {}, body
