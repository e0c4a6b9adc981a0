"""Manifests and the project file: loading with source positions, ``${var.x}`` interpolation,
validation and the checks across files that produce the desired state of one target."""

from reconciler.manifest.checks import LoadedFile
from reconciler.manifest.loader import load_desired_state, load_files
from reconciler.manifest.project_file import load_project
from reconciler.manifest.source import FileSystemSource, SourceTree, match_glob, match_globs

__all__ = [
    "FileSystemSource",
    "LoadedFile",
    "SourceTree",
    "load_desired_state",
    "load_files",
    "load_project",
    "match_glob",
    "match_globs",
]
