"""A catalog data file (types, price book, Price List mapping) read as YAML, or one clear line."""

from __future__ import annotations

from pathlib import Path

import yaml

from scanner.errors import CatalogError


def read_yaml(path: Path) -> object:
    """The file's parsed YAML; an unreadable file or invalid YAML raises CatalogError naming the
    file (and the line)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogError(f"{path}: cannot read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise CatalogError(f"{path}: not valid YAML{where}: {problem}") from None
