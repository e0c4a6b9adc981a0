"""Inputs cannot escape the project: real symlinks, FIFOs, devices and oversized files.

The bad-input corpus (test_bad_inputs.py) checks each refusal's message and location; these
tests check what the corpus cannot: the real CLI process never hangs on a FIFO, symlinks that
stay inside the project are followed, the size limit counts bytes read (not what stat says),
and a git revision (``--ref``) follows the same rules for its symlink blobs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitops.gitrepo import commit_all, init

from manifest.helpers import run_cli, write_project
from reconciler.manifest import load_desired_state, load_project
from reconciler.manifest.git_source import GitSource
from reconciler.manifest.inputs import (
    MAX_FILE_BYTES,
    NotRegular,
    TooLarge,
    read_regular_file,
    resolve_in_tree,
    writable_dir_problem,
)
from reconciler.model.errors import ManifestError

PROJECT = "project: demo\ninclude: ['manifests/**/*.yaml']\ntargets:\n  sb: {type: sandbox}\n"
MODEL = "registered_models:\n  - name: main.s.linked\n"


def cli_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process: a hang is a failed test (timeout), not a stuck run."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"manifests/a.yaml": "quotas: []\n"}, PROJECT)
    os.mkfifo(root / "manifests" / "pipe.yaml")
    done = cli_process(root, "validate")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: reconciler.yaml:2:11: manifests/pipe.yaml is a FIFO")
    assert "Traceback" not in done.stderr


def test_plan_refuses_dev_zero_and_urandom_reached_by_symlink(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"manifests/a.yaml": "quotas: []\n"}, PROJECT)
    for device in ("/dev/zero", "/dev/urandom"):
        link = root / "manifests" / "dev.yaml"
        link.unlink(missing_ok=True)
        link.symlink_to(device)
        done = cli_process(root, "plan")
        assert done.returncode == 1, done.stderr
        assert f"manifests/dev.yaml resolves to {device}, outside the project" in done.stderr
        assert "Traceback" not in done.stderr


def test_devices_are_never_read() -> None:
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        with pytest.raises(NotRegular) as caught:
            read_regular_file(Path(device))
        assert caught.value.kind == "a character device"


def test_the_size_limit_counts_bytes_read_not_the_stat_size(tmp_path: Path) -> None:
    # /proc files are regular files whose stat size is 0 whatever they hold.
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    with pytest.raises(TooLarge):
        read_regular_file(status, limit=16)
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 100)
    assert read_regular_file(exact, limit=100) == b"x" * 100
    with pytest.raises(TooLarge):
        read_regular_file(exact, limit=99)


def test_a_symlink_inside_the_project_to_a_file_inside_is_followed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"shared/models.yaml": MODEL}, PROJECT)
    (root / "manifests").mkdir()
    (root / "manifests" / "models.yaml").symlink_to("../shared/models.yaml")
    project = load_project(root)
    desired = load_desired_state(project, "sb")
    assert "registered_model.main.s.linked" in desired.resources


@pytest.mark.parametrize("glob", ["manifests/sub/*/*.yaml", "manifests/**/*.yaml"])
def test_a_directory_linked_outside_that_a_glob_reaches_is_refused(
    tmp_path: Path, glob: str
) -> None:
    """Its manifests would otherwise vanish from the plan without a word."""
    project = PROJECT.replace("manifests/**/*.yaml", glob)
    root = write_project(tmp_path / "p", {"manifests/sub/a/m.yaml": MODEL}, project)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "m.yaml").write_text("quotas: []\n")
    (root / "manifests" / "sub" / "deep").symlink_to(tmp_path / "elsewhere")
    out = run_cli(["validate"], cwd=root)
    assert out.exit_code == 1, out.stdout
    assert "manifests/sub/deep is a symlink to" in out.stderr
    assert f"include glob {glob!r} reaches into it" in out.stderr


def test_a_linked_directory_no_glob_reaches_is_left_alone(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"manifests/a/m.yaml": MODEL}, PROJECT)
    (tmp_path / "elsewhere").mkdir()
    (root / "manifests" / "a" / "tools").symlink_to(tmp_path / "elsewhere")
    (root / "docs").mkdir()
    (root / "docs" / "linked").symlink_to(tmp_path / "elsewhere")
    narrow = PROJECT.replace("manifests/**/*.yaml", "manifests/*/*.yaml")
    (root / "reconciler.yaml").write_text(narrow)
    out = run_cli(["validate"], cwd=root)
    assert out.exit_code == 0, out.stderr


def test_a_symlinked_project_directory_still_bounds_its_links(tmp_path: Path) -> None:
    """The root is resolved: a project reached through a symlink keeps its own limits."""
    real = write_project(
        tmp_path / "real", {"manifests/a.yaml": "quotas: []\n", "shared/m.yaml": MODEL}, PROJECT
    )
    (tmp_path / "alias").symlink_to(real)
    (real / "manifests" / "b.yaml").symlink_to("../shared/m.yaml")
    out = run_cli(["validate"], cwd=tmp_path / "alias")
    assert out.exit_code == 0, out.stderr
    (tmp_path / "outside.yaml").write_text("quotas: []\n")
    (real / "manifests" / "c.yaml").symlink_to("../../outside.yaml")
    out = run_cli(["validate"], cwd=tmp_path / "alias")
    assert out.exit_code == 1
    assert "manifests/c.yaml resolves to" in out.stderr and "outside the project" in out.stderr


def test_an_oversized_file_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        {"big/huge.yaml": b"# " + b"x" * MAX_FILE_BYTES + b"\n"},
        PROJECT,
    )
    (root / "manifests").mkdir()
    (root / "manifests" / "huge.yaml").symlink_to("../big/huge.yaml")
    out = run_cli(["validate"], cwd=root)
    assert out.exit_code == 1
    assert out.stderr.startswith("error: manifests/huge.yaml:1:1: file is larger than 10 MB")


def test_state_dir_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    # /proc/self exists and is a directory, yet nobody (root included) can create files in it.
    assert writable_dir_problem(Path("/proc/self")) is not None
    assert writable_dir_problem(tmp_path / "new" / "state") is None
    root = write_project(
        tmp_path / "p",
        {"manifests/a.yaml": "quotas: []\n", "blocker": "a file\n"},
        PROJECT.replace("{type: sandbox}", "{type: sandbox, state_dir: blocker/state}"),
    )
    out = run_cli(["plan"], cwd=root)
    assert out.exception is None
    assert out.exit_code == 1
    assert out.stderr.startswith("error: reconciler.yaml:4:34: sandbox state directory blocker/st")
    assert "cannot write there" in out.stderr


def test_resolve_in_tree_follows_links_but_not_out_of_the_root() -> None:
    links = {"m/a.yaml": "../shared/a.yaml", "m/dir": "../shared", "m/out.yaml": "../../x"}
    assert resolve_in_tree("m/a.yaml", links) == "shared/a.yaml"
    assert resolve_in_tree("m/dir/b.yaml", links) == "shared/b.yaml"
    assert resolve_in_tree("m/out.yaml", links) is None
    assert resolve_in_tree("m/abs.yaml", {"m/abs.yaml": "/etc/passwd"}) is None
    with pytest.raises(OSError):
        resolve_in_tree("m/l.yaml", {"m/l.yaml": "l.yaml"})


@pytest.fixture
def linked_repo(tmp_path: Path) -> Path:
    """A committed project whose manifests hold symlink blobs of every sort."""
    repo = init(tmp_path / "repo")
    proj = write_project(repo / "proj", {"shared/models.yaml": MODEL}, PROJECT)
    (repo / "secret.yaml").write_text("quotas: []\n")
    (proj / "manifests").mkdir()
    (proj / "manifests" / "models.yaml").symlink_to("../shared/models.yaml")
    commit_all(repo, "inside link")
    return repo


def test_git_source_follows_a_symlink_blob_inside_the_project(linked_repo: Path) -> None:
    proj = linked_repo / "proj"
    desired = load_desired_state(load_project(proj), "sb", source=GitSource(proj, "HEAD"))
    assert "registered_model.main.s.linked" in desired.resources


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("../../secret.yaml", "is a symlink to ../../secret.yaml, outside the project"),
        ("/etc/hostname", "is a symlink to /etc/hostname, outside the project"),
        ("/dev/zero", "is a symlink to /dev/zero, outside the project"),
        ("../shared", "is a symlink to ../shared, which is not a file at HEAD"),
    ],
)
def test_git_source_refuses_symlink_blobs_leaving_the_project(
    linked_repo: Path, target: str, says: str
) -> None:
    proj = linked_repo / "proj"
    (proj / "manifests" / "evil.yaml").symlink_to(target)
    commit_all(linked_repo, "bad link")
    out = run_cli(["plan", "--ref", "HEAD"], cwd=proj)
    assert out.exit_code == 1, out.stderr
    assert out.exception is None
    assert out.stderr.startswith(
        f"error: reconciler.yaml:2:11: proj/manifests/evil.yaml@HEAD {says}"
    )


def test_git_source_refuses_an_oversized_blob_from_its_size(linked_repo: Path) -> None:
    proj = linked_repo / "proj"
    (proj / "manifests" / "huge.yaml").write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    commit_all(linked_repo, "huge")
    with pytest.raises(ManifestError) as caught:
        load_desired_state(load_project(proj), "sb", source=GitSource(proj, "HEAD"))
    assert str(caught.value.location) == "proj/manifests/huge.yaml@HEAD:1:1"
    assert "larger than 10 MB" in caught.value.message


def test_git_source_refuses_absolute_and_dotdot_globs(linked_repo: Path) -> None:
    source = GitSource(linked_repo / "proj", "HEAD")
    for glob in ("/etc/*.yaml", "../*.yaml"):
        with pytest.raises(Exception, match="include glob"):
            source.files([glob])
