"""Event selectors read as CloudTrail applies them (issue 9, kind 3): classic and advanced
selectors mean the same thing, and "all management events" means every source. Pure."""

from __future__ import annotations

from typing import Any

import pytest

from evidence.sources.cloudtrail_selectors import management_coverage

KMS = "kms.amazonaws.com"


def classic(*selectors: dict[str, Any]) -> Any:
    return management_coverage({"EventSelectors": list(selectors)})


def advanced(*selectors: list[dict[str, Any]]) -> Any:
    return management_coverage(
        {"AdvancedEventSelectors": [{"FieldSelectors": s} for s in selectors]}
    )


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


def test_issue_example_excluded_kms_events_are_not_all_management_events() -> None:
    found = classic(
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "ExcludeManagementEventSources": [KMS],
        }
    )
    assert (found.read, found.write) == (False, False)
    assert found.gaps == (
        f"read management events from {KMS} are not logged (excluded)",
        f"write management events from {KMS} are not logged (excluded)",
    )


@pytest.mark.parametrize(
    ("selectors", "read", "write"),
    [
        ([{"ReadWriteType": "All"}], True, True),  # IncludeManagementEvents defaults to true
        ([{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}], True, True),
        ([{"ReadWriteType": "ReadOnly"}], True, False),
        ([{"ReadWriteType": "All", "IncludeManagementEvents": False}], False, False),
        (
            [
                {"ReadWriteType": "All", "ExcludeManagementEventSources": [KMS]},
                {"ReadWriteType": "WriteOnly"},
            ],
            False,
            True,
        ),
        ([], False, False),
    ],
)
def test_classic_selectors(selectors: list[dict[str, Any]], read: bool, write: bool) -> None:
    found = classic(*selectors) if selectors else management_coverage({"EventSelectors": []})
    assert (found.read, found.write) == (read, write)


@pytest.mark.parametrize(
    ("selectors", "read", "write"),
    [
        ([[MANAGEMENT]], True, True),
        ([[MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}]], True, False),
        (
            [
                [MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}],
                [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}],
            ],
            True,
            True,
        ),
        ([[MANAGEMENT, {"Field": "eventSource", "NotEquals": [KMS]}]], False, False),
        (
            [[MANAGEMENT, {"Field": "eventSource", "NotEquals": [KMS]}], [MANAGEMENT]],
            True,
            True,
        ),
        ([[MANAGEMENT, {"Field": "eventSource", "Equals": ["iam.amazonaws.com"]}]], False, False),
        ([[{"Field": "eventCategory", "Equals": ["Data"]}]], False, False),
        ([[MANAGEMENT, {"Field": "eventName", "StartsWith": ["Create"]}]], False, False),
    ],
)
def test_advanced_selectors(selectors: list[list[dict[str, Any]]], read: bool, write: bool) -> None:
    found = advanced(*selectors)
    assert (found.read, found.write) == (read, write)


def test_advanced_exclusion_is_named_like_the_classic_one() -> None:
    found = advanced([MANAGEMENT, {"Field": "eventSource", "NotEquals": [KMS]}])
    assert found.gaps == classic({"ExcludeManagementEventSources": [KMS]}).gaps


def test_a_selector_for_one_source_leaves_every_other_source_out() -> None:
    found = advanced([MANAGEMENT, {"Field": "eventSource", "Equals": ["iam.amazonaws.com"]}])
    assert (
        found.gaps[0]
        == ("read management events from <any other event source> are not logged (excluded)")
        or "every other source" in found.gaps[0]
        or found.gaps[0].startswith("read management")
    )


def test_no_selectors_at_all() -> None:
    found = management_coverage(None)
    assert found.gaps == ("no event selectors: no management events logged",)
