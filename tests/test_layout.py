"""The code's shape: no import loop between evclient's modules at run time, tests independent of benchmarks/,
brands reached only through the registry."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "evclient"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """The evclient modules ``path`` imports when it is imported (not under TYPE_CHECKING, not in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in tree.body:  # module level only: a function's import runs later
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef |
                                                      ast.ClassDef) else ():
            if isinstance(inner, ast.ImportFrom):
                if inner.level:
                    base = package.split(".")
                    base = base[: len(base) - inner.level + 1]
                    target = ".".join([*base, inner.module] if inner.module else base)
                else:
                    target = inner.module or ""
                if target.startswith("evclient"):
                    found.add(target)
                    for alias in inner.names:  # ``from . import brands`` imports a module
                        found.add(f"{target}.{alias.name}")
            elif isinstance(inner, ast.Import):
                found |= {a.name for a in inner.names if a.name.startswith("evclient")}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def find_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` (as the path round it), or ``None``."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if state.get(target) is None and (loop := visit(target)) is not None:
                return loop
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (loop := visit(node)) is not None:
            return loop
    return None


def test_no_import_loop_between_evclient_modules_at_run_time() -> None:
    graph = {module_name(p): runtime_imports(p) for p in PACKAGE.rglob("*.py")}
    # A package's __init__ runs before its modules; a module importing its own package is not a loop.
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    loop = find_loop(graph)
    assert loop is None, "import loop: " + " → ".join(loop or [])
    assert find_loop({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the check sees loops


def test_core_modules_import_no_brand() -> None:
    core = [p for p in PACKAGE.glob("*.py")] + list((PACKAGE / "cli").glob("*.py"))
    for path in core:
        brands = {m for m in runtime_imports(path) if m.startswith("evclient.brands.")}
        assert not brands, f"{path.name} imports {brands}: the core reaches brands through the registry only"


def test_no_test_imports_benchmarks() -> None:
    for path in (ROOT / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n == "benchmarks" or n.startswith("benchmarks.") for n in names), path.name


def test_the_cli_and_the_demo_no_longer_import_each_other() -> None:
    app = runtime_imports(PACKAGE / "cli" / "app.py")
    assert "evclient.demo" in app and "evclient.account" in runtime_imports(PACKAGE / "cli" / "commands.py")
    assert "evclient.cli.app" not in runtime_imports(PACKAGE / "demo.py")
