"""Packaging: the wheel builds and works outside the clone, the library API type-checks under
mypy --strict in user code, the licence is the one declared, README cites only real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, REPO_CONTROLS

USER_CODE = """\
from pathlib import Path

from evidence.api import PackOutcome, collect, evaluate_pack, verify_pack


def run() -> Path:
    outcome: PackOutcome = collect("controls.yaml", regions=["us-east-1"], share_mode="group")
    results = evaluate_pack(outcome.path)
    print(results["summary"], outcome.exit_code)
    if not verify_pack(outcome.path).intact:
        raise SystemExit(1)
    return outcome.path
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (built,) = dist.glob("soc_evidence-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment (no pip, no clone on its path) with only the wheel installed in it;
    its dependencies come from the test's own environment through PYTHONPATH."""
    root = tmp_path_factory.mktemp("env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "v")], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = root / "v" / "lib" / version / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        check=True,
    )
    return root / "v"


def test_the_wheel_carries_the_seed_catalogue_py_typed_and_the_licence(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("evidence/catalog/controls.yaml") == REPO_CONTROLS.read_bytes()
        assert "evidence/py.typed" in names
        (licence,) = [n for n in names if n.endswith("/LICENSE")]
        assert archive.read(licence) == (REPO / "LICENSE").read_bytes()


def _dependencies_path() -> str:
    """The test environment's site-packages, minus this clone (the editable install)."""
    return os.pathsep.join(p for p in sys.path if "site-packages" in p)


def test_the_installed_wheel_works_outside_the_clone_with_its_seed(
    installed: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": _dependencies_path()}
    python = str(installed / "bin" / "python")
    where = subprocess.run(
        [python, "-c", "import evidence; print(evidence.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr
    run = subprocess.run(
        [python, "-m", "evidence", "controls"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "using the built-in seed catalogue" in run.stderr
    assert str(installed) in run.stderr
    assert "29 controls" in run.stdout


def test_user_code_using_the_api_is_clean_under_mypy_strict(
    installed: Path, tmp_path: Path
) -> None:
    script = tmp_path / "user.py"
    script.write_text(USER_CODE)

    def mypy() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--python-executable",
                str(installed / "bin" / "python"),
                str(script),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    clean = mypy()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # ...and it is really checked: the API's types are not Any.
    script.write_text(USER_CODE + "\nwrong: int = verify_pack('p')\n")
    typed = mypy()
    assert typed.returncode == 1
    assert 'expression has type "VerifyReport", variable has type "int"' in typed.stdout


def test_the_api_names_what_it_exports() -> None:
    import evidence.api

    assert {"collect", "evaluate_pack", "verify_pack"} <= set(evidence.api.__all__)
    assert all(hasattr(evidence.api, name) for name in evidence.api.__all__)


def test_the_licence_file_is_the_declared_apache_2() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text


def test_readme_cites_only_files_the_repository_has() -> None:
    readme = (REPO / "README.md").read_text()
    cited = set(re.findall(r"`([\w./-]+\.(?:py|toml|yaml|md|txt|cfg))`", readme))
    cited |= {m.replace(".", "/") + ".py" for m in re.findall(r"python -m (bench\.\w+)", readme)}
    cited |= set(re.findall(r"`((?:\.ci|bench|tests|evidence)/[\w./-]*)`", readme))
    in_pack = {"results.json", "README.txt", "manifest.json", "controls.yaml", "run.json"}
    missing = [
        name
        for name in sorted(cited)
        if Path(name).name not in in_pack
        and "<" not in name
        and not (REPO / name).exists()
        and not (REPO / "evidence" / name).exists()
        # a bare file name, after a path that gave its folder: somewhere in the package
        and not ("/" not in name and any(REPO.glob(f"evidence/**/{name}")))
    ]
    assert missing == []
    # Not published on PyPI: the README installs from a clone or a built wheel.
    assert not re.search(r"pip install '?soc-evidence\b", readme)
