"""Manifests: loading with source positions, ``${var.x}`` interpolation, validation and the
checks across files that produce the desired state of one target."""

from reconciler.manifest.loader import LoadedFile, load_desired_state, load_files
from reconciler.manifest.source import FileSystemSource, SourceTree, match_glob, match_globs

__all__ = [
    "FileSystemSource",
    "LoadedFile",
    "SourceTree",
    "load_desired_state",
    "load_files",
    "match_glob",
    "match_globs",
]
