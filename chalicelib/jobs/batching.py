"""How a JOBX group (seed 002) cuts nodes into batches.

`list` groups: `;` or a newline ends a batch, `,` separates nodes in a batch, empty segments
are dropped. `percent` groups: `:`-separated elements, one per batch, the last one repeating
until no node is left; `N` is N nodes, `P%` is floor(total * P / 100) (at least 1) of the
*total*; the final batch takes what is left. Invalid strings (`%10`, `0`, `1::2`) are refused
when the group is saved, not at run time.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..core.errors import BadRequest

NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
_COUNT = re.compile(r"^[0-9]+$")
_PERCENT = re.compile(r"^[0-9]+(\.[0-9]+)?%$")
MAX_NODES = 2000


def parse_list(text: str) -> list[list[str]]:
    """`node1,node2;node3` -> [["node1", "node2"], ["node3"]]."""
    batches: list[list[str]] = []
    seen: set[str] = set()
    for segment in re.split(r"[;\n]", text or ""):
        batch = []
        for raw in segment.split(","):
            name = raw.strip()
            if not name:
                continue
            if not NODE_NAME.match(name):
                raise BadRequest(f"check format fail node: bad node name {name[:64]!r}")
            if name in seen:
                raise BadRequest(f"check format fail node: {name} listed twice")
            seen.add(name)
            batch.append(name)
        if batch:
            batches.append(batch)
    if not batches:
        raise BadRequest("check format fail node: no nodes")
    if len(seen) > MAX_NODES:
        raise BadRequest(f"check format fail node: more than {MAX_NODES} nodes")
    return batches


def parse_percent(text: str) -> list[tuple[str, Decimal]]:
    """`1:2:10%` -> [("n", 1), ("n", 2), ("%", 10)]; refuses anything the sizes can't use."""
    elements = (text or "").strip().split(":")
    parsed: list[tuple[str, Decimal]] = []
    for raw in elements:
        item = raw.strip()
        if _COUNT.match(item):
            value = Decimal(item)
            if value < 1:
                raise BadRequest(f"check format fail percent: {item!r} must be at least 1")
            parsed.append(("n", value))
        elif _PERCENT.match(item):
            try:
                value = Decimal(item[:-1])
            except InvalidOperation as exc:  # pragma: no cover - the regex already checked
                raise BadRequest(f"check format fail percent: {item!r}") from exc
            if value <= 0 or value > 100:
                raise BadRequest(f"check format fail percent: {item!r} must be in (0%, 100%]")
            parsed.append(("%", value))
        else:
            raise BadRequest(
                f"check format fail percent: {item!r} is neither a count (N) nor a percentage (P%)"
            )
    return parsed


def percent_sizes(text: str, total: int) -> list[int]:
    """Batch sizes for `total` nodes; the sizes always add up to `total`."""
    elements = parse_percent(text)
    sizes: list[int] = []
    left = total
    i = 0
    while left > 0:
        kind, value = elements[min(i, len(elements) - 1)]
        size = int(value) if kind == "n" else max(1, int(Decimal(total) * value / 100))
        size = min(size, left)
        sizes.append(size)
        left -= size
        i += 1
    return sizes


def cut(nodes: list[str], sizes: list[int]) -> list[list[str]]:
    batches, start = [], 0
    for size in sizes:
        batches.append(nodes[start : start + size])
        start += size
    return batches


def validate_group(group_type: str, node: str, percent: str) -> None:
    """Raise BadRequest unless the group's string is usable."""
    if group_type == "list":
        parse_list(node)
    elif group_type == "percent":
        parse_percent(percent)
    else:
        raise BadRequest("check format fail group_type: must be list or percent")


def resolve(group_type: str, node: str, percent: str, inventory: list[str]) -> list[list[str]]:
    """The batches of a group; `inventory` is the project's nodes in stable order."""
    if group_type == "list":
        return parse_list(node)
    validate_group(group_type, node, percent)
    if not inventory:
        raise BadRequest("the project has no nodes in its inventory")
    return cut(inventory, percent_sizes(percent, len(inventory)))
