"""How each check's CloudTrail events change its items, for rebuilding state over a period.

A rule maps one event to its effects: which resource it touched and whether that resource met
the control just before and just after it (None where the event does not show it). One shared
table drives most checks; a few read the request parameters the way AWS applies them
(the password policy, snapshot permissions, security group rules, trail settings). The timeline
itself is built in evaluate/period.py; nothing here knows about periods or packs.

AWS docs followed: CloudTrail record contents (requestParameters, responseElements); IAM
UpdateAccountPasswordPolicy (unset parameters take their defaults: the call replaces the whole
policy); EC2 ModifySnapshotAttribute and RDS ModifyDBSnapshotAttribute (group/value `all` makes a
snapshot public); EC2 AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress /
ModifySecurityGroupRules (rule ids in responseElements.securityGroupRuleSet);
CloudTrail StartLogging/StopLogging/UpdateTrail; GuardDuty UpdateDetector (`enable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from ..model import Item, Status
from ..pack.raw import parse_utc
from ..sources.cloudtrail import TRAILS
from ..sources.cloudtrail_events import TrailEvent
from ..sources.iam import CREDENTIAL_REPORT
from ..sources.services import CONFIG_RECORDERS, GUARDDUTY_DETECTORS
from .base import ScopeContext
from .cloudtrail import TrailParams
from .ec2 import OpenPortsParams, rule_exposure
from .iam import KeyRotationParams, PasswordPolicyParams, password_policy_shortfalls


class State(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    ABSENT = "absent"  # the resource did not exist (not a deviation unless it had to exist)
    UNKNOWN = "unknown"  # the events cannot say


# An item's state is read from facets: `exists`, `meets` (the control's own verdict on the
# setting the events change) and, for checks that combine settings, their own (a console user:
# `password`, `mfa`). An event says what facets AWS required before it (`was`: the call fails
# otherwise) and what it left; a facet no event touches between a moment and the as-of reading
# is the as-of value, so a change to one setting leaves the others known.
EXISTS, MEETS = "exists", "meets"
Facets = Mapping[str, bool]
_STATE_FACETS: Mapping[State, Facets] = {
    State.ABSENT: {EXISTS: False},
    State.MET: {EXISTS: True, MEETS: True},
    State.NOT_MET: {EXISTS: True, MEETS: False},
}


@dataclass(frozen=True)
class Effect:
    """What one event did to one resource. `neutral`: it changed something that does not
    touch the control (e.g. a snapshot shared with one named account). `before`/`after` are
    the whole state where the event shows it; `was`/`sets` are single facets (see above)."""

    resource: str
    before: State | None
    after: State | None
    what: str
    neutral: bool = False
    was: Facets = field(default_factory=dict)
    sets: Facets = field(default_factory=dict)
    at: datetime | None = None  # when it takes hold, if not at the event (a key's age limit)

    def required(self) -> dict[str, bool]:
        """The facets that held just before the event."""
        return {**(_STATE_FACETS.get(self.before, {}) if self.before else {}), **self.was}

    def left(self) -> dict[str, bool | None]:
        """The facets just after the event; None: changed, to what the event does not show."""
        left: dict[str, bool | None] = {MEETS: None} if self.after is None else {}
        if self.before is State.ABSENT:
            left[EXISTS] = True  # it needed the resource absent, and succeeded: it created it
        if self.after is State.ABSENT:
            left[MEETS] = None
        if self.after is not None and self.after is not State.UNKNOWN:
            left.update(_STATE_FACETS[self.after])
        left.update(self.sets)
        return left


EffectsOf = Callable[[TrailEvent, Any], Iterable[Effect]]
Marks = Callable[
    [ScopeContext[Any], str, Item | None, Sequence[TrailEvent]], Iterable[tuple[datetime, Effect]]
]
SinceOf = Callable[[ScopeContext[Any], Item], tuple[str, str] | None]


@dataclass(frozen=True)
class PeriodRule:
    """A check's reading of its change events.

    `must_exist`: the control is about something being on (a trail logging, a recorder, a
    detector, a policy set), so a time before it existed is a deviation. `since`: the AWS
    timestamp that says since when an item is in effect, as (time, field name)."""

    effects: EffectsOf
    must_exist: bool = False
    since: SinceOf | None = None
    judge: Callable[[Facets], State] = field(default=lambda facets: judge_meets(facets))
    as_of: Callable[[Item | None], Facets] = field(default=lambda item: as_of_facets(item))
    # Other names events use for an item (an access key's id, for a credential report row).
    aliases: Callable[[Item, Sequence[TrailEvent]], Iterable[str]] | None = None
    # AWS timestamps that change an item's state without an event (a key passing its age
    # limit), for an item (or a resource seen only in events: item None) and its events.
    marks: Marks | None = None
    # A resource the check left out of its population at the as-of time (out of scope, say):
    # its facets then, or None when the period does not judge it either (its events are still
    # listed among the changes).
    excluded: Facets | None = None


def _first(request: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        if request.get(name):
            return str(request[name])
    return None


@dataclass(frozen=True)
class Spec:
    """One row of the shared table: where the resource is named, and the states it implies."""

    keys: tuple[str, ...]  # requestParameters (or responseElements) fields naming the resource
    before: State | None
    after: State | None
    what: str
    was: Facets = field(default_factory=dict)
    sets: Facets = field(default_factory=dict)
    # Where the request shows the outcome: the control's verdict after the call (None: it does
    # not show it), and whether the call touches the control at all.
    meets: Callable[[Mapping[str, Any]], bool | None] | None = None
    touches: Callable[[Mapping[str, Any]], bool] | None = None


def table_rule(table: Mapping[str, Spec]) -> EffectsOf:
    """Effects from a table: event name -> where its resource is named and what it implies."""

    def effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
        spec = table.get(event.name)
        if spec is None:
            return
        resource = _first(event.request, *spec.keys) or _first(event.response, *spec.keys)
        if resource is None:
            resource = _nested(event.response, spec.keys)
        if resource is None:
            return
        if spec.touches is not None and not spec.touches(event.request):
            yield Effect(resource, None, None, spec.what, neutral=True)
            return
        sets = dict(spec.sets)
        if spec.meets is not None:
            verdict = spec.meets(event.request)
            if verdict is not None:
                sets[MEETS] = verdict
        yield Effect(resource, spec.before, spec.after, spec.what, False, spec.was, sets)

    return effects


def _nested(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key in keys and isinstance(child, str):
                return child
            found = _nested(child, keys)
            if found:
                return found
    if isinstance(value, list):
        for child in value:
            found = _nested(child, keys)
            if found:
                return found
    return None


S, A, N, M = State, State.ABSENT, State.NOT_MET, State.MET

# ---------------------------------------------------------------- IAM


def password_policy_effects(event: TrailEvent, params: PasswordPolicyParams) -> Iterator[Effect]:
    resource = "account-password-policy"
    if event.name == "DeleteAccountPasswordPolicy":
        yield Effect(resource, None, N, "password policy deleted")
    elif event.name == "UpdateAccountPasswordPolicy":
        # The call replaces the whole policy: what it sets is the policy that follows.
        settings = {key[:1].upper() + key[1:]: value for key, value in event.request.items()}
        shortfalls = password_policy_shortfalls(settings, params)
        what = "password policy set: " + ("; ".join(shortfalls) or "meets every requirement")
        yield Effect(resource, None, N if shortfalls else M, what)


USER = ("userName",)
PASSWORD, MFA = "password", "mfa"
T, F = True, False
# IAM refuses CreateLoginProfile when the user has a password (EntityAlreadyExists), and
# DeleteUser while the user still has a password or an MFA device (DeleteConflict). A user may
# have several MFA devices: after DeactivateMFADevice, whether one is left is unknown.
_USER_MFA = {
    "CreateUser": Spec(
        USER, A, None, "user created (no console password, no MFA)", {}, {PASSWORD: F, MFA: F}
    ),
    "DeleteUser": Spec(USER, None, A, "user deleted", {PASSWORD: F, MFA: F}),
    "CreateLoginProfile": Spec(
        USER, None, None, "console password created", {PASSWORD: F}, {PASSWORD: T}
    ),
    "DeleteLoginProfile": Spec(
        USER, None, None, "console password deleted", {PASSWORD: T}, {PASSWORD: F}
    ),
    "EnableMFADevice": Spec(USER, None, None, "MFA device enabled", {}, {MFA: T}),
    "DeactivateMFADevice": Spec(USER, None, None, "MFA device deactivated", {MFA: T}),
    "DeleteVirtualMFADevice": Spec(USER, None, None, "virtual MFA device deleted"),
}


def console_mfa(facets: Facets) -> State:
    """iam.user_mfa from facets: a user without a console password is outside the control."""
    if facets.get(EXISTS) is False:
        return State.ABSENT
    if facets.get(PASSWORD) is False:
        return State.MET
    if facets.get(PASSWORD) is True and MFA in facets:
        return State.MET if facets[MFA] else State.NOT_MET
    return State.UNKNOWN


def console_user_as_of(item: Item | None) -> Facets:
    """Console users are the population: a user not in it has no password (or is gone)."""
    if item is None:
        return {PASSWORD: False}
    return {EXISTS: True, PASSWORD: True, MFA: bool(item.attributes.get("mfa_active"))}


_KEYS = {
    "CreateAccessKey": Spec(USER, None, None, "access key created"),
    "UpdateAccessKey": Spec(USER, None, None, "access key status changed"),
    "DeleteAccessKey": Spec(USER, None, None, "access key deleted"),
}
# Access keys over the period: a key is a resource by its AccessKeyId. It is in the population
# while active and fails from CreateDate + max_age_days until it is deactivated or deleted
# (rotated). CreateDate comes from CreateAccessKey's responseElements, or for a key created
# before the events read, from the credential report (access_key_N_last_rotated: the key's
# creation), matched to the key by user and date. AWS docs: IAM User Guide, "Rotating access
# keys" and "Getting credential reports"; CloudTrail IAM event examples (CreateAccessKey).


def _key_created(event: TrailEvent) -> tuple[str, str, datetime] | None:
    """(user, access key id, CreateDate) of a CreateAccessKey event."""
    key = event.response.get("accessKey") or {}
    if not isinstance(key, Mapping) or not key.get("accessKeyId"):
        return None
    user = str(key.get("userName") or event.request.get("userName") or "")
    return user, str(key["accessKeyId"]), _iam_date(key.get("createDate")) or event.time


def _iam_date(value: Any) -> datetime | None:
    """CloudTrail writes IAM dates as "Nov 30, 2026 10:15:22 AM" (UTC); ISO 8601 also read."""
    if not value:
        return None
    try:
        return parse_utc(str(value))
    except ValueError:
        pass
    try:
        return datetime.strptime(str(value), "%b %d, %Y %I:%M:%S %p").replace(tzinfo=UTC)
    except ValueError:
        return None


def _aged(key: str, created: datetime, params: KeyRotationParams) -> tuple[datetime, Effect]:
    limit = params.max_age_days
    over = Effect(key, M, N, f"access key older than {limit} days (created {created:%Y-%m-%d})")
    return created + timedelta(days=limit), over


def access_key_effects(event: TrailEvent, params: KeyRotationParams) -> Iterator[Effect]:
    if event.name == "CreateAccessKey":
        found = _key_created(event)
        if found is not None:
            _, key, created = found
            yield Effect(key, A, M, "access key created")
            moment, over = _aged(key, created, params)
            yield Effect(over.resource, M, N, over.what, at=moment)
        return
    named = str(event.request.get("accessKeyId") or "")
    if not named:
        return
    if event.name == "DeleteAccessKey":
        yield Effect(named, None, A, "access key deleted")
    elif event.name == "UpdateAccessKey" and event.request.get("status") == "Inactive":
        yield Effect(named, None, A, "access key deactivated")
    elif event.name == "UpdateAccessKey":
        yield Effect(named, A, None, "access key activated")


def _close(first: datetime, second: datetime | None) -> bool:
    return second is not None and abs((first - second).total_seconds()) <= 2


def access_key_aliases(item: Item, events: Sequence[TrailEvent]) -> Iterator[str]:
    """The id of the key a credential report row shows: created for that user at that time."""
    rotated = _iam_date(item.attributes.get("last_rotated"))
    for event in events:
        found = _key_created(event) if event.name == "CreateAccessKey" else None
        if found and found[0] == item.resource and rotated and _close(found[2], rotated):
            yield found[1]


def access_key_marks(
    ctx: ScopeContext[KeyRotationParams],
    resource: str,
    item: Item | None,
    events: Sequence[TrailEvent],
) -> Iterator[tuple[datetime, Effect]]:
    """Created and over-age moments of a key: the row's date for a key of the population; for
    a key seen only in events (deactivated or deleted since), the creation date of the one
    inactive report slot of its user that no CreateAccessKey explains."""
    if item is not None:
        created = _iam_date(item.attributes.get("last_rotated"))
    else:
        created = _inactive_slot_date(ctx, resource, events)
    if created is None:
        return
    yield created, Effect(resource, A, M, "access key created (credential report)")
    yield _aged(resource, created, ctx.params)


def _inactive_slot_date(
    ctx: ScopeContext[Any], key: str, events: Sequence[TrailEvent]
) -> datetime | None:
    users = {
        str(e.request.get("userName") or e.principal.rsplit("/", 1)[-1])
        for e in events
        if e.request.get("accessKeyId") == key
    }
    if len(users) != 1:
        return None
    (user,) = users
    explained = [found[2] for e in events if (found := _key_created(e)) and found[0] == user]
    rows = [row for row in ctx.get(CREDENTIAL_REPORT).rows if row.user == user]
    dates = [
        slot.last_rotated
        for row in rows
        for slot in row.access_keys
        if not slot.active
        and slot.last_rotated is not None
        and not any(_close(slot.last_rotated, other) for other in explained)
    ]
    return dates[0] if len(dates) == 1 else None


_CREDENTIALS = {
    **_KEYS,
    "CreateLoginProfile": Spec(USER, None, None, "console password created"),
    "UpdateLoginProfile": Spec(USER, None, None, "console password changed"),
    "DeleteLoginProfile": Spec(USER, None, None, "console password deleted"),
}
PRINCIPAL = ("userName", "groupName", "roleName", "policyArn")
_PRIVILEGED = {
    name: Spec(PRINCIPAL, None, None, what)
    for name, what in {
        "CreateUser": "user created",
        "DeleteUser": "user deleted",
        "CreateGroup": "group created",
        "DeleteGroup": "group deleted",
        "CreateRole": "role created",
        "DeleteRole": "role deleted",
        "AddUserToGroup": "user added to group",
        "RemoveUserFromGroup": "user removed from group",
        "AttachUserPolicy": "policy attached to user",
        "DetachUserPolicy": "policy detached from user",
        "AttachGroupPolicy": "policy attached to group",
        "DetachGroupPolicy": "policy detached from group",
        "AttachRolePolicy": "policy attached to role",
        "DetachRolePolicy": "policy detached from role",
        "PutUserPolicy": "inline policy set on user",
        "DeleteUserPolicy": "inline policy deleted from user",
        "PutGroupPolicy": "inline policy set on group",
        "DeleteGroupPolicy": "inline policy deleted from group",
        "PutRolePolicy": "inline policy set on role",
        "DeleteRolePolicy": "inline policy deleted from role",
        "CreatePolicyVersion": "policy version created",
        "SetDefaultPolicyVersion": "policy default version changed",
    }.items()
}


def root_effects(names: Mapping[str, tuple[State | None, State | None, str]]) -> EffectsOf:
    """Root user events: those made by, or naming no user other than, the root user."""

    def effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
        by_root = event.principal.endswith(":root") or "Root" in event.principal
        if event.name in names and not event.request.get("userName") and by_root:
            before, after, what = names[event.name]
            yield Effect("<root_account>", before, after, what)

    return effects


# ---------------------------------------------------------------- CloudTrail


def trail_effects(event: TrailEvent, params: TrailParams) -> Iterator[Effect]:
    name = _first(event.request, "name", "trailName")
    if name is None:
        return
    if event.name == "StopLogging":
        yield Effect(name, M, N, "logging stopped")
    elif event.name == "StartLogging":
        yield Effect(name, None, None, "logging started")
    elif event.name == "DeleteTrail":
        yield Effect(name, None, A, "trail deleted")
    elif event.name == "CreateTrail":
        yield Effect(name, A, N, "trail created (not logging until StartLogging)")
    elif event.name == "UpdateTrail":
        off = event.request.get("isMultiRegionTrail") is False or (
            params.require_log_file_validation
            and event.request.get("enableLogFileValidation") is False
        )
        yield Effect(name, None, N if off else None, "trail settings changed")
    elif event.name == "PutEventSelectors":
        yield Effect(name, None, None, "event selectors changed")


def trail_since(ctx: ScopeContext[Any], item: Item) -> tuple[str, str] | None:
    for trail in ctx.get(TRAILS):
        if trail.arn == item.resource and trail.started_logging:
            return trail.started_logging, "GetTrailStatus StartLoggingTime"
    return None


# ---------------------------------------------------------------- EC2 and RDS


def _permission_groups(request: Mapping[str, Any], change: str) -> list[str]:
    block = (request.get("createVolumePermission") or {}).get(change) or {}
    return [str(entry.get("group") or entry.get("userId")) for entry in block.get("items", [])]


def ebs_snapshot_effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
    snapshot = _first(event.request, "snapshotId") or _first(event.response, "snapshotId")
    if snapshot is None:
        return
    if event.name == "ModifySnapshotAttribute":
        added, removed = (_permission_groups(event.request, k) for k in ("add", "remove"))
        if "all" in added:
            yield Effect(snapshot, None, N, "made public (createVolumePermission add all)")
        elif "all" in removed:
            yield Effect(snapshot, N, M, "made private (createVolumePermission remove all)")
        else:
            yield Effect(snapshot, None, None, "sharing changed", neutral=True)
    elif event.name == "ResetSnapshotAttribute":
        yield Effect(snapshot, None, M, "permissions reset: private")
    elif event.name in ("CreateSnapshot", "CopySnapshot"):
        yield Effect(snapshot, A, M, "created (private)")
    elif event.name == "DeleteSnapshot":
        yield Effect(snapshot, None, A, "deleted")


def rds_snapshot_effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
    snapshot = _first(event.request, "dBSnapshotIdentifier", "dBClusterSnapshotIdentifier")
    snapshot = snapshot or _first(
        event.request, "targetDBSnapshotIdentifier", "targetDBClusterSnapshotIdentifier"
    )
    if snapshot is None:
        return
    if event.name.startswith("Modify"):
        if event.request.get("attributeName") != "restore":
            return
        if "all" in (event.request.get("valuesToAdd") or []):
            yield Effect(snapshot, None, N, "made public (restore add all)")
        elif "all" in (event.request.get("valuesToRemove") or []):
            yield Effect(snapshot, N, M, "made private (restore remove all)")
        else:
            yield Effect(snapshot, None, None, "sharing changed", neutral=True)
    elif event.name.startswith(("Create", "Copy")):
        yield Effect(snapshot, A, M, "created (private)")
    elif event.name.startswith("Delete"):
        yield Effect(snapshot, None, A, "deleted")


def _api_rule(permission: Mapping[str, Any], cidr: str) -> dict[str, Any]:
    """A CloudTrail ipPermissions entry in DescribeSecurityGroupRules' shape, for one source."""
    key = "CidrIpv6" if ":" in cidr else "CidrIpv4"
    return {
        "IpProtocol": str(permission.get("ipProtocol", "-1")),
        "FromPort": permission.get("fromPort", -1),
        "ToPort": permission.get("toPort", -1),
        key: cidr,
    }


