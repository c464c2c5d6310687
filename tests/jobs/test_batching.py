"""Batching rules of JOBX groups: every example of the reference, remainders, bad strings."""

import pytest

from chalicelib.core.errors import BadRequest
from chalicelib.jobs import batching


def sizes(text, total):
    return batching.percent_sizes(text, total)


def test_list_groups_split_on_semicolon_newline_and_comma():
    assert batching.parse_list("node1,node2;node3") == [["node1", "node2"], ["node3"]]
    assert batching.parse_list("a,,b;;\n c ;") == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    ("text", "total", "expected"),
    [
        ("1:2", 10, [1, 2, 2, 2, 2, 1]),
        ("1:2:10%:5%", 100, [1, 2, 10] + [5] * 17 + [2]),
        ("10%", 25, [2] * 12 + [1]),
        ("10%", 1000, [100] * 10),
        ("33.3%", 100, [33, 33, 33, 1]),
        ("1%", 10, [1] * 10),  # floor(0.1) is 0: at least one node
        ("100%", 7, [7]),
        ("5", 3, [3]),  # the final batch takes what is left
    ],
)
def test_percent_sizes_follow_the_reference(text, total, expected):
    assert sizes(text, total) == expected
    assert sum(sizes(text, total)) == total


def test_percent_uses_the_total_not_the_remainder():
    # 50% of 10 is 5 every time, not 5 then 2 (half of the rest)
    assert sizes("1:50%", 10) == [1, 5, 4]


def test_resolve_cuts_the_inventory_in_order():
    nodes = [f"n{i}" for i in range(5)]
    assert batching.resolve("percent", "", "1:2", nodes) == [["n0"], ["n1", "n2"], ["n3", "n4"]]


@pytest.mark.parametrize(
    "text", ["%10", "0", "1:0", "0%", "1::2", "", "abc", "1:2:%10:5%", "101%", "-1", "1.5"]
)
def test_invalid_percent_strings_are_refused(text):
    with pytest.raises(BadRequest, match="check format fail percent"):
        batching.validate_group("percent", "", text)


@pytest.mark.parametrize("text", ["", ";;", "a,b;a", "bad name;x", "ok,$(rm -rf)"])
def test_invalid_lists_are_refused(text):
    with pytest.raises(BadRequest, match="check format fail node"):
        batching.validate_group("list", text, "")


def test_unknown_group_type_is_refused():
    with pytest.raises(BadRequest, match="group_type"):
        batching.validate_group("random", "a", "")
