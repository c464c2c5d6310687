"""Every route is in its face's OpenAPI document, and every non-public route refuses
requests without valid credentials with 401 in the face's own envelope. admin.yaml documents
every workspace section with the checks its model makes."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from app import app as chalice_app
from chalicelib.core import workspace
from chalicelib.core.face import FACES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "openapi"
PUBLIC = {("/health", "GET")}


def face_of(path: str):
    matches = [f for f in FACES if path.startswith(f.prefix)]
    return max(matches, key=lambda f: len(f.prefix)) if matches else None


def all_routes():
    for path, entries in sorted(chalice_app.routes.items()):
        for method in sorted(entries):
            yield path, method


@functools.cache
def spec(name: str) -> dict:
    """A face's document, read once per process (the tests only read it)."""
    return yaml.safe_load((DOCS / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", sorted({f.name for f in FACES}))
def test_openapi_documents_are_valid(name):
    validate(spec(name))


@pytest.mark.parametrize(("path", "method"), list(all_routes()))
def test_route_is_documented(path, method):
    face = face_of(path)
    document = spec(face.name if face else "admin")
    assert path in document["paths"], f"{path} missing from {face.name if face else 'admin'}.yaml"
    assert method.lower() in document["paths"][path], f"{method} {path} undocumented"


def test_documents_have_no_routes_the_app_lacks():
    routes = {(p, m.lower()) for p, m in all_routes()}
    for face in FACES:
        for path, ops in spec(face.name)["paths"].items():
            for method in ops:
                if method in {"get", "put", "post", "delete", "patch"}:
                    assert (path, method) in routes, f"{face.name}.yaml: {method} {path} not served"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x0000001", path)


@pytest.mark.parametrize(("path", "method"), list(all_routes()))
def test_route_requires_credentials(api, path, method):
    face = face_of(path)
    public = (path, method) in PUBLIC or (face and (path, method) in face.public_routes)
    if public:
        pytest.skip("public route")
    # each face says how it refuses (JSON faces: 401 in their envelope; HTML pages may send
    # the browser to their login page instead, with no envelope to check)
    expected, keys = face.refusal(path, method) if face else (401, ("error",))
    for headers in ({}, {"Authorization": "Bearer not-a-real-token-000000"}):
        status, body = api.call(method, concrete(path), {}, headers)
        assert status == expected, (method, path, status, body)
        if keys:
            assert isinstance(body, dict) and set(keys) <= set(body), body


BAD_BODIES = (
    "{not json",
    "[1, 2]",
    '"text"',
    '{"tasks": "x", "name": 5, "ids": 7}',
    "\u00ff" * 3,
    "[" * 10000,  # nested deeper than the JSON parser goes
    '{"a":' * 10000 + "// a comment",
)


@pytest.mark.parametrize(("path", "method"), list(all_routes()))
def test_route_refuses_a_bad_credential_beside_a_good_one(api, admin, path, method):
    face = face_of(path)
    if (path, method) in PUBLIC or (face and (path, method) in face.public_routes):
        pytest.skip("public route")
    mixed = {**admin, "Ones-User-Id": "admin000", "Ones-Auth-Token": "garbage-token-0000000"}
    status, body = api.call(method, concrete(path), {}, mixed)
    expected = face.refusal(path, method)[0] if face else 401
    assert status == expected, (method, path, status, body)


BAD_QUERY = "?limit=abc&page_size=-1&cursor=%%%garbage&count=zz&ids=,,&time_start=yesterday"


@pytest.mark.parametrize(("path", "method"), list(all_routes()))
def test_bad_input_never_gets_a_500(api, admin, path, method):
    """With full rights, malformed bodies and queries get a client error in the face's own
    envelope (or are harmlessly ignored), never a 500."""
    face = face_of(path)
    keys = face.error_keys if face else ("error",)
    url = concrete(path)
    attempts = [(url + BAD_QUERY, None)] + [(url, raw) for raw in BAD_BODIES]
    for target, raw in attempts:
        status, body = api.call(method, target, headers=admin, raw=raw)
        assert status < 500, (method, target, raw, status, body)
        if status >= 400 and isinstance(body, dict):
            assert set(keys) <= set(body), body


CONSTRAINTS = ("pattern", "minLength", "maxLength", "minimum", "maximum", "enum", "maxProperties")


def _constraints(schema: dict) -> dict:
    """A pydantic property's checks, whatever `X | None` wraps them in."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") != "null":
            return {k: v for k, v in option.items() if k in CONSTRAINTS}
    return {}


def _model_ref(schema: dict) -> str | None:
    """The model an object property is (`X` or `X | None`), by its $defs name."""
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            return option["$ref"].rsplit("/", 1)[-1]
    return None


def _documented(schema: dict, schemas: dict) -> dict:
    """A documented object, inline or by reference (`$ref`, or `allOf` of one, nullable)."""
    ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
    return schemas[ref.rsplit("/", 1)[-1]] if ref else schema


def _same_checks(where: str, documented: dict, model: dict, defs: dict, schemas: dict) -> None:
    assert set(documented["properties"]) == set(model["properties"]), where
    assert set(documented.get("required", [])) == set(model.get("required", [])), where
    assert documented.get("additionalProperties") is False, where
    for field, checks in model["properties"].items():
        mine = documented["properties"][field]
        for key, value in _constraints(checks).items():
            assert mine.get(key) == value, (where, field, key, mine.get(key), value)
        nested = checks.get("items", {}).get("$ref")
        if nested:  # a list of objects: the fields options have
            inner = _documented(mine["items"], schemas)
            _same_checks(f"{where}.{field}", inner, defs[nested.rsplit("/", 1)[-1]], defs, schemas)
        nested = _model_ref(checks)
        if nested:  # an object: its own fields
            inner = _documented(mine, schemas)
            _same_checks(f"{where}.{field}", inner, defs[nested], defs, schemas)


def test_admin_yaml_documents_every_workspace_section_as_its_model_checks_it():
    schemas = spec("admin")["components"]["schemas"]
    sections = schemas["Workspace"]["properties"]
    assert set(sections) == set(workspace.SECTIONS)
    for name, section in workspace.SECTIONS.items():
        documented = schemas[sections[name]["items"]["$ref"].rsplit("/", 1)[-1]]
        model = section.item.model_json_schema()
        _same_checks(name, documented, model, model.get("$defs", {}), schemas)
