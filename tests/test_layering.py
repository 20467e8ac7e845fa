"""The import direction of docs/ARCHITECTURE.md, checked on the source (AST), so that it cannot erode:
cli -> report -> certificates -> {train, verify, explain, embed} -> bounds -> encode -> {network, domain, layers}
-> solve; no module-level import loop; the layer types and no one else dispatch on layer classes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mipnet"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, module_level_only: bool) -> set[str]:
    """The mipnet modules ``path`` imports (resolved relative imports), optionally only at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # module level includes `if TYPE_CHECKING:` blocks? no: those never run
        nodes = [n for n in nodes if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))]
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("mipnet"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("mipnet"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)  # `from pkg import submodule`
    return out


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(imported: set[str]) -> set[str]:
    return {m for m in imported if m in MODULES}


def _top(mod: str) -> str:
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else mod


#: (importer prefix, imported prefix) pairs that would point upwards
FORBIDDEN = [
    ("mipnet.train", "mipnet.cli"),
    ("mipnet.verify", "mipnet.cli"),
    ("mipnet.report", "mipnet.cli"),
    ("mipnet.certificates", "mipnet.cli"),
    ("mipnet.explain", "mipnet.cli"),
    ("mipnet.encode", "mipnet.cli"),
    ("mipnet.layers", "mipnet.cli"),
    ("mipnet.bounds", "mipnet.cli"),
    ("mipnet.embed", "mipnet.cli"),
    ("mipnet.verify", "mipnet.report"),
    ("mipnet.train", "mipnet.report"),
    ("mipnet.verify", "mipnet.certificates"),
    ("mipnet.train", "mipnet.certificates"),
    ("mipnet.encode", "mipnet.verify"),
    ("mipnet.encode", "mipnet.train"),
    ("mipnet.encode", "mipnet.bounds"),
    ("mipnet.layers", "mipnet.bounds"),
    ("mipnet.layers", "mipnet.verify"),
    ("mipnet.layers", "mipnet.train"),
    ("mipnet.network", "mipnet.encode"),
    ("mipnet.network", "mipnet.bounds"),
    ("mipnet.solve", "mipnet.encode"),
    ("mipnet.solve", "mipnet.train"),
    ("mipnet.solve", "mipnet.verify"),
]


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_no_upward_import(importer: str, imported: str) -> None:
    bad = []
    for mod, path in MODULES.items():
        if mod == importer or mod.startswith(importer + "."):
            # function-level imports count too, except the layers' lazy encode imports (allowed by design)
            for target in _imports(path, module_level_only=False):
                if target == imported or target.startswith(imported + "."):
                    bad.append(f"{mod} imports {target}")
    assert not bad, "\n".join(sorted(bad))


def test_layers_import_the_encoder_only_lazily() -> None:
    for mod, path in MODULES.items():
        if mod.startswith("mipnet.layers"):
            top = _imports(path, module_level_only=True)
            assert not any(t.startswith(("mipnet.encode", "pyomo")) for t in top), (mod, top)
            assert "import pyomo" not in "\n".join(
                line for line in path.read_text().splitlines() if not line.startswith((" ", "\t"))
            )


def test_no_module_level_import_cycle() -> None:
    graph = {m: _resolve(_imports(p, module_level_only=True)) - {m} for m, p in MODULES.items()}
    # a package's __init__ importing its own submodules is not a loop of the design: collapse packages' inits
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in graph.get(m, ()):
            if state.get(n) == 1:
                cyc = stack[stack.index(n) :] + [n]
                # an __init__ re-exporting a submodule that imports a sibling through the package is fine only
                # when every member of the loop is inside one package
                if len({_top(c) for c in cyc}) > 1:
                    cycles.append(cyc)
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "module-level import loops across packages:\n" + "\n".join(" -> ".join(c) for c in cycles)


LAYER_TYPES = (
    "Dense",
    "ReLU",
    "Conv2D",
    "Normalize",
    "Flatten",
    "MaxPool2D",
    "AvgPool2D",
    "LeakyReLU",
    "Identity",
    "GELU",
    "Tanh",
    "Sigmoid",
    "HardTanh",
)
DISPATCH = re.compile(
    r"isinstance\([^()]*\b(" + "|".join(LAYER_TYPES) + r")\b|type\([^()]*\) is (" + "|".join(LAYER_TYPES) + r")\b"
)


def test_no_isinstance_dispatch_on_layer_types_outside_the_layer_homes() -> None:
    bad = []
    for mod, path in MODULES.items():
        if mod.startswith("mipnet.layers"):
            continue
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if DISPATCH.search(line) and "nn." not in line:  # torch module classes are another library's types
                bad.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()}")
    assert not bad, "\n".join(bad)
