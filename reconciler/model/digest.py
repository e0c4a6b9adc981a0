"""The manifests a plan was computed from, as a digest a saved plan carries.

``files`` maps each input file (the project file ``reconciler.yaml`` and every manifest the
target's include globs matched), by its POSIX path relative to the project root, to the SHA-256
of its bytes. ``digest`` is the SHA-256 of the UTF-8 text made of one line
``<sha256 of the file's bytes><two spaces><path>\\n`` per file, in code-point order of the paths:
exactly what ``sha256sum`` prints for those files, sorted by path. So, in the project root,

    sha256sum reconciler.yaml manifests/a.yaml manifests/b.yaml | sha256sum

gives the digest when the paths are listed in that (sorted) order. ``apply PLAN_FILE`` refuses
a plan whose digest is not the digest of the files it plans from now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ManifestDigest(BaseModel):
    model_config = ConfigDict(frozen=True)

    digest: str
    files: dict[str, str]
    """Root-relative POSIX path -> SHA-256 (hex) of the file's bytes."""

    @classmethod
    def of_hashes(cls, files: Mapping[str, str]) -> ManifestDigest:
        ordered = sorted(files.items())
        listing = "".join(f"{sha}  {path}\n" for path, sha in ordered)
        return cls(digest=sha256_hex(listing.encode()), files=dict(ordered))

    @classmethod
    def of_bytes(cls, files: Mapping[str, bytes]) -> ManifestDigest:
        return cls.of_hashes({path: sha256_hex(data) for path, data in files.items()})

    def changes_since(self, before: ManifestDigest) -> list[str]:
        """What differs from ``before`` (the files a plan was made from), file by file:
        ``manifests/a.yaml (changed)``, ``(added)``, ``(removed)``, in path order."""
        out = []
        for path in sorted(set(self.files) | set(before.files)):
            now, then = self.files.get(path), before.files.get(path)
            if now == then:
                continue
            state = "added" if then is None else "removed" if now is None else "changed"
            out.append(f"{path} ({state})")
        return out
