"""results.json's `requests` block: the auditor's request list mapped to controls and files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog.loader import Catalog
from ..catalog.requests import RequestList


def requests_block(
    catalog: Catalog, request_list: RequestList | None, controls: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Each request with the controls that answer it (their status and evidence files), the
    requests nothing answers, and request ids controls name that are not on the list.

    None when there is neither a request list nor a control naming a request.
    """
    answering: dict[str, list[Mapping[str, Any]]] = {}
    results = {c["id"]: c for c in controls}
    for control in catalog.controls:
        if control.id in results:
            for request_id in control.requests:
                answering.setdefault(request_id, []).append(results[control.id])
    if request_list is None and not answering:
        return None
    listed = [(r.id, r.description) for r in request_list.requests] if request_list else []
    listed_ids = {request_id for request_id, _ in listed}
    not_listed = [request_id for request_id in answering if request_id not in listed_ids]
    entries = [
        _entry(request_id, description, request_list is not None, answering.get(request_id, []))
        for request_id, description in listed
    ] + [_entry(request_id, "", False, answering[request_id]) for request_id in not_listed]
    return {
        "file": request_list.file_name if request_list else None,
        "path": request_list.pack_path if request_list else None,
        "sha256": request_list.sha256 if request_list else None,
        "requests": entries,
        "unanswered": [e["id"] for e in entries if not e["controls"]],
        "not_listed": not_listed,
    }


def _entry(
    request_id: str, description: str, listed: bool, controls: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    return {
        "id": request_id,
        "description": description,
        "listed": listed,
        "controls": [
            {
                "id": c["id"],
                "title": c["title"],
                "status": str(c["status"]),
                "files": [f["path"] for f in c["evidence"]],
            }
            for c in controls
        ],
    }
