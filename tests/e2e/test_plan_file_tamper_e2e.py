"""Tamper suite: every way of editing a saved plan file (or what it was planned from) is refused
by ``apply PLAN_FILE`` with exit 1, a message naming the first difference, and nothing written:
the sandbox's whole state (every object of its database) is the same before and after.

One project is applied and planned once (three changes, in order: a quota, an alias move, the
endpoint serving that alias); each case runs on a copy of it. The last case applies the
untouched file, so the refusals are not a refusal of everything.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import FAST_DELAYS, edit, live_client, plan_exit, run, seed, state_dir

CLF = "main.support.intent_classifier"
ALIAS = f"model_alias.{CLF}@challenger"
ENDPOINT = "serving_endpoint.support-intent"
QUOTA = "quota.databricks-meta-llama-3-3-70b-instruct"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example project applied, then edited and planned to ``plan.json`` (not applied)."""
    from fixtures.project import copy_example_project

    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAST_DELAYS.items():
            patch.setenv(key, value)
        root = copy_example_project(tmp_path_factory.mktemp("tamper") / "project")
        seed(root)
        assert run(root, "apply", "--auto-approve").exit_code == 0
        edit(root / "manifests" / "models.yaml", "challenger: 3", "challenger: 2")
        edit(root / "manifests" / "quotas.yaml", "tokens_per_minute: 20000", "tokens_per_minute: 1")
        saved = run(root, "plan", "-o", str(root / "plan.json"))
        assert saved.exit_code == 0, saved.output
        yield root