def _permission_rules(request: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    group = str(request.get("groupId") or request.get("groupName") or "")
    for permission in (request.get("ipPermissions") or {}).get("items", []):
        ranges = [r.get("cidrIp") for r in (permission.get("ipRanges") or {}).get("items", [])]
        ranges += [r.get("cidrIpv6") for r in (permission.get("ipv6Ranges") or {}).get("items", [])]
        for cidr in filter(None, ranges):
            rule = _api_rule(permission, str(cidr))
            yield f"{group}:{rule['IpProtocol']}:{rule['FromPort']}-{rule['ToPort']}:{cidr}", rule


def security_group_effects(event: TrailEvent, params: OpenPortsParams) -> Iterator[Effect]:
    """Rules are resources: by rule id where AWS gives it (responseElements of Authorize, the
    request of Revoke and Modify), else by group, protocol, ports and source."""
    if event.name == "AuthorizeSecurityGroupIngress":
        created = (event.response.get("securityGroupRuleSet") or {}).get("items", [])
        rules = list(_permission_rules(event.request))
        for index, (key, rule) in enumerate(rules):
            rule_id = (
                str(created[index].get("securityGroupRuleId")) if index < len(created) else key
            )
            open_ = rule_exposure(rule, params.ports)
            after = N if open_ else M
            yield Effect(rule_id, A, after, f"rule added: {open_ or 'not an exposure'} ({key})")
    elif event.name == "RevokeSecurityGroupIngress":
        ids = (event.request.get("securityGroupRuleIds") or {}).get("items", [])
        for entry in ids:
            yield Effect(str(entry.get("securityGroupRuleId", entry)), None, A, "rule revoked")
        for key, _ in _permission_rules(event.request):
            yield Effect(key, None, A, "rule revoked")
    elif event.name == "ModifySecurityGroupRules":
        for change in (event.request.get("securityGroupRules") or {}).get("items", []) or (
            event.request.get("SecurityGroupRule") or []
        ):
            rule_id = str(change.get("securityGroupRuleId", ""))
            spec = change.get("securityGroupRule") or {}
            cidr = spec.get("cidrIpv4") or spec.get("cidrIpv6")
            if cidr:
                permission = {k: spec.get(k) for k in ("ipProtocol", "fromPort", "toPort")}
                open_ = rule_exposure(_api_rule(permission, str(cidr)), params.ports)
                yield Effect(rule_id, None, N if open_ else M, f"rule changed: {open_ or 'closed'}")
            else:
                yield Effect(rule_id, None, None, "rule changed")


# ---------------------------------------------------------------- Config and GuardDuty

_RECORDER = ("configurationRecorderName",)
_CONFIG = {
    "StopConfigurationRecorder": Spec(_RECORDER, M, N, "recorder stopped"),
    "StartConfigurationRecorder": Spec(_RECORDER, None, None, "recorder started"),
    "DeleteConfigurationRecorder": Spec(_RECORDER, None, A, "recorder deleted"),
    "PutConfigurationRecorder": Spec(("name",), None, None, "recorder settings changed"),
}


def recorder_since(ctx: ScopeContext[Any], item: Item) -> tuple[str, str] | None:
    status = ctx.get(CONFIG_RECORDERS).status.get(item.resource, {})
    started = status.get("lastStartTime")
    return (str(started), "DescribeConfigurationRecorderStatus lastStartTime") if started else None


def detector_effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
    detector = _first(event.request, "detectorId") or _first(event.response, "detectorId")
    if detector is None:
        return
    if event.name == "CreateDetector":
        enabled = event.request.get("enable", True) is not False
        yield Effect(detector, A, M if enabled else N, "detector created")
    elif event.name == "DeleteDetector":
        yield Effect(detector, None, A, "detector deleted")
    elif event.name == "UpdateDetector" and "enable" in event.request:
        on = event.request["enable"] is not False
        yield Effect(
            detector, None, M if on else N, "detector " + ("enabled" if on else "disabled")
        )


def detector_since(ctx: ScopeContext[Any], item: Item) -> tuple[str, str] | None:
    detector = ctx.get(GUARDDUTY_DETECTORS).get(item.resource, {})
    if not isinstance(detector, Mapping):  # the detector could not be read
        return None
    created = detector.get("CreatedAt")
    return (str(created), "GetDetector CreatedAt") if created else None


def item_time(attribute: str, field: str) -> SinceOf:
    """In effect since: a timestamp the check already keeps among the item's attributes."""

    def since(ctx: ScopeContext[Any], item: Item) -> tuple[str, str] | None:
        value = item.attributes.get(attribute)
        return (str(value), field) if value else None

    return since


# ---------------------------------------------------------------- the other checks

# Where the event's request names the resource the check's items are keyed by.
_BUCKET = ("bucketName",)


def resource_rule(keys: tuple[str, ...], names: Mapping[str, str]) -> EffectsOf:
    """Events that change an item without the request showing the outcome: listed as changes,
    the state around them taken from the neighbouring events and the as-of reading."""
    return table_rule({name: Spec(keys, None, None, what) for name, what in names.items()})


def region_rule(names: Mapping[str, tuple[State | None, State | None, str]]) -> EffectsOf:
    """Per-region settings (EBS encryption by default): the item is the region."""

    def effects(event: TrailEvent, params: Any) -> Iterator[Effect]:
        if event.name in names:
            before, after, what = names[event.name]
            yield Effect(event.region, before, after, what)

    return effects


def _standalone(request: Mapping[str, Any]) -> bool:
    """A DB instance outside an Aurora cluster: its own settings decide its verdict."""
    engine = str(request.get("engine") or "")
    return not request.get("dBClusterIdentifier") and not engine.startswith("aurora")


def _multi_az_created(request: Mapping[str, Any]) -> bool | None:
    if request.get("multiAZ") is True:
        return True
    return False if _standalone(request) else None  # MultiAZ defaults to false


def _multi_az_modified(request: Mapping[str, Any]) -> bool | None:
    # Without ApplyImmediately the change waits for the next maintenance window (ModifyDBInstance).
    return True if request.get("multiAZ") is True and request.get("applyImmediately") else None


def _encrypted_created(request: Mapping[str, Any]) -> bool | None:
    if request.get("storageEncrypted") is True:
        return True
    return False if _standalone(request) else None  # StorageEncrypted defaults to false


_INSTANCE = ("dBInstanceIdentifier",)
_DB_MULTI_AZ = {
    "CreateDBInstance": Spec(
        _INSTANCE, A, None, "DB instance created", sets={EXISTS: T}, meets=_multi_az_created
    ),
    "RestoreDBInstanceFromDBSnapshot": Spec(
        _INSTANCE, A, None, "DB instance restored", sets={EXISTS: T}, meets=_multi_az_created
    ),
    "DeleteDBInstance": Spec(_INSTANCE, None, A, "DB instance deleted"),
    "ModifyDBInstance": Spec(
        _INSTANCE,
        None,
        None,
        "DB instance Multi-AZ changed",
        meets=_multi_az_modified,
        touches=lambda request: "multiAZ" in request,
    ),
}
_DB_ENCRYPTION = {
    "CreateDBInstance": Spec(
        _INSTANCE, A, None, "DB instance created", sets={EXISTS: T}, meets=_encrypted_created
    ),
    # A restored instance takes the snapshot's encryption: the request does not show it.
    "RestoreDBInstanceFromDBSnapshot": Spec(
        _INSTANCE, A, None, "DB instance restored", sets={EXISTS: T}
    ),
    "DeleteDBInstance": Spec(_INSTANCE, None, A, "DB instance deleted"),
}


def _logging_enabled(request: Mapping[str, Any]) -> bool:
    status = request.get("BucketLoggingStatus") or {}
    return isinstance(status, Mapping) and bool(status.get("LoggingEnabled"))


def bucket_rule(created_meets: bool | None, changes: Mapping[str, Spec]) -> EffectsOf:
    """A bucket check: CreateBucket (what a new bucket has: S3 User Guide, default encryption
    SSE-S3 since January 2023 and Block Public Access on since April 2023; no logging, no
    policy), DeleteBucket, and the check's own calls."""
    created = {EXISTS: T} if created_meets is None else {EXISTS: T, MEETS: created_meets}
    return table_rule(
        {
            "CreateBucket": Spec(_BUCKET, A, None, "bucket created", sets=created),
            "DeleteBucket": Spec(_BUCKET, None, A, "bucket deleted"),
            **changes,
        }
    )


PERIOD_RULES: dict[str, PeriodRule] = {
    "iam.password_policy": PeriodRule(password_policy_effects, must_exist=True),
    "iam.root_mfa": PeriodRule(
        root_effects(
            {
                "EnableMFADevice": (None, M, "root MFA enabled"),
                "DeactivateMFADevice": (None, N, "root MFA deactivated"),
                "DeleteVirtualMFADevice": (None, None, "root virtual MFA device deleted"),
            }
        )
    ),
    "iam.root_access_keys": PeriodRule(
        root_effects(
            {
                "CreateAccessKey": (None, N, "root access key created"),
                "UpdateAccessKey": (None, None, "root access key status changed"),
                "DeleteAccessKey": (None, None, "root access key deleted"),
            }
        )
    ),
    "iam.user_mfa": PeriodRule(
        table_rule(_USER_MFA),
        judge=console_mfa,
        as_of=console_user_as_of,
        excluded={PASSWORD: False},  # left out because it has no console password
    ),
    "iam.access_key_rotation": PeriodRule(
        access_key_effects, aliases=access_key_aliases, marks=access_key_marks
    ),
    "iam.unused_credentials": PeriodRule(table_rule(_CREDENTIALS)),
    "iam.privileged_access": PeriodRule(table_rule(_PRIVILEGED)),
    "cloudtrail.enabled": PeriodRule(trail_effects, must_exist=True, since=trail_since),
    "cloudwatch.security_alarms": PeriodRule(
        resource_rule(("metricName", "alarmName", "filterName"), {})
    ),
    "s3.access_logging": PeriodRule(
        bucket_rule(
            False,
            {
                "PutBucketLogging": Spec(
                    _BUCKET, None, None, "bucket logging set", meets=_logging_enabled
                )
            },
        ),
        since=item_time("created", "ListBuckets CreationDate"),
    ),
    "s3.encryption": PeriodRule(
        bucket_rule(
            True,
            {
                "PutBucketEncryption": Spec(_BUCKET, None, M, "default encryption set"),
                # DeleteBucketEncryption resets default encryption to SSE-S3 (S3 API Reference).
                "DeleteBucketEncryption": Spec(
                    _BUCKET, None, M, "default encryption reset to SSE-S3"
                ),
            },
        )
    ),
    "s3.tls_only": PeriodRule(
        bucket_rule(
            False,
            {
                "PutBucketPolicy": Spec(_BUCKET, None, None, "bucket policy set"),
                "DeleteBucketPolicy": Spec(_BUCKET, None, N, "bucket policy deleted"),
            },
        )
    ),
    "s3.public_access_block": PeriodRule(
        bucket_rule(
            True,
            {
                "PutBucketPublicAccessBlock": Spec(
                    _BUCKET, None, None, "bucket Block Public Access set"
                ),
                "DeleteBucketPublicAccessBlock": Spec(
                    _BUCKET, None, None, "bucket Block Public Access deleted"
                ),
            },
        )
    ),
    "ec2.snapshot_public": PeriodRule(
        ebs_snapshot_effects, since=item_time("start_time", "DescribeSnapshots StartTime")
    ),
    "ec2.security_groups_open": PeriodRule(security_group_effects),
    "ec2.ebs_encryption_default": PeriodRule(
        region_rule(
            {
                "EnableEbsEncryptionByDefault": (None, M, "EBS encryption by default enabled"),
                "DisableEbsEncryptionByDefault": (None, N, "EBS encryption by default disabled"),
            }
        ),
        must_exist=True,
    ),
    "ec2.multi_az": PeriodRule(resource_rule(("autoScalingGroupName",), {})),
    "rds.snapshot_public": PeriodRule(
        rds_snapshot_effects, since=item_time("created", "DescribeDBSnapshots")
    ),
    "rds.multi_az": PeriodRule(table_rule(_DB_MULTI_AZ)),
    "rds.encryption": PeriodRule(table_rule(_DB_ENCRYPTION)),
    "elb.tls_listeners": PeriodRule(resource_rule(("listenerArn",), {})),
    "config.recorder": PeriodRule(table_rule(_CONFIG), must_exist=True, since=recorder_since),
    "guardduty.enabled": PeriodRule(detector_effects, must_exist=True, since=detector_since),
    "support.service_limits": PeriodRule(resource_rule(("quotaCode",), {})),
}


def rule_for(check: str) -> PeriodRule:
    """The check's period rule; a check without one lists its events but claims nothing."""
    return PERIOD_RULES.get(check, PeriodRule(resource_rule(("name",), {})))


def as_of_state(item: Item) -> State:
    return {Status.PASS: M, Status.FAIL: N, Status.EXCEPTION: N}.get(item.status, S.UNKNOWN)


def as_of_facets(item: Item | None) -> Facets:
    """The facets the as-of reading shows: gone (not in the population), or its verdict."""
    if item is None:
        return {EXISTS: False}
    state = as_of_state(item)
    return _STATE_FACETS.get(state, {EXISTS: True})


def judge_meets(facets: Facets) -> State:
    """The state from the generic facets: absent, the verdict, or unknown."""
    if facets.get(EXISTS) is False:
        return State.ABSENT
    if MEETS in facets:
        return State.MET if facets[MEETS] else State.NOT_MET
    return State.UNKNOWN
