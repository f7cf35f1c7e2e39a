"""Reading an SLO file, for every form of it (thresholds, the document's targets,
objectives): the text, its YAML nodes, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.errors import ConfigError

__all__ = ["compose", "line_error", "read_slo_text"]


def line_error(source: str, node: yaml.Node, message: str) -> ConfigError:
    return ConfigError(f"{source}, line {node.start_mark.line + 1}: {message}")


def compose(text: str, source: str) -> yaml.Node | None:
    """The YAML node tree of ``text`` (None when empty); bad YAML names its line."""
    try:
        return yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{source}{where}: {problem}") from None


def read_slo_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read SLO file {path}: {error.strerror}") from None