@pytest.fixture
def project(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in FAST_DELAYS.items():
        monkeypatch.setenv(key, value)
    copy = tmp_path / "project"
    shutil.copytree(base, copy)
    return copy


def snapshot(project: Path) -> list[tuple[str, str, str]]:
    """Every object the sandbox holds (the server is not running between commands)."""
    with closing(sqlite3.connect(state_dir(project) / "sandbox.db")) as conn:
        rows = conn.execute("SELECT collection, key, doc FROM objects ORDER BY 1, 2").fetchall()
    return [(str(c), str(k), str(d)) for c, k, d in rows]


def load(project: Path) -> Doc:
    doc: Doc = json.loads((project / "plan.json").read_text())
    return doc


def save(project: Path, doc: Doc) -> None:
    (project / "plan.json").write_text(json.dumps(doc, indent=2))


def count(doc: Doc) -> None:
    """Keep the summary true to the edited changes (else the summary check answers first)."""
    summary = dict.fromkeys(("create", "update", "replace", "delete", "adopt"), 0)
    for change in doc["changes"]:
        summary[change["action"]] += 1
    doc["summary"] = summary


def edit_plan(change: Callable[[Doc], None], *, recount: bool = True) -> Callable[[Path], None]:
    def apply_edit(project: Path) -> None:
        doc = load(project)
        change(doc)
        if recount:
            count(doc)
        save(project, doc)

    return apply_edit


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """``changes.0.action`` = value, on the plan document."""

    def setter(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value

    return setter


def _swap_first_two(doc: Doc) -> None:
    doc["changes"][0], doc["changes"][1] = doc["changes"][1], doc["changes"][0]


def _add_delete_of_the_index(doc: Doc) -> None:
    doc["changes"].append(
        {
            "address": "vector_index.main.support.docs_index",
            "kind": "vector_index",
            "name": "main.support.docs_index",
            "action": "delete",
            "diffs": [{"path": "name", "before": "main.support.docs_index", "after": None}],
            "depends_on": [],
            "reason": "cleanup",
        }
    )


def _add_delete_of_nobodys_endpoint(doc: Doc) -> None:
    doc["changes"].append(
        {
            "address": "serving_endpoint.databricks-bge-large-en",
            "kind": "serving_endpoint",
            "name": "databricks-bge-large-en",
            "action": "delete",
        }
    )


def _forge_digest(doc: Doc) -> None:
    doc["manifests"]["digest"] = "0" * 64


def _rehash_reconciler_yaml(doc: Doc) -> None:
    """A careful forger updates the file's hash too: the digest no longer matches the files."""
    doc["manifests"]["files"]["reconciler.yaml"] = "1" * 64


def _edit_file(name: str, old: str, new: str) -> Callable[[Path], None]:
    def apply_edit(project: Path) -> None:
        edit(project / name, old, new)

    return apply_edit


def _add_manifest(project: Path) -> None:
    (project / "manifests" / "extra.yaml").write_text(
        "vector_search_endpoints:\n  - name: extra-vs\n"
    )


def _move_alias_live(project: Path) -> None:
    with live_client(project) as client:
        client.registered_models.set_alias(CLF, "challenger", 1)


def _write(text: str | bytes) -> Callable[[Path], None]:
    def apply_edit(project: Path) -> None:
        path = project / "plan.json"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return apply_edit


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "action edited to delete": (
        edit_plan(_set("changes.1.action", "delete")),
        f"change 2 ({ALIAS}): action is delete in the plan file, update now",
    ),
    "action edited, summary left as it was": (
        edit_plan(_set("changes.1.action", "delete"), recount=False),
        "its summary (0 create, 0 adopt, 3 update, 0 replace, 0 delete) does not count its"
        " changes (0 create, 0 adopt, 2 update, 0 replace, 1 delete)",
    ),
    "value in a diff": (
        edit_plan(_set("changes.1.diffs.0.after", 1)),
        f"change 2 ({ALIAS}): field version is 3 -> 1 in the plan file, 3 -> 2 now",
    ),
    "value in the desired document only": (
        edit_plan(_set("changes.1.desired.version", 1)),
        f"change 2 ({ALIAS}): the desired document differs at version",
    ),
    "value's JSON type": (
        edit_plan(_set("changes.1.desired.version", 2.0)),
        f"change 2 ({ALIAS}): the desired document differs at version",
    ),
    "address": (
        edit_plan(_set("changes.1.address", f"model_alias.{CLF}@champion")),
        f"change 2 is model_alias.{CLF}@champion in the plan file, {ALIAS} now;"
        f" model_alias.{CLF}@champion has no change planned now",
    ),
    "kind": (
        edit_plan(_set("changes.0.kind", "serving_endpoint")),
        f"change 1 ({QUOTA}): kind is serving_endpoint in the plan file, quota now",
    ),
    "depends_on": (
        edit_plan(_set("changes.2.depends_on", [])),
        f'change 3 ({ENDPOINT}): depends_on is [] in the plan file, ["{ALIAS}", ',
    ),
    "reason": (
        edit_plan(_set("changes.0.reason", "harmless")),
        f'change 1 ({QUOTA}): reason is "harmless" in the plan file, null now',
    ),
    "carried fields": (
        edit_plan(_set("changes.2.carried", ["served_entities.champion.instance_profile_arn"])),
        f'change 3 ({ENDPOINT}): carried is ["served_entities.champion.instance_profile_arn"]'
        " in the plan file, [] now",
    ),
    "added change: delete of this project's index": (
        edit_plan(_add_delete_of_the_index),
        "change 4 (vector_index.main.support.docs_index, delete) is in the plan file but is"
        " not planned now",
    ),
    "added change: delete of an endpoint nobody owns": (
        edit_plan(_add_delete_of_nobodys_endpoint),
        "change 4 (serving_endpoint.databricks-bge-large-en, delete) is in the plan file",
    ),
    "dropped change": (
        edit_plan(lambda doc: doc["changes"].pop()),
        f"change 3 ({ENDPOINT}, update) is planned now but is not in the plan file",
    ),
    "reordered changes": (
        edit_plan(_swap_first_two),
        f"change 1 is {ALIAS} in the plan file, {QUOTA} now; {ALIAS} is change 2 now",
    ),
    "project": (
        edit_plan(_set("project", "billing")),
        "was made for project 'billing', not 'support-assistant'",
    ),
    "target": (
        edit_plan(_set("target", "prod")),
        "was made for target 'prod', not 'sandbox'",
    ),
    "fingerprint": (
        edit_plan(_set("fingerprint", "0" * 64)),
        "is stale: the live workspace changed since it was planned",
    ),
    "manifest digest": (
        edit_plan(_forge_digest),
        "was planned from other manifests: the digest in the file does not match its files",
    ),
    "manifest file hash": (
        edit_plan(_rehash_reconciler_yaml),
        "was planned from other manifests: reconciler.yaml (changed)",
    ),
    "manifest digest removed": (
        edit_plan(lambda doc: doc.pop("manifests")),
        "records no manifest digest",
    ),
    "format_version": (
        edit_plan(_set("format_version", "2")),
        "has plan format '2'; this reconciler reads '1'",
    ),
    "manifests changed after saving": (
        _edit_file("manifests/serving.yaml", "cost_center: cc-4711", "cost_center: cc-9"),
        "was planned from other manifests: manifests/serving.yaml (changed)",
    ),
    "manifest added after saving": (
        _add_manifest,
        "was planned from other manifests: manifests/extra.yaml (added)",
    ),
    "reconciler.yaml changed after saving": (
        _edit_file("reconciler.yaml", "default_target: sandbox", "default_target: sandbox  # x"),
        "was planned from other manifests: reconciler.yaml (changed)",
    ),
    "live state changed since planning": (
        _move_alias_live,
        f"is stale: the live workspace changed since it was planned (change 2 ({ALIAS}): field"
        " version is 3 -> 2 in the plan file, 1 -> 2 now)",
    ),
    "not JSON": (_write('{"format_version": "1", '), "is not JSON (line 1"),
    "binary noise": (_write(b"\x00\xff\xfe garbage"), "is not UTF-8 text"),
    "nested too deep": (
        _write('{"target": "sandbox", "changes": [], "x": ' + "[" * 5000 + "]" * 5000 + "}"),
        "nests more than 64 levels deep",
    ),
    "not a plan": (_write('{"hello": "world"}'), "is not a reconciler plan"),
    "wrong shape inside": (
        edit_plan(_set("changes.0.diffs", "everything")),
        "invalid plan at changes.0.diffs",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tampered_plan_is_refused_with_nothing_written(project: Path, case: str) -> None:
    tamper, expected = CASES[case]
    tamper(project)
    before = snapshot(project)
    result = run(project, "apply", "--allow-delete", str(project / "plan.json"))
    assert result.exit_code == 1, result.output
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert snapshot(project) == before, "apply wrote to the workspace"
    assert "applied" not in result.stdout


def test_untouched_plan_file_applies_and_converges(project: Path) -> None:
    result = run(project, "apply", str(project / "plan.json"))
    assert result.exit_code == 0, result.output
    assert plan_exit(project)[0] == 0
    with live_client(project) as client:
        assert client.model_versions.get_by_alias(CLF, "challenger").version == 2
