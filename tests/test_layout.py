"""The package's shape: every public name resolves, no import cycles, small modules."""

import ast
from pathlib import Path

import xsq

PACKAGE = Path(xsq.__file__).parent
MAX_LINES = 250


def modules():
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def test_every_public_name_resolves():
    for name in xsq.__all__:
        assert getattr(xsq, name) is not None, name
    assert set(dir(xsq)) >= set(xsq.__all__)


def imports_of(name: str, path: Path) -> set[str]:
    """The xsq modules ``name`` imports, anywhere in its code."""
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{target}.{a.name}" for a in node.names} | {target}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xsq"):
            found.add(node.module)
    return found


def test_no_import_cycles():
    mods = modules()
    graph = {name: {m for m in imports_of(name, path) if m in mods and m != name} for name, path in mods.items()}
    graph = {k: {m for m in v if m != "xsq"} for k, v in graph.items()}  # the lazy package namespace imports nothing
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph[node]:
            assert state.get(nxt) != "open", "import cycle: " + " -> ".join([*stack, node, nxt])
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [])


def test_modules_are_small_or_say_why():
    for name, path in modules().items():
        lines = path.read_text().count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert lines <= MAX_LINES or "longer than 250 lines because" in doc, f"{name} has {lines} lines, not saying why"
