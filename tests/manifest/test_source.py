"""Include globs select manifest files the same way on disk and in git."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.manifest import load_desired_state, load_project
from reconciler.manifest.source import FileSystemSource, SourceTree, match_glob, match_globs
from reconciler.model.errors import ManifestError


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("manifests/a.yaml", "manifests/**/*.yaml", True),
        ("manifests/x/y/a.yaml", "manifests/**/*.yaml", True),
        ("manifests/a.yml", "manifests/**/*.yaml", False),
        ("other/a.yaml", "manifests/**/*.yaml", False),
        ("manifests/x/a.yaml", "manifests/*.yaml", False),
        ("manifests/a.yaml", "./manifests/*.yaml", True),
        ("a.yaml", "*.yaml", True),
        ("m/ab.yaml", "m/a?.yaml", True),
        ("m/a.b.yaml", "m/a?b.yaml", True),
    ],
)
def test_match_glob(path: str, pattern: str, expected: bool) -> None:
    assert match_glob(path, pattern) is expected


def test_filesystem_source(tmp_path: Path) -> None:
    for rel in ["manifests/a.yaml", "manifests/sub/b.yaml", "manifests/c.txt", ".hidden/d.yaml"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    source = FileSystemSource(tmp_path, cwd=tmp_path)
    assert isinstance(source, SourceTree)
    assert source.files(["manifests/**/*.yaml", "manifests/*.yaml"]) == [
        "manifests/a.yaml",
        "manifests/sub/b.yaml",
    ]
    assert source.files(["**/*.yaml"]) == ["manifests/a.yaml", "manifests/sub/b.yaml"]
    assert source.files(["nothing/*.yaml"]) == []
    assert source.read("manifests/sub/b.yaml") == b"manifests/sub/b.yaml"
    assert source.describe("manifests/a.yaml") == "manifests/a.yaml"
    everything = ["manifests/a.yaml", "manifests/sub/b.yaml", "manifests/c.txt"]
    assert match_globs(everything, ["manifests/**/*.yaml"]) == everything[:2]


class DictSource:
    """A source with no files on disk, as a git revision is: only ``files`` and ``read``."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.data = files

    def files(self, globs: Sequence[str]) -> list[str]:
        return match_globs(self.data, globs)

    def read(self, path: str) -> bytes:
        return self.data[path]


def test_desired_state_from_any_source(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text("project: p\ntargets: {sb: {type: sandbox}}\n")
    project = load_project(tmp_path)
    source = DictSource(
        {
            "manifests/a.yaml": b"registered_models:\n  - name: c.s.m\n    aliases: {x: 1}\n",
            "manifests/b.yaml": b"registered_models:\n  - name: c.s.m\n",
            "README.md": b"not a manifest",
        }
    )
    assert isinstance(source, SourceTree)
    with pytest.raises(ManifestError) as info:
        load_desired_state(project, None, source=source)
    # Without a describe() method, paths are shown as the source lists them.
    assert str(info.value.location) == "manifests/b.yaml:2:11"
    source.data.pop("manifests/b.yaml")
    desired = load_desired_state(project, None, source=source)
    assert sorted(desired.resources) == ["model_alias.c.s.m@x", "registered_model.c.s.m"]
    assert desired.files == ("manifests/a.yaml",)
