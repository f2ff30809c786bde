"""Compiled JMESPath expressions give exactly what jmespath's interpreter gives."""

from __future__ import annotations

from typing import Any

import jmespath
import jmespath.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st
from jmespath.parser import ParsedResult

from scanner.catalog import Expression, compile_expression
from scanner.records import read_paths
from tests.catalog.test_meta import RAW, expressions
from tests.samples import samples_dir


def interpreted(parsed: ParsedResult, data: Any) -> Any:
    """jmespath's own result, with a function given values it does not take yielding null (as
    compiled expressions do: a record without the field must not stop a scan)."""
    try:
        return parsed.search(data)
    except jmespath.exceptions.JMESPathTypeError:
        return None


def search(text: str, data: Any) -> Any:
    return interpreted(jmespath.compile(text), data)


#: Every expression the shipped catalog uses.
CATALOG_TEXTS = sorted(
    {text for raw in RAW.values() for rule in raw["rules"] for text in expressions(rule)}
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


#: Each text compiled once, both ways.
COMPILED = [
    (text, compile_expression(text), jmespath.compile(text)) for text in EDGE_TEXTS + CATALOG_TEXTS
]


@settings(max_examples=400, deadline=None)
@given(data=JSON)
def test_compiled_equals_interpreted_on_any_json(data: Any) -> None:
    for text, expression, parsed in COMPILED:
        assert expression(data) == interpreted(parsed, data), text


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
        assert compile_expression(text)(MIXED) == search(text, MIXED), text


def test_compiled_equals_interpreted_on_every_real_record() -> None:
    """Every expression of the rules of a record's event source, on that record (and, for item
    rules, on each item), compiled and interpreted alike."""
    by_source: dict[str, list[tuple[str, Expression, Any]]] = {}
    for raw in RAW.values():
        for rule in raw["rules"]:
            items = compile_expression(rule["items"]) if rule.get("items") else None
            by_source.setdefault(raw["event_source"], []).extend(
                (text, compile_expression(text), (items, jmespath.compile(text)))
                for text in expressions(rule)
            )
    checked = 0
    for record in read_paths([samples_dir()]):
        for text, expression, (items, parsed) in by_source.get(record.event_source, ()):
            values: list[Any] = [record.body]
            if items is not None:  # item rules read each element of their `items` list
                found = items(record.body)
                values += found if isinstance(found, list) else [found]
            for value in values:
                assert expression(value) == interpreted(parsed, value), (text, record.event_id)
                checked += 1
    assert checked > 50_000


def test_other_node_types_are_left_to_the_interpreter() -> None:
    data = {"a": [{"b": 1}, {"b": 3}], "s": "text"}
    for text in ("length(a)", "a[0:1]", "a[?b > `2`].b", "{x: s}", "[s, s]", "!s", "a[*].b"):
        assert compile_expression(text)(data) == search(text, data), text


def test_a_function_given_a_missing_field_yields_null() -> None:
    join = compile_expression("join('/', [a, b])")
    assert join({"a": "x", "b": "y"}) == "x/y"
    assert join({"a": "x"}) is None
    assert compile_expression("contains(a, 'x')")({}) is None
