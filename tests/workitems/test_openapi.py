"""docs/openapi/ones.yaml says what the server enforces: every bound a request model checks is
in the document with the same value, and every route documents the errors it can answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chalicelib.workitems import validation as v

DOC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "openapi" / "ones.yaml").read_text()
)
PREFIX = "/project/api/project"
TEAM, TASK = "/team/{teamUUID}", "/team/{teamUUID}/task/{taskUUID}"
BODIES = {
    ("/auth/login", "post"): v.Login,
    (f"{TEAM}/tasks/add2", "post"): v.Batch,
    (f"{TEAM}/tasks/update2", "post"): v.Batch,
    (f"{TEAM}/tasks/update3", "post"): v.Batch,
    (f"{TEAM}/tasks/info", "post"): v.Ids,
    (f"{TASK}/copy", "post"): v.Copy,
    (f"{TASK}/new_transit", "post"): v.Transit,
    (f"{TASK}/related_tasks", "post"): v.Relate,
    (f"{TASK}/delete/related_tasks", "post"): v.Unrelate,
}
QUERIES = {
    (f"{TEAM}/tasks", "get"): v.ListQuery,
    (f"{TASK}/activities", "get"): v.PageQuery,
}
COMPONENTS = {"TaskCreate": v.TaskCreate, "TaskUpdate": v.TaskUpdate}
BOUNDS = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "enum")


def bounds(schema: dict) -> dict:
    """The bounds a schema states (of its non-null branch), its items' enum included."""
    found = {}
    for branch in schema.get("anyOf", [schema]):
        found.update({k: branch[k] for k in BOUNDS if k in branch})
        if "enum" in branch.get("items", {}):
            found["items.enum"] = branch["items"]["enum"]
    return found


def resolve(node: dict) -> dict:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = DOC["components"][section][name]
    return node


def operation(path: str, method: str) -> dict:
    return DOC["paths"][PREFIX + path][method]


def checked(model) -> dict[str, dict]:
    return {name: bounds(prop) for name, prop in model.model_json_schema()["properties"].items()}


def assert_documented(model, documented: dict[str, dict], where: str) -> None:
    for name, expected in checked(model).items():
        assert name in documented, f"{where}: {name} undocumented"
        stated = bounds(resolve(documented[name]))
        wrong = {
            k: (stated.get(k), value) for k, value in expected.items() if stated.get(k) != value
        }
        assert not wrong, f"{where}.{name}: documented vs enforced {wrong}"


@pytest.mark.parametrize(("path", "method"), list(BODIES))
def test_request_bodies_state_the_enforced_bounds(path, method):
    body = operation(path, method)["requestBody"]["content"]["application/json"]["schema"]
    assert_documented(BODIES[path, method], resolve(body)["properties"], f"{method} {path}")


@pytest.mark.parametrize(("path", "method"), list(QUERIES))
def test_query_parameters_state_the_enforced_bounds(path, method):
    params = [resolve(p) for p in operation(path, method)["parameters"]]
    documented = {p["name"]: p["schema"] for p in params if p["in"] == "query"}
    assert_documented(QUERIES[path, method], documented, f"{method} {path}")


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_task_shapes_state_the_enforced_bounds(name):
    assert_documented(COMPONENTS[name], DOC["components"]["schemas"][name]["properties"], name)


def test_every_route_documents_the_errors_it_can_answer():
    """400: every body is size-checked first; 401: the credential rules; 403 and 404: a team
    the caller is not in, and one that does not exist for an admin."""
    for path, operations in DOC["paths"].items():
        for method, op in operations.items():
            codes = set(op["responses"])
            assert "400" in codes, (method, path)
            if op.get("security") != []:
                assert "401" in codes, (method, path)
            if "{teamUUID}" in path:
                assert {"403", "404"} <= codes, (method, path)
