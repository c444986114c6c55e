"""The package's layers stay true (ARCHITECTURE.md): no import cycle among agentfakes
modules, type-only imports included, and no import that goes up the layer order.

Parsed with `ast`, so an import inside `if TYPE_CHECKING:` or a function body counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agentfakes"

# Lower layers never import higher ones. "side" modules depend on layer 0 (and on each
# other); only the façade and above may import them.
LAYERS: dict[str, int] = {
    "models": 0,
    "errors": 0,
    "seeding": 0,
    "options": 0,  # validation at the edge (errors only)
    "script": 1,
    "clocks": 1,
    "engine": 2,
    "faults": 2,
    "api": 3,
    "transports": 4,
    "server": 5,
    "recording": 5,
    "drift": 5,
    "strategies": 5,  # Hypothesis strategies + the per-example server helper
    "pytest_plugin": 6,
    "cli": 6,
    "__main__": 6,
    "__init__": 6,
    "clock": 6,  # 0.1 import-path alias of clocks
    "virtual_time": 6,  # 0.1 import-path alias of clocks.virtual
}
SIDE = {"factories", "assertions", "failure_messages", "agent", "_observed", "_observed_turns"}
SIDE_RANK = 0.5  # imports layer 0; imported by layer 5 and above
SIDE_VISIBLE_FROM = 5


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    """The top-level room of a module: `agentfakes.api.runs` → `api`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def rank(module: str) -> float:
    name = room(module)
    if name in SIDE:
        return SIDE_RANK
    if name not in LAYERS:
        raise AssertionError(
            f"{module} is in no layer: add {name!r} to LAYERS or SIDE in tests/test_layers.py "
            "(and to ARCHITECTURE.md)"
        )
    return LAYERS[name]


def imports_of(module: str) -> set[str]:
    """Every agentfakes module `module` imports, wherever the import statement is."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import submodule` imports the submodule; `from pkg import name`, pkg
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("agentfakes") and name != module:
                found.add(name)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        rank(module)


def test_no_import_goes_up_a_layer() -> None:
    upward = []
    for module, imported in GRAPH.items():
        for target in imported:
            if room(target) == room(module) or target == "agentfakes":
                continue
            mine, theirs = rank(module), rank(target)
            if theirs == SIDE_RANK and mine != SIDE_RANK and mine < SIDE_VISIBLE_FROM:
                upward.append(f"{module} (layer {mine}) imports side module {target}")
            elif theirs > mine:
                upward.append(f"{module} (layer {mine}) imports {target} (layer {theirs})")
    assert not upward, "imports that go up the layer order:\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles (type-only imports count):\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small_or_say_why(module: str) -> None:
    """One concept per module: past ~400 lines the docstring must say why it is one."""
    source = MODULES[module].read_text(encoding="utf-8")
    lines = source.count("\n")
    if lines <= 420:
        return
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert "one module" in docstring.lower(), (
        f"{module} has {lines} lines: split it by job, or say in its docstring why it stays "
        "one module"
    )


def test_importing_agentfakes_does_not_import_pytest() -> None:
    import subprocess
    import sys

    code = "import sys, agentfakes; print('pytest' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
