"""The house rules a newcomer relies on, checked: every module of the scanner and the emulator
opens with a docstring whose first line says what it is, and none is over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((*ROOT.glob("scanner/**/*.py"), *ROOT.glob("emulator/**/*.py")))
MAX_LINES = 400


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_says_what_it_is_and_stays_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, f"{path.relative_to(ROOT)} has no docstring"
    assert docstring.splitlines()[0].strip(), "the docstring's first line is empty"
    assert len(text.splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)} is over {MAX_LINES}"
