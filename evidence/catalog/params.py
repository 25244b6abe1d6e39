"""Check parameters: each check declares a frozen dataclass; YAML values are validated against it.

A new threshold or scope is YAML, not code: the dataclass's fields are the whole schema, bounds
included (`Annotated[int, Bounds(...)]`, checks/bounds.py), enforced here for every check.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from ..checks.bounds import Bounds
from ..errors import ConfigError
from .located_yaml import YamlNode


def build_params(cls: type[Any], node: YamlNode | None, file: str, path: str) -> Any:
    """Instantiate the params dataclass `cls` from a YAML mapping, naming the field on error."""
    if node is None or node.value is None:
        return cls()
    if not isinstance(node.value, dict):
        raise ConfigError(file, node.line, path, "expected a mapping of parameter names to values")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, child in node.value.items():
        field_path = f"{path}.{key}"
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(
                file, node.key_lines[key], field_path, f"unknown parameter (known: {known})"
            )
        values[key] = _coerce(hints[key], child, file, field_path)
    return cls(**values)


def params_to_json(params: Any) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(params, f.name)) for f in dataclasses.fields(params)}


def describe_params(cls: type[Any]) -> list[tuple[str, str, Any]]:
    """(name, type, default) of each parameter, for documentation and `controls`."""
    hints = typing.get_type_hints(cls, include_extras=True)
    described = []
    for f in dataclasses.fields(cls):
        default: Any = f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        described.append((f.name, _type_name(hints[f.name]), _jsonable(default)))
    return described


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(hint)
        limits = [f" {b.minimum} to {b.maximum}" for b in extras if isinstance(b, Bounds)]
        return _type_name(base) + "".join(limits)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(hint)[0])}"
    if origin is dict:
        key, value = typing.get_args(hint)
        return f"mapping of {_type_name(key)} to {_type_name(value)}"
    if hint is type(None):
        return "null"
    return {int: "integer", float: "number", bool: "boolean", str: "text"}.get(hint, str(hint))


def _coerce(hint: Any, node: YamlNode, file: str, path: str) -> Any:
    value = node.value
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(hint)
        coerced = _coerce(base, node, file, path)
        for bounds in extras:
            problem = bounds.problem(coerced) if isinstance(bounds, Bounds) else None
            if problem:
                raise ConfigError(file, node.line, path, problem)
        return coerced
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(hint):
            try:
                return _coerce(option, node, file, path)
            except ConfigError:
                continue
        return _fail(hint, node, file, path)
    if hint is type(None):
        return None if value is None else _fail(hint, node, file, path)
    if origin is tuple:
        if not isinstance(value, list):
            return _fail(hint, node, file, path)
        item_hint = typing.get_args(hint)[0]
        return tuple(_coerce(item_hint, c, file, f"{path}[{i}]") for i, c in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            return _fail(hint, node, file, path)
        _, value_hint = typing.get_args(hint)
        return {k: _coerce(value_hint, c, file, f"{path}.{k}") for k, c in value.items()}
    if hint is bool:
        return value if isinstance(value, bool) else _fail(hint, node, file, path)
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok else _fail(hint, node, file, path)
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _fail(hint, node, file, path)  # type: ignore[arg-type]
    if hint is str:
        return value if isinstance(value, str) else _fail(hint, node, file, path)
    raise TypeError(f"unsupported parameter type {hint!r}")  # a programming error, not user input


def _fail(hint: Any, node: YamlNode, file: str, path: str) -> Any:
    raise ConfigError(file, node.line, path, f"expected {_type_name(hint)}, got {node.value!r}")
