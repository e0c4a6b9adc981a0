"""Where `import --out` writes: whole files, never a FIFO or a device, errors not tracebacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from reconciler.importer.writer import write_files
from reconciler.model.errors import ReconcilerError
from reconciler.model.resources import KindName

ENTRIES = {KindName.VECTOR_SEARCH_ENDPOINT: [{"name": "docs-vs", "type": "STANDARD"}]}


def test_writes_one_file_per_kind(tmp_path: Path) -> None:
    (path,) = write_files(ENTRIES, tmp_path / "imported", target="dev")
    assert path.name == "vector_search_endpoints.yaml"
    doc = yaml.safe_load(path.read_text())
    assert doc == {"vector_search_endpoints": [{"name": "docs-vs", "type": "STANDARD"}]}


def test_import_force_onto_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "vector_search_endpoints.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ReconcilerError, match=r"it is a FIFO \(named pipe\), not a regular file"):
        write_files(ENTRIES, tmp_path, target="dev", force=True)
    assert fifo.is_fifo()


def test_an_out_directory_that_cannot_exist_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ReconcilerError, match=r"cannot write .*file.txt/sub/vector_search"):
        write_files(ENTRIES, blocker / "sub", target="dev")
    assert blocker.read_text() == "x"
