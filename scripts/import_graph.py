"""The import graph of a package, counting imports inside functions too; fails on any cycle.

import-linter checks the layers; this checks what it cannot see as a whole: that no set of
modules imports each other in a circle, however deep the import sits (a function body, a
``TYPE_CHECKING`` block). It also lists every import made inside a function, each with the
comment that says why it is lazy (or ``(no reason given)``).

    python scripts/import_graph.py [PACKAGE_DIR]      # default: reconciler

Exit 0 when the graph has no cycle, 1 otherwise (each cycle is printed as a path).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    """The module as written (``reconciler.x.y`` or a third-party name)."""
    line: int
    in_function: bool
    reason: str


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _reason(lines: list[str], line: int) -> str:
    """The comment on the import's line, or the comment lines above the block of imports it
    belongs to."""
    here = lines[line - 1]
    if "#" in here:
        return here.split("#", 1)[1].strip()
    index = line - 2
    while index >= 0 and (
        lines[index].strip().startswith(("from ", "import ")) or not lines[index].strip()
    ):
        index -= 1
    above: list[str] = []
    while index >= 0 and lines[index].strip().startswith("#"):
        above.insert(0, lines[index].strip().lstrip("#").strip())
        index -= 1
    return " ".join(above)


def imports_of(root: Path, path: Path) -> Iterator[Import]:
    name = module_name(root, path)
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    reason = _reason(lines, child.lineno)
                    yield Import(name, alias.name, child.lineno, in_function, reason)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(name, is_package, child)
                for alias in child.names:
                    target = f"{base}.{alias.name}" if base else alias.name
                    reason = _reason(lines, child.lineno)
                    yield Import(name, f"{base}\0{target}", child.lineno, in_function, reason)
            yield from visit(child, inside)

    yield from visit(tree, False)


def build(root: Path) -> tuple[set[str], dict[str, set[str]], list[Import]]:
    """Modules, internal edges (importer -> imported module), and every import statement."""
    files = sorted(root.rglob("*.py"))
    modules = {module_name(root, f) for f in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    found: list[Import] = []
    for path in files:
        for imp in imports_of(root, path):
            base, _, target = imp.imported.partition("\0")
            # ``from a.b import c``: the module a.b.c when there is one, else a.b.
            written = target if target in modules else base
            found.append(Import(imp.importer, written, imp.line, imp.in_function, imp.reason))
            for module in (written, *_packages_entered(imp.importer, written)):
                if module in modules and module != imp.importer:
                    graph[imp.importer].add(module)
    return modules, graph, found


def _packages_entered(importer: str, imported: str) -> list[str]:
    """The packages whose ``__init__`` importing ``imported`` runs first: its ancestors that do
    not already hold the importer (a package is initialised before its own modules)."""
    parts = imported.split(".")
    ancestors = [".".join(parts[:n]) for n in range(2, len(parts))]
    return [a for a in ancestors if not importer.startswith(a + ".")]


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Each strongly connected component of more than one module (Tarjan), with one cycle
    through it as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                connect(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [(c, _path(graph, set(c))) for c in components]


def _path(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A cycle through the component's first module, as ``a -> b -> ... -> a``."""
    start = min(members)
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for dep in sorted(graph[node] & members):
            if dep == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if dep not in previous:
                previous[dep] = node
                queue.append(dep)
    return sorted(members)


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "reconciler").resolve()
    modules, graph, found = build(root)
    package = root.name
    edges = sum(len(v) for v in graph.values())
    lazy = list({(i.importer, i.line): i for i in found if i.in_function}.values())
    print(f"{len(modules)} modules, {edges} internal imports (function bodies included)")
    print(f"{len(lazy)} import statements inside functions:")
    for imp in sorted(lazy, key=lambda i: (i.importer, i.line)):
        where = "internal" if imp.imported.split(".")[0] == package else "third-party"
        print(f"  {imp.importer}:{imp.line} {imp.imported} ({where})")
        print(f"      why: {imp.reason or '(no reason given)'}")
    found_cycles = cycles(graph)
    if not found_cycles:
        print("no import cycles")
        return 0
    for component, cycle in found_cycles:
        print(f"{len(component)} modules import each other in a circle: {', '.join(component)}")
        print("  for example: " + " -> ".join(cycle))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
