"""Compiled JMESPath expressions give exactly what jmespath's interpreter gives."""

from __future__ import annotations

from typing import Any

import jmespath
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.catalog import compile_expression
from scanner.records import read_paths
from tests.catalog.test_meta import RAW, expressions
from tests.samples import samples_dir

#: Every expression the shipped catalog uses.
CATALOG_TEXTS = sorted(
    {text for raw in RAW["types"].values() for rule in raw["rules"] for text in expressions(rule)}
)

#: The node types compiled here, in the corners where JMESPath differs from Python: truth of
#: '', [], {}, 0 and false; 0 and 1 never equal to false and true; projections of non-lists;
#: flattening mixed lists; indexes out of range or negative.
EDGE_TEXTS = [
    "a",
    "a.b",
    "a.b.c",
    "a[0]",
    "a[-1]",
    "a[5]",
    "a[].b",
    "a[].b[]",
    "a[][]",
    "a[*].b",
    "a[?b=='x'].c",
    "a[?b==`0`].c",
    "a[?b==`1`]",
    "a[?b==`true`]",
    "a[?b==`false`].key",
    "a[?b!=`1`].c",
    "a[?`0`==b].c",
    "a[?`false`==b].c",
    "a[?b==`0.0`].c",
    "a[?b].c",
    "a[?b == c]",
    "a[?key=='Name'].value | [0]",
    "a[].b[] | [?key=='Name'].value | [0]",
    "a || b",
    "a.b || a.c || b",
    "a && b",
    "(a.b || b) && a",
    "@",
    "a | b | c",
    "`7`",
    "'text'",
]

_KEYS = st.sampled_from(["a", "b", "c", "key", "value", "Name"])
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, 0.0, 1.0, -1]),
    st.sampled_from(["", "x", "Name", "0"]),
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(data=JSON)
def test_compiled_equals_interpreted_on_any_json(data: Any) -> None:
    for text in EDGE_TEXTS + CATALOG_TEXTS:
        assert compile_expression(text)(data) == jmespath.search(text, data), text


#: Values of `b` that each comparison tells apart (0, 1, false, true, 0.0, '', null, ...).
B_VALUES: list[object] = [0, 1, False, True, 0.0, 1.0, "", "x", None, [], {}]
#: Elements whose `b` is 0, 1, false, true, 0.0, '' and missing: each comparison tells them apart.
MIXED: dict[str, Any] = {
    "a": [{"b": value, "c": f"c{n}", "key": "Name", "value": n} for n, value in enumerate(B_VALUES)]
    + [{"c": "no b"}, [1, [2]], "s", 0],
    "b": "",
    "c": [],
}


def test_compiled_equals_interpreted_on_mixed_values() -> None:
    for text in EDGE_TEXTS:
        assert compile_expression(text)(MIXED) == jmespath.search(text, MIXED), text


def test_compiled_equals_interpreted_on_every_real_record() -> None:
    compiled = [(text, compile_expression(text)) for text in CATALOG_TEXTS]
    items = [
        compile_expression(rule["items"])
        for raw in RAW["types"].values()
        for rule in raw["rules"]
        if rule.get("items")
    ]
    checked = 0
    for record in read_paths([samples_dir()]):
        values: list[Any] = [record.body]
        for expression in items:  # item rules read each element of their `items` list
            found = expression(record.body)
            values += found if isinstance(found, list) else [found]
        for value in values:
            for text, expression in compiled:
                assert expression(value) == jmespath.search(text, value), (text, record.event_id)
                checked += 1
    assert checked > 50_000


def test_other_node_types_are_left_to_the_interpreter() -> None:
    data = {"a": [{"b": 1}, {"b": 3}], "s": "text"}
    for text in ("length(a)", "a[0:1]", "a[?b > `2`].b", "{x: s}", "[s, s]", "!s", "a[*].b"):
        assert compile_expression(text)(data) == jmespath.search(text, data), text
