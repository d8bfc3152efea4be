"""The package's shape: every public name resolves, no import cycles, small modules."""

import ast
import functools
import importlib
import re
from pathlib import Path

import xsq

PACKAGE = Path(xsq.__file__).parent


def modules():
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def test_every_public_name_resolves():
    for name in xsq.__all__:
        assert getattr(xsq, name) is not None, name
    assert set(dir(xsq)) >= set(xsq.__all__)


def is_module(dotted: str) -> bool:
    where = PACKAGE.parent.joinpath(*dotted.split("."))
    return where.with_suffix(".py").exists() or (where / "__init__.py").exists()


def statements(node: ast.AST):
    """Every statement under ``node``, at any depth (imports are statements: the expressions need no visit)."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(node, field, None) or ():
            yield child
            yield from statements(child)


@functools.cache
def imports_of(name: str, path: Path) -> set[str]:
    """The xsq modules ``name`` imports, anywhere in its code."""
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
    found = set()
    for node in statements(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = {f"{target}.{a.name}" for a in node.names}
            found |= names | ({target} if not all(map(is_module, names)) else set())  # names of the module itself
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xsq"):
            found.add(node.module)
        elif isinstance(node, ast.Import):  # import xsq.training.fit
            found |= {a.name for a in node.names if a.name.split(".")[0] == "xsq"}
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


# Each layer imports only the layers below it (the base, then core, data, training, checks, lab, cli); the
# package's public faces (xsq/__init__, __main__, losses, sklearn) sit on top.
LAYERS = ["base", "core", "data", "training", "checks", "lab", "cli", "faces"]
BASE = {"xsq.errors", "xsq.validation", "xsq.files", "xsq.memory"}
FACES = {"xsq", "xsq.__main__", "xsq.losses", "xsq.sklearn"}
MAX_TOP_LEVEL = 8


def layer_of(module: str) -> str:
    module = module.removesuffix(".__init__")
    if module in BASE:
        return "base"
    if module in FACES:
        return "faces"
    return module.split(".")[1]


def test_each_layer_imports_only_those_below_it():
    mods = modules()
    for name, path in mods.items():
        rank = LAYERS.index(layer_of(name))
        for target in imports_of(name, path):
            if target in mods or f"{target}.__init__" in mods:
                assert LAYERS.index(layer_of(target)) <= rank, f"{name} ({layer_of(name)}) imports {target}"


def test_the_top_level_is_a_few_modules_and_the_layers():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} == set(LAYERS) - {"base", "faces"}
    assert {f"xsq.{n[:-3]}" if n != "__init__.py" else "xsq" for n in top} == BASE | FACES


def test_the_core_is_one_screen_that_the_library_runs():
    lines = (PACKAGE / "core" / "net.py").read_text().count("\n")
    assert lines <= 150, lines
    from xsq.core import net
    from xsq.training import epochs, loop

    assert epochs.net.GRADIENTS["manual"] is net.manual_grad and loop.net is net


def test_every_dotted_name_in_the_docs_resolves():
    # a module path written in a docstring or the README (xsq.training.lm_policy, ...) names something that exists
    texts = [p.read_text() for p in PACKAGE.rglob("*.py")] + [(PACKAGE.parent / "README.md").read_text()]
    for name in {m for text in texts for m in re.findall(r"(?<![\w/.])xsq(?:\.[A-Za-z_]\w*)+", text)}:
        parts, obj = name.split("."), None
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for attribute in parts[i:]:
                assert hasattr(obj, attribute), name
                obj = getattr(obj, attribute)
            break
