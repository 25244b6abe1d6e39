"""CloudWatch Logs filter patterns, evaluated offline against a log event: what a metric filter
counts, decided by its behaviour rather than by the words in it.

Pure: re-evaluating a pack never needs AWS (no TestMetricFilter). Supported, as documented in the
CloudWatch Logs User Guide, "Filter pattern syntax for metric filters" (JSON log events and terms):

- JSON patterns `{ ... }`: selectors `$.a.b`, array elements `$.a[0]`, `$.a[0][1]`; `=` and `!=`
  with quoted or unquoted strings, where `*` at the start and/or end is a wildcard (`*Event`,
  `Event*`, `*Event*`; `*` alone matches any value; a `*` inside, `Ev*ent`, is literal); numeric
  `=`, `!=`, `<`, `>`, `<=`, `>=` (signed, decimal, scientific notation); `IS NULL`,
  `NOT EXISTS`, `IS TRUE`, `IS FALSE`; `&&` and `||` with parentheses, `&&` binding tighter.
  A comparison only applies to a value node (string or number): on an array, an object, null or a
  missing property both `=` and `!=` are false ("the filter will not be applied").
- Term patterns on the event's text: `ERROR` (contained, case-sensitive), `"quoted phrase"`,
  several terms (all must appear), `-term` (must not appear), `?term ?other` (any may appear),
  and the empty pattern (every event).

Not supported (FilterPatternError, so the check reports an error naming the pattern, never a
pass): space-delimited patterns `[a, b, ...]` and `%regex%` values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class FilterPatternError(ValueError):
    """A pattern this evaluator cannot read."""


_MISSING = object()  # a selector that leads nowhere in the event

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]


@dataclass(frozen=True)
class FilterPattern:
    text: str
    predicate: Predicate

    def matches(self, event: Event) -> bool:
        return self.predicate(event)


def compile_pattern(text: str) -> FilterPattern:
    """The pattern, ready to test events; raises FilterPatternError naming what is wrong."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return FilterPattern(text, _JsonParser(stripped).parse())
    if stripped.startswith("["):
        raise FilterPatternError("space-delimited patterns are not evaluated")
    return FilterPattern(text, _terms(stripped))


# ---------------------------------------------------------------- terms


def event_text(event: Event) -> str:
    """The event as CloudTrail writes it to CloudWatch Logs: one line of compact JSON."""
    return json.dumps(event, separators=(",", ":"))


def _terms(text: str) -> Predicate:
    tokens = re.findall(r'[?-]?"(?:[^"\\]|\\.)*"|\S+', text)
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    for token in tokens:
        sign = token[0] if token[0] in "?-" and len(token) > 1 else ""
        word = token[len(sign) :]
        if word.startswith('"'):
            word = json.loads(word)
        {"": required, "-": excluded, "?": optional}[sign].append(word)
    if optional and required:
        raise FilterPatternError("a term pattern mixing ?terms and plain terms is not evaluated")

    def predicate(event: Event) -> bool:
        line = event_text(event)
        if any(word in line for word in excluded):
            return False
        if optional:
            return any(word in line for word in optional)
        return all(word in line for word in required)

    return predicate


# ---------------------------------------------------------------- JSON patterns

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<punct>\|\||&&|!=|<=|>=|=|<|>|\(|\)|\{|\})
      | (?P<quoted>"(?:[^"\\]|\\.)*")
      | (?P<selector>\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])*)
      | (?P<word>[^\s(){}&|=!<>"]+)
    )""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class _Token:
    kind: str  # punct, quoted, selector, word
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"cannot read the pattern at {text[position:][:20]!r}")
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _resolve(event: Any, selector: str) -> Any:
    node = event
    for name, index in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", selector[1:]):
        if name:
            if not isinstance(node, Mapping) or name not in node:
                return _MISSING
            node = node[name]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return _MISSING
            node = node[int(index)]
    return node


def _is_value(node: Any) -> bool:
    return isinstance(node, str | int | float) and node is not _MISSING


