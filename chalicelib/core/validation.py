"""Untrusted input through pydantic: every problem is a BadRequest with one readable line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import BadRequest

M = TypeVar("M", bound=BaseModel)


def describe_validation(exc: ValidationError) -> str:
    """One readable line per problem: `tasks.0.summary: String should have at most 1024 ...`."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe_validation(exc)) from exc
