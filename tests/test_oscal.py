"""`export PACK --oscal`: OSCAL assessment results, read back and validated by trestle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.common import SelectControlById

from evidence.audit.oscal import control_token
from evidence.pack.builder import sha256_file
from tests.conftest import CORE, collect_pack, emulated_aws
from tests.faultproxy import FaultProxy
from tests.test_pack import small_company


@pytest.fixture(scope="module")
def sealed(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("oscal")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        small_company(aws)
        _, pack = collect_pack(tmp / "output", *CORE, "--region", "us-east-1")
    return pack


def test_oscal_assessment_results_validate_and_point_to_hashed_raw_files(
    sealed: Path, cli: Any
) -> None:
    run = cli("export", str(sealed), "--oscal")
    assert run.code == 0, run.err
    path = sealed.parent / f"{sealed.name}_assessment-results.oscal.json"
    assert f"OSCAL assessment results: {path}" in run.out
    model = AssessmentResults.oscal_read(path)  # trestle's own models validate every field
    assert isinstance(model, AssessmentResults)
    results = json.loads((sealed / "results.json").read_text())
    (result,) = model.results
    items = [(c, i) for c in results["controls"] for i in c["items"]]
    assert len(result.observations or []) == len(items) > 5
    assert len(result.findings or []) == len(results["controls"])
    back_matter = model.back_matter.resources if model.back_matter else None
    resources = {r.uuid: r for r in back_matter or []}
    for observation, (_, item) in zip(result.observations or [], items, strict=True):
        props = {p.name: p.value for p in observation.props or []}
        assert props["item-id"] == item["id"] and props["status"] == item["status"]
        assert observation.methods == ["TEST"]
        for evidence in observation.relevant_evidence or []:
            assert evidence.href is not None
            (link,) = resources[evidence.href.removeprefix("#")].rlinks or []
            (digest,) = link.hashes or []
            # The link resolves from the OSCAL file's folder, and the hash is the file's.
            assert sha256_file(path.parent / link.href) == digest.value
            assert link.href.startswith(f"{sealed.name}/raw/{item['account']}/")
    statuses = {c["id"]: c["status"] for c in results["controls"]}
    for finding in result.findings or []:
        control_id = finding.target.target_id
        expected = "satisfied" if statuses[control_id] == "pass" else "not-satisfied"
        assert finding.target.status is not None
        assert finding.target.status.state.value == expected
        observations = {o.observation_uuid for o in finding.related_observations or []}
        count = next(c["population"] for c in results["controls"] if c["id"] == control_id)
        assert len(observations) == count
    # Same pack, same bytes; the pack itself is untouched.
    first = path.read_bytes()
    assert cli("export", str(sealed), "--oscal").code == 0 and path.read_bytes() == first
    assert cli("verify", str(sealed)).code == 0


def test_control_ids_become_oscal_tokens() -> None:
    for control_id in ("IAM-01", "CC 6.1 / logical access", "1.4", "ÄCC-01"):
        token = control_token(control_id)
        SelectControlById.model_validate({"control-id": token})  # raises unless a valid token
    assert control_token("IAM-01") == "IAM-01"


def test_oscal_export_of_a_folder_that_is_not_a_pack(cli: Any, tmp_path: Path) -> None:
    run = cli("export", str(tmp_path), "--oscal")
    assert run.code == 2 and "not an evidence pack" in run.err and "Traceback" not in run.err
