"""YAML loading that keeps the line of every value, so errors can name file, line and field.

Hostile input is bounded: a file over MAX_BYTES is refused before it is parsed, and an alias that
would expand past ALIAS_BUDGET nodes ("billion laughs") is refused while it is converted, so a
catalogue can never grow the process beyond a few times its own size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ConfigError
from .input_file import read_input_file

MAX_BYTES = 1 << 20  # 1 MiB: the seed catalogue is about 20 KiB
ALIAS_BUDGET = 10_000  # nodes reached again through aliases, summed over the document


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


def read_bounded(path: Path, name: str) -> bytes:
    """The file's bytes, refused (ConfigError) when missing, unreadable, not a regular file or
    over MAX_BYTES."""
    return read_input_file(path, name, MAX_BYTES, "a catalogue")


def decode_utf8(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is allowed); an invalid byte is located by line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            name, line, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x}): save it as UTF-8"
        ) from None


def load_located_yaml(path: Path, display_name: str | None = None) -> YamlNode:
    name = display_name or str(path)
    return parse_located_yaml(decode_utf8(read_bounded(path, name), name), name)


def parse_located_yaml(text: str, name: str) -> YamlNode:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigError(name, None, "", f"larger than {MAX_BYTES // 1024} KiB: not a catalogue")
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character, found before parsing starts
        raise _reader_error(exc, text, name) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(name, 1, "", "the file is empty")
        return _Converter(loader, name).convert(root, "")
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, name) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, name) from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, None, "", f"not valid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise ConfigError(name, None, "", "not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, name: str) -> ConfigError:
    line = text[: exc.position].count("\n") + 1
    return ConfigError(
        name, line, "", f"not valid YAML: control character #x{exc.character:04x} is not allowed"
    )


def _syntax_error(exc: yaml.MarkedYAMLError, name: str) -> ConfigError:
    """The line where the problem is; for an unclosed quote or bracket (the problem is only seen
    at the end of the file), the line where it was opened."""
    problem = _one_line(exc.problem or exc.context or "syntax error")
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark else None
    context_line = exc.context_mark.line + 1 if exc.context_mark else None
    if exc.context and context_line is not None and context_line != problem_line:
        if "end of stream" in problem or "<stream end>" in problem:
            opened = _one_line(exc.context).removeprefix("while parsing ")
            opened = opened.removeprefix("while scanning ")
            return ConfigError(
                name, context_line, "", f"not valid YAML: {opened} opened here is never closed"
            )
        problem += f" ({_one_line(exc.context)} from line {context_line})"
    return ConfigError(name, problem_line or context_line, "", f"not valid YAML: {problem}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Converter:
    """Turns composed YAML nodes into YamlNode, counting what aliases make it visit again."""

    def __init__(self, loader: yaml.SafeLoader, name: str) -> None:
        self._loader = loader
        self._name = name
        self._seen: set[int] = set()
        self._repeats = 0

    def convert(self, node: yaml.Node, path: str) -> YamlNode:
        line = node.start_mark.line + 1
        if id(node) in self._seen:  # reached again through an alias
            self._repeats += 1
            if self._repeats > ALIAS_BUDGET:
                raise ConfigError(
                    self._name,
                    line,
                    path,
                    f"aliases expand past {ALIAS_BUDGET:,} values: refused (YAML alias bomb?)",
                )
        self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, line)
        if isinstance(node, yaml.SequenceNode):
            return YamlNode(
                [self.convert(child, f"{path}[{i}]") for i, child in enumerate(node.value)], line
            )
        return YamlNode(self._scalar(node, path), line)

    def _scalar(self, node: yaml.Node, path: str) -> object:
        try:
            return self._loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:  # e.g. a date such as 2024-13-45
            raise ConfigError(
                self._name, node.start_mark.line + 1, path, f"not a valid value: {exc}"
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: str, line: int) -> YamlNode:
        values: dict[str, YamlNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    self._name, key_line, path or "(top level)", "a key is a list or mapping"
                )
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                raise ConfigError(
                    self._name, key_line, path or "(top level)", f"key {key!r} is not text"
                )
            child_path = f"{path}.{key}" if path else key
            if key in values:
                raise ConfigError(self._name, key_line, child_path, "duplicate key")
            values[key] = self.convert(value_node, child_path)
            key_lines[key] = key_line
        return YamlNode(values, line, key_lines)
