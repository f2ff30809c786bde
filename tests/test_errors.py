"""The errors tree in `scanner/errors.py` is true: every class it names exists where it says, with
the base it shows, and every exception class of the scanner is in it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass

import scanner
from scanner import errors

#: `    ├── StateError            (store.schema) ...`: an indented name, its branch and module.
_ENTRY = re.compile(r"^    (?P<branch>[├└]── )?(?P<name>_?[A-Z]\w*)\s+(?:\((?P<module>[\w.]+)\))?")


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One exception class: where it lives, and the base the tree shows (None: no base shown)."""

    module: str
    name: str
    base: str | None = None


def tree(docstring: str) -> list[Entry]:
    """The classes a docstring's tree names; one without a module lives in scanner.errors, a
    branch (`├──`, `└──`) hangs under the last name without one."""
    entries: list[Entry] = []
    root: str | None = None
    for line in docstring.splitlines():
        found = _ENTRY.match(line)
        if found is None:
            continue
        module = "scanner." + (found["module"] or "errors")
        base = root if found["branch"] else None
        if not found["branch"]:
            root = found["name"]
        entries.append(Entry(module, found["name"], base))
    return entries


def exception_classes() -> Iterator[Entry]:
    """Every exception class defined in a module of the scanner package."""
    for info in pkgutil.walk_packages(scanner.__path__, "scanner."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
            ):
                yield Entry(info.name, name)


def problems(entries: list[Entry], classes: list[Entry]) -> list[str]:
    """What the tree gets wrong against the code: missing, misplaced, or on another base."""
    found: list[str] = []
    defined = {(c.module, c.name) for c in classes}
    named = {(e.module, e.name) for e in entries}
    found.extend(f"{m}.{n} is not in the tree" for m, n in sorted(defined - named))
    found.extend(f"the tree names {m}.{n}, not defined there" for m, n in sorted(named - defined))
    for entry in entries:
        if entry.base is None or (entry.module, entry.name) not in defined:
            continue
        cls = getattr(importlib.import_module(entry.module), entry.name)
        if entry.base not in [b.__name__ for b in cls.__mro__[1:]]:
            found.append(f"{entry.module}.{entry.name} is no {entry.base}")
    return found


def test_the_errors_tree_names_every_exception_class_where_it_lives() -> None:
    assert errors.__doc__ is not None
    entries = tree(errors.__doc__)
    assert Entry("scanner.errors", "LeftoversError") in entries
    assert problems(entries, sorted(exception_classes())) == []


def test_a_wrong_tree_is_caught() -> None:
    doc = """
    LeftoversError            the base
    ├── SettingsError         a config
    └── Vanished              (records) gone

    RecordFileError           (records) one file
    """
    classes = [
        Entry("scanner.errors", "LeftoversError"),
        Entry("scanner.errors", "SettingsError"),
        Entry("scanner.records", "RecordFileError"),
        Entry("scanner.web", "BadParameter"),
    ]
    assert tree(doc) == [
        Entry("scanner.errors", "LeftoversError"),
        Entry("scanner.errors", "SettingsError", "LeftoversError"),
        Entry("scanner.records", "Vanished", "LeftoversError"),
        Entry("scanner.records", "RecordFileError"),
    ]
    assert problems(tree(doc), classes) == [
        "scanner.web.BadParameter is not in the tree",
        "the tree names scanner.records.Vanished, not defined there",
    ]
    misplaced = """
    LeftoversError            the base
    └── RecordFileError       (records) not one
    """
    assert problems(tree(misplaced), classes[:1] + classes[2:3]) == [
        "scanner.records.RecordFileError is no LeftoversError"
    ]
