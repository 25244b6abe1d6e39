"""controls.yaml: loaded, validated against the check registry, every error located."""

from __future__ import annotations

import hashlib
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checks import CHECKS, MANUAL
from ..checks.base import NoParams
from ..errors import ConfigError
from ..model import (
    AcceptedRisk,
    Attachment,
    CollectionError,
    ControlResult,
    EvidenceFile,
    Item,
    JsonBlock,
    Status,
    control_status,
    with_period,
)
from .exceptions import EXCEPTIONS_KEY, parse_exceptions
from .input_file import kind_of
from .located_yaml import YamlNode, decode_utf8, parse_located_yaml, read_bounded
from .params import build_params
from .requests import control_requests

# A control id names a folder in the pack (attachments/<id>/) and a workbook sheet: letters,
# digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.
CONTROL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CONTROL_ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

_TOP_KEYS = {"organisation", "controls"}
_REQUIRED = ("id", "title", "criteria", "check")
_CONTROL_KEYS = {
    "id",
    "title",
    "description",
    "criteria",
    "references",
    "check",
    "params",
    "attachments",
    EXCEPTIONS_KEY,
    "requests",
}


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    description: str
    criteria: tuple[str, ...]
    references: Mapping[str, tuple[str, ...]]
    check: str
    params: Any  # an instance of the check's params dataclass
    line: int
    # Evidence files as written in controls.yaml, and as resolved from its folder: the whole
    # evidence of a manual control, supplementary evidence of a checked one.
    attachments: tuple[tuple[str, Path], ...] = ()
    exceptions: tuple[AcceptedRisk, ...] = ()  # accepted risks, in file order
    requests: tuple[str, ...] = ()  # ids of the auditor's requests (PBC) this control answers

    @property
    def manual(self) -> bool:
        return self.check == MANUAL

    def result(
        self,
        *,
        params: Mapping[str, Any],
        procedure: str,
        items: Sequence[Item],
        errors: Sequence[CollectionError],
        evidence: Sequence[EvidenceFile],
        notes: Sequence[str] = (),
        ipe: JsonBlock | None = None,
        attachments: Sequence[Attachment] = (),
        period: tuple[Mapping[str, Any], Status] | None = None,
        quantifier: str = "every",
    ) -> ControlResult:
        """This control's result: its identity, what was found, and the status that follows
        (`quantifier` "some" for an existential check: see model.control_status; with a period:
        the period block and the status over the period, which a deviation makes `fail`
        whatever the as-of reading). Accepted exceptions are applied afterwards
        (evaluate/exceptions.py)."""
        status = control_status(items, errors, manual=self.manual, existential=quantifier == "some")
        return ControlResult(
            id=self.id,
            title=self.title,
            description=self.description,
            check=self.check,
            criteria=self.criteria,
            references=self.references,
            params=params,
            procedure=procedure,
            status=with_period(status, period[1] if period else None),
            items=tuple(items),
            errors=tuple(errors),
            evidence=tuple(evidence),
            notes=tuple(notes),
            ipe=ipe,
            attachments=tuple(attachments),
            period=period[0] if period else None,
            quantifier=quantifier,
        )


@dataclass(frozen=True)
class Catalog:
    path: str
    sha256: str
    text: bytes
    organisation: str
    controls: tuple[Control, ...]

    def select(self, ids: list[str]) -> Catalog:
        """The controls named (in catalogue order); unknown ids are the caller's to report."""
        wanted = set(ids)
        chosen = tuple(c for c in self.controls if c.id in wanted)
        return Catalog(self.path, self.sha256, self.text, self.organisation, chosen)

    def ids(self) -> list[str]:
        return [c.id for c in self.controls]


