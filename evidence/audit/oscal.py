"""`export PACK --oscal`: a pack's results as an OSCAL assessment-results document.

Built with compliance-trestle's OSCAL models (pydantic: every object is validated as it is
made), never a hand-written schema. Mapping, following NIST OSCAL's assessment-results model
(https://pages.nist.gov/OSCAL/reference/latest/assessment-results/json-reference/):

- one `result` for the pack (start/end: the collection, reviewed-controls: every control);
- one `observation` per population item (method TEST for API checks, EXAMINE for attached
  files; props: item id, account, region, resource, ARN, status), whose `relevant-evidence`
  points to a back-matter `resource` per raw file with its relative path and SHA-256;
- one `finding` per control, its target the control id with state `satisfied` (pass) or
  `not-satisfied` (reason `fail` for fail, `other` for error, manual and exception, which the
  `status` prop names), related to its items' observations.

UUIDs are derived from the pack name and item ids (uuid5), so the same pack gives the same file.
The file is written beside the pack, never inside it.
"""

from __future__ import annotations

import gc
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .. import TOOL_NAME, __version__
from ..errors import EvidenceToolError
from ..evaluate.results import read_results
from ..pack.raw import parse_utc
from .gate import require_outside, require_verified

OSCAL_SUFFIX = "_assessment-results.oscal.json"
NAMESPACE = "urn:soc-evidence:oscal"  # qualifies this tool's own property names
_UUIDS = uuid.UUID("6f1b8c1e-4a8f-5d7e-9c3b-2f0a4b6d8e10")  # this tool's uuid5 namespace
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_.\-]")


def oscal_path(pack_dir: Path, output_dir: Path) -> Path:
    return output_dir / f"{pack_dir.name}{OSCAL_SUFFIX}"


def write_oscal(pack_dir: Path, output_dir: Path) -> Path:
    """Write the OSCAL assessment results of a verified pack into `output_dir` (beside it).

    Raises NotAPackError for a folder that is not a pack or does not verify, and
    EvidenceToolError when compliance-trestle is not installed.
    """
    require_verified(pack_dir, "export it")
    target = oscal_path(pack_dir, output_dir)
    require_outside((pack_dir,), target, "--output")
    document = read_results(pack_dir)
    base = PurePosixPath(Path(os.path.relpath(pack_dir.resolve(), output_dir.resolve())).as_posix())
    with _without_cyclic_gc():
        model = assessment_results(document, base)
        content = model.oscal_serialize_json_bytes(pretty=False)
    output_dir.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content + b"\n")
    return target


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Hundreds of thousands of small model objects, none in a cycle: the cyclic collector
    would rescan them all again and again (measured: 100,000 items 40 s -> 12 s without it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _trestle() -> tuple[Any, Any, str]:
    try:
        import trestle.oscal.assessment_results as ar
        import trestle.oscal.common as common
        from trestle.oscal import OSCAL_VERSION
    except ImportError:
        raise EvidenceToolError(
            "OSCAL export needs compliance-trestle: pip install 'soc-evidence[oscal]'"
        ) from None
    return ar, common, OSCAL_VERSION


def control_token(control_id: str) -> str:
    """An OSCAL token for a control id (letters, digits, `_.-`, not starting with a digit)."""
    token = _NOT_TOKEN.sub("_", control_id)
    return token if re.match(r"[A-Za-z_]", token) else f"_{token}"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUIDS, "\x1f".join(parts)))


