"""scripts/import_graph.py: cycles are found however deep the import sits, and the package has
none."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "import_graph.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module
    spec.loader.exec_module(module)
    return module


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_cycle_through_a_function_body_is_found(tmp_path: Path) -> None:
    graph = _script()
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    # lazy: test\n    from pkg.a import x\n",
        },
    )
    _, edges, found = graph.build(package)
    assert graph.cycles(edges) == [(["pkg.a", "pkg.b"], ["pkg.a", "pkg.b", "pkg.a"])]
    lazy = [i for i in found if i.in_function]
    assert [(i.importer, i.imported, i.reason) for i in lazy] == [("pkg.b", "pkg.a", "lazy: test")]


def test_importing_a_module_runs_its_package_init_first(tmp_path: Path) -> None:
    """``from pkg.sub.m import x`` from outside ``pkg.sub`` runs ``pkg/sub/__init__.py``: a
    cycle through it is real even though no line names the package."""
    graph = _script()
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "",
            "sub/m.py": "x = 1\n",
            "other.py": "from pkg.sub.m import x\n",
        },
    )
    _, edges, _ = graph.build(package)
    assert graph.cycles(edges) == []
    (package / "sub" / "__init__.py").write_text("from pkg import other\n")
    _, edges, _ = graph.build(package)
    assert [component for component, _ in graph.cycles(edges)] == [["pkg.other", "pkg.sub"]]


def test_reconciler_has_no_import_cycle_and_says_why_each_import_is_lazy() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(REPO / "reconciler")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert "no import cycles" in done.stdout
    assert "(no reason given)" not in done.stdout