def load_catalog(path: Path) -> Catalog:
    """Load and validate a catalogue; ConfigError (file, line, field) on anything wrong."""
    name = str(path)
    text = read_bounded(path, name)
    root = parse_located_yaml(decode_utf8(text, name), name)
    top = _mapping(root, name, "(top level)")
    _reject_unknown(top, _TOP_KEYS, name, "")
    organisation = _organisation(top, name)
    controls_node = _fields(top).get("controls")
    if controls_node is None:
        raise ConfigError(name, root.line, "controls", "missing: a list of controls is required")
    if not isinstance(controls_node.value, list) or not controls_node.value:
        raise ConfigError(
            name, controls_node.line, "controls", "expected a list of at least one control"
        )
    controls: list[Control] = []
    seen: dict[str, tuple[int, str]] = {}
    for index, node in enumerate(controls_node.value):
        control = _control(node, name, f"controls[{index}]")
        # Ids differing only in case would share an attachments folder on macOS and Windows.
        folded = control.id.casefold()
        if folded in seen:
            first_line, first_id = seen[folded]
            how = (
                ""
                if first_id == control.id
                else f" as {first_id!r}: ids are compared ignoring case"
            )
            raise ConfigError(
                name,
                node.key_lines.get("id", node.line),
                f"controls[{index}].id",
                f"duplicate id {control.id!r} (first on line {first_line}{how})",
            )
        seen[folded] = (node.key_lines.get("id", node.line), control.id)
        controls.append(control)
    return Catalog(name, hashlib.sha256(text).hexdigest(), text, organisation, tuple(controls))


def _mapping(node: YamlNode, file: str, path: str) -> YamlNode:
    if not isinstance(node.value, dict):
        raise ConfigError(file, node.line, path, "expected a mapping")
    return node


def _fields(node: YamlNode) -> dict[str, YamlNode]:
    assert isinstance(node.value, dict), "checked by _mapping"
    return node.value


def _reject_unknown(node: YamlNode, known: set[str], file: str, path: str) -> None:
    for key in _fields(node):
        if key not in known:
            field = f"{path}.{key}" if path else key
            allowed = ", ".join(sorted(known))
            raise ConfigError(file, node.key_lines[key], field, f"unknown key (allowed: {allowed})")


def _organisation(top: YamlNode, file: str) -> str:
    node = _fields(top).get("organisation")
    if node is None:
        raise ConfigError(file, top.line, "organisation", "missing: give organisation: {name: ...}")
    _mapping(node, file, "organisation")
    _reject_unknown(node, {"name"}, file, "organisation")
    name_node = _fields(node).get("name")
    if name_node is None or not isinstance(name_node.value, str) or not name_node.value.strip():
        line = name_node.line if name_node else node.line
        raise ConfigError(file, line, "organisation.name", "expected the organisation's name")
    return name_node.value


def _text(node: YamlNode, file: str, path: str) -> str:
    if not isinstance(node.value, str) or not node.value.strip():
        hint = " (quote it)" if isinstance(node.value, int | float) else ""
        raise ConfigError(file, node.line, path, f"expected text{hint}, got {node.value!r}")
    return node.value


def _text_list(node: YamlNode, file: str, path: str) -> tuple[str, ...]:
    if not isinstance(node.value, list) or not node.value:
        raise ConfigError(file, node.line, path, "expected a non-empty list")
    return tuple(_text(child, file, f"{path}[{i}]") for i, child in enumerate(node.value))


