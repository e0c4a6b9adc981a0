"""The manifest digest is what ``sha256sum`` prints for the inputs, sorted by path, hashed
again; changes between two digests are named file by file. (Which files a target's plan
includes is tested in tests/manifest/test_digest.py.)"""

from __future__ import annotations

import hashlib

from reconciler.model.digest import ManifestDigest


def test_the_digest_is_the_hash_of_the_sha256sum_listing_in_path_order() -> None:
    files = {"reconciler.yaml": b"project: p\n", "manifests/a.yaml": b"quotas: []\n"}
    digest = ManifestDigest.of_bytes(files)
    listing = "".join(f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files))
    assert digest.digest == hashlib.sha256(listing.encode()).hexdigest()
    assert list(digest.files) == ["manifests/a.yaml", "reconciler.yaml"]


def test_the_order_files_are_given_in_does_not_matter() -> None:
    a = ManifestDigest.of_bytes({"x": b"1", "y": b"2"})
    b = ManifestDigest.of_bytes({"y": b"2", "x": b"1"})
    assert a == b


def test_changes_since_names_each_file_changed_added_or_removed() -> None:
    before = ManifestDigest.of_bytes({"a.yaml": b"1", "b.yaml": b"2", "c.yaml": b"3"})
    now = ManifestDigest.of_bytes({"a.yaml": b"1", "b.yaml": b"2!", "d.yaml": b"4"})
    assert now.changes_since(before) == ["b.yaml (changed)", "c.yaml (removed)", "d.yaml (added)"]
    assert now.changes_since(now) == []
