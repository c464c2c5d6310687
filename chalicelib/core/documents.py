"""Workspace documents as data, with nothing but the standard library, so that a client
(the taskhub CLI) joins exported pages the same way the server's own export does."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["merge"]


def merge(document: dict[str, list[dict[str, Any]]], page: dict[str, list[dict[str, Any]]]):
    """Add an export page to a document; an item whose members went on into this page
    becomes one item again."""
    for name, items in copy.deepcopy(page).items():
        have = document.setdefault(name, [])
        if have and items and _same_but_members(have[-1], items[0]):
            have[-1]["members"].update(items[0]["members"])
            items = items[1:]
        have.extend(items)


def _same_but_members(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if "members" not in a or "members" not in b:
        return False
    return {k: v for k, v in a.items() if k != "members"} == {
        k: v for k, v in b.items() if k != "members"
    }