def _control(node: YamlNode, file: str, path: str) -> Control:
    _mapping(node, file, path)
    _reject_unknown(node, _CONTROL_KEYS, file, path)
    fields = _fields(node)
    for key in _REQUIRED:
        if key not in fields:
            raise ConfigError(file, node.line, f"{path}.{key}", "missing")
    check_name = _text(fields["check"], file, f"{path}.check")
    if check_name != MANUAL and check_name not in CHECKS:
        known = ", ".join(sorted(CHECKS))
        raise ConfigError(
            file,
            fields["check"].line,
            f"{path}.check",
            f"unknown check {check_name!r} (known: {known}, manual)",
        )
    params_cls = NoParams if check_name == MANUAL else CHECKS[check_name].params
    params_node = fields.get("params")
    params = build_params(params_cls, params_node, file, f"{path}.params")
    rule = None if check_name == MANUAL else CHECKS[check_name].validate
    problem = rule(params) if rule else None
    if problem:
        line = params_node.line if params_node else fields["check"].line
        raise ConfigError(file, line, f"{path}.params", problem)
    attachments: tuple[tuple[str, Path], ...] = ()
    if "attachments" in fields:
        node_at = fields["attachments"]
        names = _text_list(node_at, file, f"{path}.attachments")
        attachments = tuple(
            (name, _attachment(name, file, node_at, f"{path}.attachments[{i}]"))
            for i, name in enumerate(names)
        )
    references: dict[str, tuple[str, ...]] = {}
    if "references" in fields:
        refs = _mapping(fields["references"], file, f"{path}.references")
        for key, child in _fields(refs).items():
            references[key] = _text_list(child, file, f"{path}.references.{key}")
    description = fields.get("description")
    return Control(
        id=_control_id(fields["id"], file, f"{path}.id"),
        title=_text(fields["title"], file, f"{path}.title"),
        description=_text(description, file, f"{path}.description") if description else "",
        criteria=_text_list(fields["criteria"], file, f"{path}.criteria"),
        references=references,
        check=check_name,
        params=params,
        line=node.line,
        attachments=attachments,
        exceptions=parse_exceptions(fields.get(EXCEPTIONS_KEY), file, f"{path}.{EXCEPTIONS_KEY}"),
        requests=control_requests(fields.get("requests"), file, f"{path}.requests"),
    )


def _control_id(node: YamlNode, file: str, path: str) -> str:
    control_id = _text(node, file, path)
    if not CONTROL_ID.fullmatch(control_id):
        raise ConfigError(
            file, node.line, path, f"{control_id!r}: a control id is {CONTROL_ID_RULE}"
        )
    return control_id


def _attachment(written: str, file: str, node: YamlNode, path: str) -> Path:
    """The attached file, which must be inside the catalogue's folder (symlinks resolved)."""
    problem = attachment_problem(Path(file).parent, written)
    if problem is not None:
        line = node.line
        if isinstance(node.value, list):
            line = next((c.line for c in node.value if c.value == written), node.line)
        raise ConfigError(file, line, path, f"{written!r}: {problem}")
    return (Path(file).parent / written).resolve()


def attachment_problem(base: Path, written: str) -> str | None:
    """Why `written` may not be attached from folder `base`, or None when it may.

    Nothing outside the catalogue's folder enters a pack: no absolute path, no `..`, and no
    symlink (of the file or of a folder on the way) that leads out of the folder. Only regular
    files are attached, each named: a folder, a FIFO or a device is refused with what it is, and
    a `~` or glob that names no file literally is said to be unexpanded (no shell runs here). A
    file simply missing is not a problem here: the control reports it as an `error`.
    """
    if written.startswith("~") and not (base / written).exists():
        return "'~' is not expanded; give the path relative to the catalogue's folder"
    if any(c in written for c in "*?[") and not (base / written).exists():
        return "globs are not expanded; list each file"
    relative = Path(written)
    if relative.is_absolute() or relative.drive or written.startswith(("/", "\\")):
        return "an absolute path; attachments are relative to the catalogue's folder"
    if ".." in relative.parts or ".." in written.replace("\\", "/").split("/"):
        return "'..' leads out of the catalogue's folder"
    root = base.resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        return f"cannot be resolved ({exc})"
    if not target.is_relative_to(root):
        return f"leads out of the catalogue's folder (to {target}) through a symbolic link"
    try:
        mode = target.stat().st_mode
    except OSError:
        return None  # missing: the control says which file was not found
    if not stat.S_ISREG(mode):
        return f"{kind_of(mode)}, not a regular file; attach files, each named"
    return None
