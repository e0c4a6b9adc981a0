"""The manifest digest a plan carries is what ``sha256sum`` says of the input files: the
project file and every manifest the target's include globs match, in path order."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from reconciler.manifest import load_desired_state, load_project
from reconciler.model.digest import ManifestDigest


def _project(root: Path) -> Path:
    (root / "manifests" / "sub").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        "project: p\ninclude: ['manifests/**/*.yaml']\ntargets:\n  t: {type: sandbox}\n"
    )
    (root / "manifests" / "b.yaml").write_text("vector_search_endpoints:\n  - name: b\n")
    (root / "manifests" / "sub" / "a.yaml").write_text("vector_search_endpoints:\n  - name: a\n")
    (root / "manifests" / "notes.txt").write_text("not a manifest\n")
    return root


def test_digest_is_sha256sum_of_the_sorted_inputs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    digest = load_desired_state(load_project(root), "t").manifests
    assert digest is not None
    paths = ["manifests/b.yaml", "manifests/sub/a.yaml", "reconciler.yaml"]
    assert list(digest.files) == paths
    listing = subprocess.run(
        ["sha256sum", *paths], cwd=root, capture_output=True, check=True
    ).stdout
    assert digest.digest == hashlib.sha256(listing).hexdigest()
    for path in paths:
        assert digest.files[path] == hashlib.sha256((root / path).read_bytes()).hexdigest()


def test_any_byte_of_any_input_changes_it_and_is_named(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = load_desired_state(load_project(root), "t").manifests
    assert before is not None
    (root / "manifests" / "b.yaml").write_text("vector_search_endpoints:\n  - name: b \n")
    (root / "manifests" / "c.yaml").write_text("vector_search_endpoints: []\n")
    after = load_desired_state(load_project(root), "t").manifests
    assert after is not None and after.digest != before.digest
    assert after.changes_since(before) == ["manifests/b.yaml (changed)", "manifests/c.yaml (added)"]
    (root / "manifests" / "notes.txt").write_text("still not a manifest\n")
    assert load_desired_state(load_project(root), "t").manifests == after


def test_of_bytes_and_of_hashes_agree() -> None:
    files = {"z.yaml": b"z", "a.yaml": b"a"}
    hashed = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    assert ManifestDigest.of_bytes(files) == ManifestDigest.of_hashes(hashed)
    assert list(ManifestDigest.of_bytes(files).files) == ["a.yaml", "z.yaml"]
