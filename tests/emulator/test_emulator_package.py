"""The emulator's package rules, read from the modules' syntax trees: it takes only `records` and
`errors` from the scanner, its imports run in no circle, no module passes 400 lines, and the
scanner reaches it only through its public face (`emulator/__init__.py`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import emulator
import scanner

EMULATOR = Path(emulator.__file__).parent
SCANNER = Path(scanner.__file__).parent
FROM_SCANNER = {"scanner.records", "scanner.errors"}
MAX_LINES = 400


@dataclass(frozen=True, slots=True)
class Source:
    """One module's text, and whether it is a package's `__init__`."""

    text: str
    package: bool = False


@dataclass(frozen=True, slots=True)
class Import:
    """What one import statement loads: a module, and the names taken from it (if not modules)."""

    module: str
    names: tuple[str, ...]
    line: int


def _sources(root: Path) -> dict[str, Source]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = Source(path.read_text(), package)
    return found


def imports(name: str, source: Source, known: Mapping[str, object]) -> Iterator[Import]:
    """Every import of a module at any depth (functions, `if TYPE_CHECKING:` blocks included);
    `from package import module` counts as an import of the module."""
    parts = name.split(".") if source.package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(source.text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                module = f"{base}.{alias.name}"
                if module in known:
                    yield Import(module, (), node.lineno)
                else:
                    yield Import(base, (alias.name,), node.lineno)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def emulator_problems(sources: Mapping[str, Source], known: Mapping[str, object]) -> list[str]:
    """What the emulator's modules import that they should not: the scanner beyond records and
    errors, or the emulator's own face from inside it."""
    problems = []
    for name, source in sources.items():
        for found in imports(name, source, known):
            if _inside(found.module, "scanner") and found.module not in FROM_SCANNER:
                problems.append(f"{name}:{found.line} imports {found.module}")
            if found.module == "emulator" and name != "emulator":
                problems.append(f"{name}:{found.line} imports the emulator's face from inside")
    return problems


def circle(sources: Mapping[str, Source], known: Mapping[str, object]) -> list[str] | None:
    """An import circle among the emulator's modules (its modules in order), or None."""
    graph = {
        name: sorted(
            {i.module for i in imports(name, source, known) if i.module in sources} - {name}
        )
        for name, source in sources.items()
    }
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        path.append(name)
        for target in graph[name]:
            if target in path:
                return [*path[path.index(target) :], target]
            if target not in done and (found := visit(target)):
                return found
        path.pop()
        done.add(name)
        return None

    for name in graph:
        if name not in done and (found := visit(name)):
            return found
    return None


def face_problems(sources: Mapping[str, Source], known: Mapping[str, object]) -> list[str]:
    """Imports of the emulator by scanner modules that go past its public face."""
    problems = []
    for name, source in sources.items():
        for found in imports(name, source, known):
            if not _inside(found.module, "emulator"):
                continue
            if found.module != "emulator" or not set(found.names) <= set(emulator.__all__):
                what = ", ".join(found.names) or "the module"
                problems.append(f"{name}:{found.line} imports {what} from {found.module}")
    return problems


EMULATOR_SOURCES = _sources(EMULATOR)
SCANNER_SOURCES = _sources(SCANNER)
KNOWN = {**EMULATOR_SOURCES, **SCANNER_SOURCES}


def test_the_emulator_takes_only_records_and_errors_from_the_scanner() -> None:
    taken = {
        found.module
        for name, source in EMULATOR_SOURCES.items()
        for found in imports(name, source, KNOWN)
        if _inside(found.module, "scanner")
    }
    assert taken == FROM_SCANNER
    assert emulator_problems(EMULATOR_SOURCES, KNOWN) == []


def test_the_emulators_imports_run_in_no_circle() -> None:
    assert {"emulator.api.runtime", "emulator.api.server", "emulator.api.admin"} <= set(
        EMULATOR_SOURCES
    )
    assert circle(EMULATOR_SOURCES, KNOWN) is None


def test_no_emulator_module_passes_400_lines() -> None:
    lengths = {name: len(source.text.splitlines()) for name, source in EMULATOR_SOURCES.items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_the_scanner_reaches_the_emulator_only_through_its_face() -> None:
    importers = {
        name
        for name, source in SCANNER_SOURCES.items()
        for found in imports(name, source, KNOWN)
        if _inside(found.module, "emulator")
    }
    assert {"scanner.demo", "scanner.commands.emulate"} <= importers
    assert face_problems(SCANNER_SOURCES, KNOWN) == []
    assert not (SCANNER / "emulator").exists()


def test_the_face_exports_what_it_names() -> None:
    assert all(hasattr(emulator, name) for name in emulator.__all__)


def test_the_checks_catch_what_they_guard_against() -> None:
    known = {**KNOWN, "emulator.api.a": Source(""), "emulator.api.b": Source("")}
    deep = {
        "emulator.api.a": Source("from scanner.scan import Scan\n"),
        "emulator.api.b": Source(
            "from scanner import store, errors\nfrom emulator import Emulator\n"
        ),
    }
    assert emulator_problems(deep, known) == [
        "emulator.api.a:1 imports scanner.scan",
        "emulator.api.b:1 imports scanner.store",
        "emulator.api.b:2 imports the emulator's face from inside",
    ]
    looped = {
        "emulator.api.a": Source("def f() -> None:\n    from emulator.api import b\n"),
        "emulator.api.b": Source(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
        ),
    }
    assert circle(looped, known) == ["emulator.api.a", "emulator.api.b", "emulator.api.a"]
    assert (
        circle({"emulator.api.a": Source("from . import b\n"), "emulator.api.b": Source("")}, known)
        is None
    )
    users = {
        "scanner.demo": Source("from emulator import Emulator, generate\n"),
        "scanner.commands.emulate": Source(
            "from emulator.api.runtime import Emulator\nfrom emulator import FaultPlan\n"
            "import emulator.history.generator\n"
        ),
    }
    assert face_problems(users, known) == [
        "scanner.commands.emulate:1 imports Emulator from emulator.api.runtime",
        "scanner.commands.emulate:2 imports FaultPlan from emulator",
        "scanner.commands.emulate:3 imports the module from emulator.history.generator",
    ]
