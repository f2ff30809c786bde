"""JMESPath expressions compiled to plain Python closures, with jmespath's own semantics.

jmespath's `TreeInterpreter` walks the parsed tree with a method dispatch per node and per value;
the catalog's rules run on every watched record, so each expression is compiled once into nested
closures instead. The node types the catalog uses are compiled (fields, sub-expressions, indexes,
list and filter projections, flattens, pipes, `==`/`!=`, literals, `||`, `&&`, `@`); any other
expression (functions, slices, multi-selects, ordering comparisons) is left to the interpreter.
Each closure mirrors the interpreter's `visit_*` method of the same node, so both always agree;
the tests check it on every real sample record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.visitor import TreeInterpreter

#: A compiled JMESPath expression: record (or item) in, value out.
Expression = Callable[[Any], Any]

Node = Mapping[str, Any]  # a node of jmespath's parsed tree: type, value, children


class _NotCompiled(Exception):
    """A node type left to jmespath's interpreter."""


def _is_false(value: Any) -> bool:
    """JMESPath falsehood, as the interpreter tests it: null, false, '', [] and {}."""
    return value in ("", [], {}) or value is None or value is False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equals(left: Any, right: Any) -> bool:
    """`==` as jmespath has it: 0 and 1 are never equal to false and true."""
    if _is_number(left) and left in (0, 1):
        return not isinstance(right, bool) and bool(left == right)
    if _is_number(right) and right in (0, 1):
        return not isinstance(left, bool) and bool(left == right)
    return bool(left == right)


def _field(name: str) -> Expression:
    return lambda value: value.get(name) if isinstance(value, dict) else None


def _path(names: tuple[str, ...]) -> Expression:
    """`a.b.c`, the commonest expression, in one loop instead of a closure per field."""

    def run(value: Any) -> Any:
        for name in names:
            if not isinstance(value, dict):
                return None
            value = value.get(name)
        return value

    return run


def _chain(steps: list[Expression]) -> Expression:
    """Apply each step to the previous one's result (sub-expressions, indexes and pipes)."""
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return run


def _index(position: int) -> Expression:
    def run(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return run


def _projection(left: Expression, right: Expression) -> Expression:
    def run(value: Any) -> Any:
        base = left(value)
        if not isinstance(base, list):
            return None
        return [found for element in base if (found := right(element)) is not None]

    return run


def _filter_projection(left: Expression, right: Expression, condition: Expression) -> Expression:
    def run(value: Any) -> Any:
        base = left(value)
        if not isinstance(base, list):
            return None
        return [
            found
            for element in base
            if not _is_false(condition(element)) and (found := right(element)) is not None
        ]

    return run


def _flatten(inner: Expression) -> Expression:
    def run(value: Any) -> Any:
        base = inner(value)
        if not isinstance(base, list):
            return None
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return run


def _comparator(operator: str, left: Expression, right: Expression) -> Expression:
    if operator == "eq":
        return lambda value: _equals(left(value), right(value))
    if operator == "ne":
        return lambda value: not _equals(left(value), right(value))
    raise _NotCompiled(operator)  # ordering comparisons have number-only rules of their own


def _or(left: Expression, right: Expression) -> Expression:
    def run(value: Any) -> Any:
        matched = left(value)
        return right(value) if _is_false(matched) else matched

    return run


def _and(left: Expression, right: Expression) -> Expression:
    def run(value: Any) -> Any:
        matched = left(value)
        return matched if _is_false(matched) else right(value)

    return run


def _literal(constant: Any) -> Expression:
    return lambda value: constant


def _identity(value: Any) -> Any:
    return value


#: Node type -> its closure, from the node and its children's closures.
_BUILDERS: dict[str, Callable[[Node, list[Expression]], Expression]] = {
    "field": lambda node, children: _field(node["value"]),
    "subexpression": lambda node, children: _chain(children),
    "index_expression": lambda node, children: _chain(children),
    "pipe": lambda node, children: _chain(children),
    "index": lambda node, children: _index(node["value"]),
    "projection": lambda node, children: _projection(*children),
    "filter_projection": lambda node, children: _filter_projection(*children),
    "flatten": lambda node, children: _flatten(*children),
    "comparator": lambda node, children: _comparator(node["value"], *children),
    "or_expression": lambda node, children: _or(*children),
    "and_expression": lambda node, children: _and(*children),
    "literal": lambda node, children: _literal(node["value"]),
    "current": lambda node, children: _identity,
    "identity": lambda node, children: _identity,
}


def _compile(node: Node) -> Expression:
    kind = node["type"]
    if kind == "subexpression" and all(child["type"] == "field" for child in node["children"]):
        return _path(tuple(child["value"] for child in node["children"]))
    build = _BUILDERS.get(kind)
    if build is None:
        raise _NotCompiled(kind)
    return build(node, [_compile(child) for child in node.get("children", ())])


def compile_expression(text: str) -> Expression:
    """Compile a JMESPath expression to a closure (or, for node types not compiled here, to
    jmespath's interpreter over its parsed tree).

    Raises jmespath's ParseError (or LexerError) when the expression is not valid. A function
    given values it does not take (`join` over a null, from a record without that field) yields
    null, as a missing field does, instead of raising.
    """
    tree = jmespath.compile(text).parsed
    try:
        return _compile(tree)
    except _NotCompiled:
        interpreter = TreeInterpreter()

        def interpret(data: Any) -> Any:
            try:
                return interpreter.visit(tree, data)
            except jmespath.exceptions.JMESPathError:
                return None

        return interpret
