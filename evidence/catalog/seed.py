"""The seed catalogue shipped inside the package, and which catalogue a command uses.

The seed is the repository's controls.yaml itself (evidence/catalog/controls.yaml links to it and
the wheel carries its content), so there is one copy to edit.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

SEED_NAME = "controls.yaml"
LOCAL_CATALOG = Path("controls.yaml")


@dataclass(frozen=True)
class CatalogChoice:
    path: Path
    seed: bool  # True: the built-in seed catalogue (no --controls and no ./controls.yaml)

    def describe(self) -> str:
        if self.seed:
            return (
                f"using the built-in seed catalogue ({self.path}); `soc-evidence init` writes a"
                " copy to edit as ./controls.yaml"
            )
        return f"using the catalogue {self.path}"


def seed_catalog_path() -> Path:
    """The installed seed catalogue as a file on disk (the package is never zipped)."""
    return Path(str(importlib.resources.files(__package__ or "evidence.catalog") / SEED_NAME))


def seed_catalog_bytes() -> bytes:
    return (importlib.resources.files(__package__ or "evidence.catalog") / SEED_NAME).read_bytes()


def choose_catalog(explicit: Path | None, cwd: Path) -> CatalogChoice:
    """--controls FILE if given; else ./controls.yaml if there is one; else the seed."""
    if explicit is not None:
        return CatalogChoice(explicit, seed=False)
    if (cwd / LOCAL_CATALOG).exists():
        return CatalogChoice(LOCAL_CATALOG, seed=False)
    return CatalogChoice(seed_catalog_path(), seed=True)
