"""YAML loading that keeps the line of every value, so errors can name file, line and field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ConfigError


@dataclass(frozen=True)
class YamlNode:
    """A YAML value with the (1-based) line it starts on.

    `value` is a plain scalar (str, int, float, bool, None, date), a list of YamlNode, or a
    dict of str to YamlNode; `key_lines` gives the line of each key of a mapping.
    """

    value: object
    line: int
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def plain(self) -> object:
        """The value with every location stripped."""
        if isinstance(self.value, dict):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, list):
            return [child.plain() for child in self.value]
        return self.value


def load_located_yaml(path: Path, display_name: str | None = None) -> YamlNode:
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(name, None, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, None, "", f"cannot read: {exc}") from None
    return parse_located_yaml(text, name)


def parse_located_yaml(text: str, name: str) -> YamlNode:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(name, 1, "", "the file is empty")
        return _convert(loader, root, name, "")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(name, line, "", f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, None, "", f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, name: str, path: str) -> YamlNode:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        values: dict[str, YamlNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ConfigError(name, key_line, path or "(top level)", f"key {key!r} is not text")
            child_path = f"{path}.{key}" if path else key
            if key in values:
                raise ConfigError(name, key_line, child_path, "duplicate key")
            values[key] = _convert(loader, value_node, name, child_path)
            key_lines[key] = key_line
        return YamlNode(values, line, key_lines)
    if isinstance(node, yaml.SequenceNode):
        return YamlNode(
            [_convert(loader, child, name, f"{path}[{i}]") for i, child in enumerate(node.value)],
            line,
        )
    return YamlNode(loader.construct_object(node, deep=True), line)
