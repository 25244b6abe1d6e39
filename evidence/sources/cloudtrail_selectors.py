"""Which management events a trail logs, read from its event selectors the way CloudTrail applies
them: classic and advanced selectors with the same meaning.

"All management events" means every read and every write event from every event source. AWS:
CloudTrail User Guide, "Logging management events" (classic selectors: ReadWriteType,
IncludeManagementEvents, ExcludeManagementEventSources) and "Filtering data events by using
advanced event selectors" / AdvancedFieldSelector in the API Reference (selectors are ORed, the
field selectors of one selector are ANDed; Equals/StartsWith/EndsWith admit a value when any of
their values matches, NotEquals/NotStartsWith/NotEndsWith when none does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KINDS = (("true", "read"), ("false", "write"))  # readOnly value -> words
# A source no selector names: stands for "every other event source".
OTHER_SOURCES = "<any other event source>"
# The fields CloudTrail accepts in a management-event selector; any other narrows it in a way
# this module does not take as coverage.
MANAGEMENT_FIELDS = frozenset({"eventCategory", "readOnly", "eventSource"})


@dataclass(frozen=True)
class ManagementCoverage:
    read: bool  # every read-only management event, from every source, is logged
    write: bool
    gaps: tuple[str, ...] = ()  # what is not logged, in words

    @property
    def complete(self) -> bool:
        return self.read and self.write


def management_coverage(selectors: Mapping[str, Any] | None) -> ManagementCoverage:
    """The trail's management-event coverage from its GetEventSelectors answer (None: not read,
    or no selectors: nothing is logged)."""
    classic = list((selectors or {}).get("EventSelectors") or [])
    advanced = list((selectors or {}).get("AdvancedEventSelectors") or [])
    if advanced:
        return _advanced(advanced)
    if classic:
        return _classic(classic)
    return ManagementCoverage(False, False, ("no event selectors: no management events logged",))


def _coverage(
    missing: Mapping[str, Sequence[str]], logged: Mapping[str, Sequence[str]] | None = None
) -> ManagementCoverage:
    """From the sources not logged per kind (read/write) to coverage and words; `logged` are
    the named sources that are (when every other source is not)."""
    gaps = []
    for _, kind in KINDS:
        sources = missing[kind]
        if sources:
            named = [s for s in sources if s != OTHER_SOURCES]
            only = (logged or {}).get(kind, ())
            if OTHER_SOURCES in sources and not named and only:
                gaps.append(f"{kind} management events are logged only from {', '.join(only)}")
            elif OTHER_SOURCES in sources and not named:
                gaps.append(f"{kind} management events are not logged")
            else:
                more = " and every other source" if OTHER_SOURCES in sources else ""
                gaps.append(
                    f"{kind} management events from {', '.join(named)}{more} are not logged"
                    " (excluded)"
                )
    return ManagementCoverage(not missing["read"], not missing["write"], tuple(gaps))


def _classic(selectors: Sequence[Mapping[str, Any]]) -> ManagementCoverage:
    missing: dict[str, list[str]] = {}
    for _, kind in KINDS:
        exclusions = [
            frozenset(s.get("ExcludeManagementEventSources") or ())
            for s in selectors
            if s.get("IncludeManagementEvents", True)
            and s.get("ReadWriteType", "All")
            in ("All", "ReadOnly" if kind == "read" else "WriteOnly")
        ]
        if not exclusions:
            missing[kind] = [OTHER_SOURCES]
        else:
            # A source is logged when any selector of this kind does not exclude it.
            missing[kind] = sorted(frozenset.intersection(*exclusions))
    return _coverage(missing)


def _admits(field: Mapping[str, Any], value: str) -> bool:
    checks = (
        ("Equals", lambda v: value == v, True),
        ("StartsWith", lambda v: value.startswith(v), True),
        ("EndsWith", lambda v: value.endswith(v), True),
        ("NotEquals", lambda v: value == v, False),
        ("NotStartsWith", lambda v: value.startswith(v), False),
        ("NotEndsWith", lambda v: value.endswith(v), False),
    )
    for operator, test, positive in checks:
        values = field.get(operator)
        if values is None:
            continue
        hit = any(test(str(v)) for v in values)
        if hit != positive:
            return False
    return True


def _advanced(selectors: Sequence[Mapping[str, Any]]) -> ManagementCoverage:
    parsed = [
        {str(f["Field"]): f for f in selector.get("FieldSelectors", [])} for selector in selectors
    ]
    # Management selectors that also filter on fields beyond the management ones are not
    # taken as coverage.
    usable = [
        fields
        for fields in parsed
        if _admits(fields.get("eventCategory", {}), "Management")
        and set(fields) <= MANAGEMENT_FIELDS
    ]
    named = {
        str(value)
        for fields in usable
        for operator, values in fields.get("eventSource", {}).items()
        if operator != "Field"
        for value in values
    }
    witnesses = [*sorted(named), OTHER_SOURCES]
    missing: dict[str, list[str]] = {}
    logged: dict[str, list[str]] = {}
    for read_only, kind in KINDS:
        admitted = {
            source: any(
                _admits(fields.get("readOnly", {}), read_only)
                and _admits(fields.get("eventSource", {}), source)
                for fields in usable
            )
            for source in witnesses
        }
        missing[kind] = [source for source, yes in admitted.items() if not yes]
        logged[kind] = [s for s, yes in admitted.items() if yes and s != OTHER_SOURCES]
    return _coverage(missing, logged)