def _string_matcher(literal: str) -> Callable[[str], bool]:
    """`*` at the start and/or end is a wildcard; `*` alone matches anything."""
    if literal == "*":
        return lambda _: True
    starts, ends = literal.startswith("*"), literal.endswith("*")
    core = literal.strip("*") if (starts or ends) else literal
    if starts and ends:
        return lambda value: core in value
    if starts:
        return lambda value: value.endswith(core)
    if ends:
        return lambda value: value.startswith(core)
    return lambda value: value == literal


def _node_text(node: Any) -> str:
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float) and node.is_integer():
        return str(int(node))
    return str(node)


def _equality(selector: str, operator: str, literal: str, quoted: bool) -> Predicate:
    number = None if quoted or not _NUMBER.fullmatch(literal) else float(literal)
    text_matches = _string_matcher(literal)

    def equal(node: Any) -> bool:
        if number is not None and isinstance(node, int | float) and not isinstance(node, bool):
            return float(node) == number
        return text_matches(_node_text(node))

    def predicate(event: Event) -> bool:
        node = _resolve(event, selector)
        if not _is_value(node):
            return False
        return equal(node) if operator == "=" else not equal(node)

    return predicate


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _numeric(selector: str, operator: str, literal: str) -> Predicate:
    if not _NUMBER.fullmatch(literal):
        raise FilterPatternError(f"{operator} needs a number, got {literal!r}")
    bound, compare = float(literal), _NUMERIC[operator]

    def predicate(event: Event) -> bool:
        node = _resolve(event, selector)
        if isinstance(node, bool) or not isinstance(node, int | float):
            return False
        return compare(float(node), bound)

    return predicate


class _JsonParser:
    """Recursive descent: or := and ('||' and)*; and := atom ('&&' atom)*;
    atom := '(' or ')' | comparison."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0

    def parse(self) -> Predicate:
        self._expect("{")
        predicate = self._or()
        self._expect("}")
        if self.position != len(self.tokens):
            raise FilterPatternError(f"unexpected {self._peek_text()!r} after the closing brace")
        return predicate

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _peek_text(self) -> str:
        token = self._peek()
        return token.text if token else "end of pattern"

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise FilterPatternError("the pattern ends too early")
        self.position += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._take()
        if token.text != text:
            raise FilterPatternError(f"expected {text!r}, found {token.text!r}")

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek_text() == "||":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._atom()]
        while self._peek_text() == "&&":
            self._take()
            parts.append(self._atom())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def _atom(self) -> Predicate:
        if self._peek_text() == "(":
            self._take()
            inner = self._or()
            self._expect(")")
            return inner
        token = self._take()
        if token.kind != "selector" or token.text == "$":
            raise FilterPatternError(f"expected a $. selector, found {token.text!r}")
        return self._comparison(token.text)

    def _comparison(self, selector: str) -> Predicate:
        operator = self._take()
        keyword = operator.text.upper()
        if operator.kind == "word" and keyword in ("IS", "NOT"):
            second = self._take().text.upper()
            if keyword == "NOT" and second == "EXISTS":
                return lambda e: _resolve(e, selector) is _MISSING
            if keyword == "IS" and second == "NULL":
                return lambda e: _resolve(e, selector) is None
            if keyword == "IS" and second in ("TRUE", "FALSE"):
                wanted = second == "TRUE"
                return lambda e: _resolve(e, selector) is wanted
            raise FilterPatternError(f"unknown test {operator.text} {second}")
        if operator.kind != "punct" or operator.text not in ("=", "!=", *_NUMERIC):
            raise FilterPatternError(
                f"expected an operator after {selector}, found {operator.text!r}"
            )
        value = self._take()
        if value.kind == "quoted":
            literal, quoted = str(json.loads(value.text)), True
        elif value.kind == "word":
            literal, quoted = value.text, False
        else:
            raise FilterPatternError(f"expected a value after {selector} {operator.text}")
        if literal.startswith("%") and literal.endswith("%") and len(literal) > 1:
            raise FilterPatternError("regular-expression values (%...%) are not evaluated")
        if operator.text in _NUMERIC:
            return _numeric(selector, operator.text, literal)
        return _equality(selector, operator.text, literal, quoted)
