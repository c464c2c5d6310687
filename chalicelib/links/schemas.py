"""The successor's flat-link parameters, as pydantic models (the face parses into these)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Target = Annotated[str, Field(min_length=1, max_length=32)]
TargetId = Annotated[str, Field(min_length=1, max_length=600)]


class Params(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True, str_strip_whitespace=True)


class ItemPair(Params):
    target_a: Target
    a_id: TargetId
    target_b: Target
    b_id: TargetId


class Item(Params):
    target: Target
    id: TargetId