def assessment_results(document: Mapping[str, Any], base: PurePosixPath) -> Any:
    """The trestle model (`trestle.oscal.assessment_results.AssessmentResults`) of a results.json
    document; raw file links are relative to `base` (the pack folder seen from the output)."""
    ar, common, oscal_version = _trestle()
    run = document["run"]
    pack = run["pack"]
    as_of = parse_utc(run["as_of"])
    resources: dict[str, Any] = {}  # raw path -> back-matter resource
    observations: list[Any] = []
    findings: list[Any] = []

    def prop(name: str, value: Any) -> Any | None:
        text = str(value).strip() if value is not None else ""
        return common.Property(name=name, value=text, ns=NAMESPACE) if text else None

    def props(*pairs: tuple[str, Any]) -> list[Any]:
        return [p for p in (prop(n, v) for n, v in pairs) if p is not None]

    def evidence_for(path: str, digest: str) -> Any:
        if path not in resources:
            resources[path] = common.Resource(
                uuid=_uuid(pack, "file", path),
                title=path,
                rlinks=[
                    common.Rlink(
                        href=str(base / path),
                        media_type=_media_type(path),
                        hashes=[common.Hash(algorithm="SHA-256", value=digest)],
                    )
                ],
            )
        return common.RelevantEvidence(
            href=f"#{resources[path].uuid}", description=f"{path} (SHA-256 {digest})"
        )

    for control in document["controls"]:
        token = control_token(control["id"])
        related = []
        for item in control["items"]:
            files = _files_for(item, control["evidence"])
            observation = common.Observation(
                uuid=_uuid(pack, "item", control["id"], item["id"]),
                title=f"{control['id']}: {item['resource']}"[:500].replace("\n", " "),
                description=item.get("detail") or f"status {item['status']}",
                props=props(
                    ("control-id", control["id"]),
                    ("item-id", item["id"]),
                    ("account", item["account"]),
                    ("region", item["region"]),
                    ("resource", item["resource"]),
                    ("arn", item.get("arn")),
                    ("status", item["status"]),
                )
                or None,
                methods=["EXAMINE" if control["check"] == "manual" else "TEST"],
                relevant_evidence=[evidence_for(f["path"], f["sha256"]) for f in files] or None,
                collected=as_of,
                remarks=_exception_remarks(item.get("exception")),
            )
            observations.append(observation)
            related.append(common.RelatedObservation(observation_uuid=observation.uuid))
        findings.append(_finding(common, control, token, pack, related, props))
    result = ar.Result(
        uuid=_uuid(pack, "result"),
        title=f"SOC 2 evidence {pack}",
        description=(
            f"Automated evidence collected from AWS by {TOOL_NAME} for {run['organisation']}"
            f" ({run['scope']}), as of {run['as_of']}."
        ),
        start=parse_utc(run["started"]),
        end=parse_utc(run["finished"]),
        props=props(
            ("pack", pack),
            ("scope", run["scope"]),
            ("caller-arn", run["caller_arn"]),
            ("accounts", " ".join(a["account_id"] for a in run["accounts"])),
            ("regions", " ".join(run["regions"])),
        ),
        reviewed_controls=common.ReviewedControls(
            control_selections=[
                common.ControlSelections(
                    include_controls=[
                        common.SelectControlById(control_id=control_token(c["id"]))
                        for c in document["controls"]
                    ]
                )
            ]
        ),
        observations=observations or None,
        findings=findings or None,
    )
    metadata = common.Metadata(
        title=f"SOC 2 evidence: {run['organisation']} ({pack})",
        last_modified=_moment(run.get("evaluated_at") or run["as_of"]),
        version=pack,
        oscal_version=oscal_version,
        props=props(("tool", f"{TOOL_NAME} {__version__}")),
    )
    results = ar.AssessmentResults(
        uuid=_uuid(pack, "assessment-results"),
        metadata=metadata,
        import_ap=ar.ImportAp(
            href=str(base / "controls.yaml"),
            remarks="No OSCAL assessment plan: the pack's control catalogue is the plan.",
        ),
        results=[result],
        back_matter=common.BackMatter(resources=list(resources.values())) if resources else None,
    )
    return results


def _finding(
    common: Any,
    control: Mapping[str, Any],
    token: str,
    pack: str,
    related: list[Any],
    props: Any,
) -> Any:
    status = control["status"]
    state = "satisfied" if status == "pass" else "not-satisfied"
    reason = {"pass": "pass", "fail": "fail"}.get(status, "other")
    errors = [
        f"{e['operation']} {e['code']} ({e['account']}/{e['region']})" for e in control["errors"]
    ]
    return common.Finding(
        uuid=_uuid(pack, "control", control["id"]),
        title=f"{control['id']}: {control['title']}",
        description=control.get("description") or control["title"],
        props=props(
            ("control-id", control["id"]),
            ("check", control["check"]),
            ("status", status),
            ("criteria", " ".join(control["criteria"])),
            ("population", control["population"]),
            ("failing", len(control["failing"])),
        ),
        target=common.FindingTarget(
            type="objective-id",
            target_id=token,
            status=common.ObjectiveStatus(state=state, reason=reason),
        ),
        related_observations=related or None,
        remarks=("Could not be collected: " + "; ".join(errors)) if errors else None,
    )


def _files_for(item: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The raw files an item was read from: those of its account and region
    (raw/<account>/<region>/...), else of its account, else all of the control's."""

    def under(*parts: str) -> list[Any]:
        prefix = "/".join(parts) + "/"
        return [f for f in evidence if f["path"].startswith(prefix)]

    return (
        under("raw", item["account"], item["region"])
        or under("raw", item["account"])
        or list(evidence)
    )


def _media_type(path: str) -> str:
    return {".json": "application/json", ".csv": "text/csv"}.get(
        PurePosixPath(path).suffix, "application/octet-stream"
    )


def _moment(text: str) -> datetime:
    return parse_utc(text)


def _exception_remarks(exception: Any) -> str | None:
    if not isinstance(exception, Mapping):
        return None
    fields = ", ".join(f"{k}: {v}" for k, v in exception.items() if v not in (None, ""))
    return f"Accepted risk (exception): {fields}"
