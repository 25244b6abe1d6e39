"""The package's folder tree follows the data flow, and imports run one way, down that flow.

Each stage package may import the stages below it, never one above (an upward import is a cycle
waiting to happen and hides who owns what). Parsed with `ast`: no module is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "evidence"

# Top to bottom: a module may import its own stage and any stage after it, never one before.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cli", "api", "__main__"}),  # the faces: command line and library
    frozenset({"demo", "audit"}),  # the embedded account; commands on sealed packs
    frozenset({"collect"}),  # accounts, clients, recorder, scheduler: raw/
    frozenset({"assemble"}),  # results.json, exports, README.txt, seal
    frozenset({"exporters"}),  # workbook, PDF, README text, terminal tables
    frozenset({"evaluate"}),  # raw/ + catalogue -> results (pure)
    frozenset({"catalog"}),  # controls.yaml -> controls with typed parameters
    frozenset({"checks"}),  # pure rules over parsed sources
    frozenset({"sources"}),  # what to fetch, and how to read it back
    frozenset({"pack"}),  # on-disk formats: raw files, run, build folder, seal, verify
    frozenset({"model", "errors", "__init__"}),  # shared vocabulary
)
MAX_TOP_LEVEL_MODULES = 6


def _stage(module: str) -> str:
    """`evidence.collect.run` -> `collect`; `evidence` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(stage: str) -> int:
    for index, layer in enumerate(LAYERS):
        if stage in layer:
            return index
    raise AssertionError(f"evidence/{stage} is in no layer of tests/test_layers.py: place it")


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every evidence module this file imports (absolute or relative), resolved."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found.update(n for n in [target, *names] if n.startswith("evidence"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("evidence"))
    return found


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in (`evidence.checks.CHECKS` -> `evidence.checks`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_resolve(i, modules) for i in _imports(path, root)}
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _wrong_way(root: Path = PACKAGE) -> list[str]:
    wrong = []
    for module, targets in _graph(root).items():
        here = _layer(_stage(module))
        for target in targets:
            if _layer(_stage(target)) < here:
                wrong.append(f"{module} imports {target} (a stage above it)")
    return sorted(wrong)


def test_imports_run_down_the_data_flow() -> None:
    wrong = _wrong_way()
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = _graph()
    # Imports inside a package's __init__ of its own submodules are registration, not a cycle.
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target.startswith(node + "."):  # a package importing its own members
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_top_level_holds_stage_packages_and_few_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules
    for folder in PACKAGE.iterdir():
        if folder.is_dir() and (folder / "__init__.py").exists():
            _layer(folder.name)  # every stage package has a place in the flow


def test_the_checker_sees_a_wrong_way_import(tmp_path: Path) -> None:
    """A source importing a check (relative, or absolute) is caught; a downward one is not."""
    root = tmp_path / "evidence"
    for package in ("", "sources", "checks", "pack"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "pack" / "raw.py").write_text("X = 1\n")
    (root / "checks" / "base.py").write_text("from ..pack.raw import X\n")
    (root / "sources" / "good.py").write_text("from ..pack import raw\n")
    (root / "sources" / "bad.py").write_text("from ..checks.base import X\n")
    (root / "sources" / "worse.py").write_text("import evidence.checks.base\n")
    assert _wrong_way(root) == [
        "evidence.sources.bad imports evidence.checks.base (a stage above it)",
        "evidence.sources.worse imports evidence.checks.base (a stage above it)",
    ]
