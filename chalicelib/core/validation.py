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
    """The model, or BadRequest; its `problems` keep pydantic's errors so a face can word
    them as its original does."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        error = BadRequest(describe_validation(exc))
        error.problems = problems
        raise error from exc
