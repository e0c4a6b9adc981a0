"""A corpus of bad inputs: each one exits 1 with one readable message naming file:line:col.

Every case runs the real CLI (`reconciler validate`) on a project written to a temporary
directory and asserts the exact location, the gist of the message and that no traceback
reaches the user.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from manifest.helpers import PROJECT, run_cli, write_project

M = "manifests/m.yaml"


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    where: str
    """Expected ``file:line:col`` right after ``error: ``."""
    says: str
    """A fragment the message must contain."""
    args: tuple[str, ...] = ()
    project: str | None = PROJECT
    extra: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], object] | None = None
    """Run on the project directory after the files are written (symlinks, FIFOs...)."""
    hides: str = ""
    """Text the message must never repeat (a plaintext credential)."""
    hint: str = ""
    """A fragment the hint line must contain."""


def m(text: str) -> dict[str, str | bytes]:
    return {M: text}


def link(rel: str, target: str) -> Callable[[Path], None]:
    """A symlink at ``rel`` in the project pointing to ``target`` (as written)."""

    def make(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / rel)

    return make


def fifo(rel: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / rel)


def unix_socket(rel: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        sock = socket.socket(socket.AF_UNIX)
        here = Path.cwd()
        os.chdir(root)  # AF_UNIX paths are short: bind relative to the project
        try:
            sock.bind(rel)
        finally:
            os.chdir(here)
            sock.close()

    return make


def project_with(lines: str) -> str:
    return f"project: demo\n{lines}"


SB = "targets:\n  sb: {type: sandbox}\n"


def endpoint(entities: str, rest: str = "") -> str:
    return f"serving_endpoints:\n  - name: ep\n    served_entities:\n{entities}{rest}"


E2 = "      - {name: a, entity: c.s.m@champion}\n      - {name: b, entity: c.s.m@challenger}\n"
DS = (
    "    delta_sync: {source_table: c.s.t,"
    " embedding_source_columns: [{name: x, model_endpoint: e}]}\n"
)
VS = "vector_search_endpoints:\n  - name: vs\n"
LEAKY = "sk-LEAKY-9f81c2"


def external(config: str, provider: str = "openai", extra: str = "") -> str:
    """An endpoint serving one external model; ``config`` is indented under external_model."""
    return endpoint(
        "      - name: gpt\n        external_model:\n          name: gpt-4o\n"
        f"          provider: {provider}\n          task: llm/v1/chat\n{config}{extra}"
    )


CASES = [
    # --- YAML itself
    Case(
        "syntax-unclosed-flow",
        m("registered_models:\n  - name: a.b.c\n    comment: [x\n"),
        f"{M}:4:1",
        "did not find expected ',' or ']'",
    ),
    Case(
        "syntax-indent",
        m("registered_models:\n  - name: a.b.c\n   comment: x\n"),
        f"{M}:3:4",
        "YAML syntax error",
    ),
    Case(
        "syntax-unterminated-quote",
        m("registered_models:\n  - name: 'a.b.c\n"),
        f"{M}:3:1",
        "quoted scalar",
    ),
    Case(
        "syntax-mapping-in-scalar",
        m("registered_models:\n  - name: a: b\n"),
        f"{M}:2:12",
        "mapping values are not allowed",
    ),
    Case("tab-indent", m("registered_models:\n\t- name: a.b.c\n"), f"{M}:2:1", "tab character"),
    Case(
        "tab-indent-nested",
        m("registered_models:\n  - name: a.b.c\n  \tcomment: x\n"),
        f"{M}:3:3",
        "tab character",
    ),
    Case(
        "duplicate-key",
        m("registered_models:\n  - name: a.b.c\n    name: a.b.d\n"),
        f"{M}:3:5",
        "duplicate key 'name' (first written at line 2)",
    ),
    Case("duplicate-top-key", m("quotas: []\nquotas: []\n"), f"{M}:2:1", "duplicate key"),
    Case(
        "non-utf8",
        {M: b"registered_models:\n  - name: a.b.c\n    comment: caf\xe9\n"},
        f"{M}:3:17",
        "not valid UTF-8",
    ),
    Case(
        "control-character",
        m("registered_models:\n  - name: a.b.c\n    comment: bell\x07\n"),
        f"{M}:3:18",
        "character U+0007 is not allowed",
    ),
    Case("utf16", {M: "quotas: []\n".encode("utf-16")}, f"{M}:1:1", "not valid UTF-8"),
    Case("empty-file", m(""), f"{M}:1:1", "manifest is empty"),
    Case("comments-only", m("# nothing here\n"), f"{M}:1:1", "manifest is empty"),
    Case("top-level-list", m("- a\n- b\n"), f"{M}:1:1", "not a list"),
    Case("top-level-scalar", m("hello\n"), f"{M}:1:1", "not a string"),
    Case(
        "huge-file",
        {M: b"# " + b"x" * (50 * 1024 * 1024) + b"\n"},
        f"{M}:1:1",
        "manifests are limited to 10 MB",
    ),
    Case(
        "alias-bomb",
        m(
            "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        ),
        f"{M}:4:29",
        "expand to more than 10000 values",
    ),
    Case("alias-self", m("a: &a [1, *a]\n"), f"{M}:1:11", "alias *a refers to itself"),
    Case("alias-undefined", m("a: *nope\n"), f"{M}:1:4", "alias *nope is not defined"),
    Case(
        "merge-key",
        m("base: &b {comment: x}\nregistered_models:\n  - <<: *b\n    name: a.b.c\n"),
        f"{M}:3:5",
        "merge keys",
    ),
    Case(
        "python-tag",
        m("registered_models:\n  - name: !!python/object:os.system a\n"),
        f"{M}:2:11",
        "unsupported YAML tag",
    ),
    Case("two-documents", m("quotas: []\n---\nquotas: []\n"), f"{M}:2:1", "second YAML document"),
    # Our own cap: 65 levels is past MAX_DEPTH and far below any YAML library's limit.
    Case("deep-nesting", m("a: " + "[" * 65 + "]" * 65 + "\n"), f"{M}:1:", "nesting deeper than"),
    # Far past every limit: whichever layer stops it (ours or the parser's own cap, whose wording
    # changes between PyYAML releases), it is one located error, exit 1, never a crash.
    Case("very-deep-nesting", m("a: " + "[" * 5000 + "]" * 5000 + "\n"), f"{M}:1:", "nesting"),
    Case("complex-key", m("? [a, b]\n: c\n"), f"{M}:1:3", "mapping key must be a plain value"),
    # --- fields and types
    Case(
        "unknown-top-level",
        m("registerd_models: []\n"),
        f"{M}:1:1",
        "unknown field 'registerd_models'; did you mean 'registered_models'?",
    ),
    Case(
        "unknown-field",
        m("registered_models:\n  - name: a.b.c\n    descripton: x\n"),
        f"{M}:3:5",
        "unknown field 'descripton' (allowed: name, comment",
    ),
    Case(
        "unknown-nested-field",
        m(endpoint("      - {name: a, entity: c.s.m@x, size: Small}\n")),
        f"{M}:4:36",
        "unknown field 'size'",
    ),
    Case(
        "wrong-type-list-for-string",
        m("registered_models:\n  - name: a.b.c\n    comment: [x]\n"),
        f"{M}:3:14",
        "comment: expected a string",
    ),
    Case(
        "wrong-type-int-for-list",
        m("registered_models: 3\n"),
        f"{M}:1:20",
        "registered_models: expected a list",
    ),
    Case(
        "wrong-type-bool",
        m(endpoint("      - {name: a, entity: c.s.m@x, scale_to_zero: maybe}\n")),
        f"{M}:4:51",
        "scale_to_zero: expected true or false",
    ),
    Case(
        "alias-version-text",
        m("registered_models:\n  - name: a.b.c\n    aliases: {champion: abc}\n"),
        f"{M}:3:25",
        "alias 'champion': the version must be a positive integer",
    ),
    Case(
        "alias-version-zero",
        m("registered_models:\n  - name: a.b.c\n    aliases:\n      champion: 0\n"),
        f"{M}:4:17",
        "positive integer",
    ),
    Case(
        "alias-long-form-bad-version",
        m("registered_models:\n  - name: a.b.c\n    aliases: {champion: {version: x}}\n"),
        f"{M}:3:35",
        "version: expected an integer",
    ),
    Case(
        "alias-long-form-typo",
        m("registered_models:\n  - name: a.b.c\n    aliases:\n      champion: {versoin: 2}\n"),
        f"{M}:4:17",
        "missing required field 'version'",
    ),
    Case(
        "alias-latest",
        m("registered_models:\n  - name: a.b.c\n    aliases:\n      latest: 1\n"),
        f"{M}:4:7",
        "alias 'latest' (any case) is reserved",
    ),
    Case(
        "alias-LATEST",
        m("registered_models:\n  - name: a.b.c\n    aliases: {LATEST: 1}\n"),
        f"{M}:3:15",
        "reserved by MLflow",
    ),
    Case(
        "alias-v1",
        m("registered_models:\n  - name: a.b.c\n    aliases:\n      v1: 1\n"),
        f"{M}:4:7",
        "alias 'v1' is reserved by MLflow for version references",
    ),
    Case(
        "alias-spaces",
        m("registered_models:\n  - name: a.b.c\n    aliases:\n      'my alias': 1\n"),
        f"{M}:4:7",
        "may only contain letters, digits",
    ),
    Case(
        "missing-name",
        m("serving_endpoints:\n  - served_entities: [{name: a, entity: c.s.m@x}]\n"),
        f"{M}:2:5",
        "missing required field 'name'",
    ),
    Case(
        "endpoint-name-spaces",
        m(endpoint(E2, "    traffic: {a: 50, b: 50}\n").replace("name: ep", "name: my endpoint")),
        f"{M}:2:11",
        "endpoint name 'my endpoint'",
    ),
    Case(
        "traffic-sum",
        m(endpoint(E2, "    traffic: {a: 50, b: 40}\n")),
        f"{M}:6:14",
        "traffic sums to 90%, not 100%",
    ),
    Case(
        "traffic-unknown-entity",
        m(endpoint(E2, "    traffic: {a: 50, c: 50}\n")),
        f"{M}:6:22",
        "traffic names 'c', which is not a served entity",
    ),
    Case(
        "traffic-out-of-range",
        m(endpoint(E2, "    traffic: {a: 120, b: -20}\n")),
        f"{M}:6:18",
        "traffic to 'a' is 120%",
    ),
    Case("traffic-missing", m(endpoint(E2)), f"{M}:4:7", "needs a traffic split"),
    Case(
        "workload-size-with-concurrency",
        m(
            endpoint(
                "      - name: a\n        entity: c.s.m@x\n        workload_size: Small\n"
                "        max_provisioned_concurrency: 4\n"
            )
        ),
        f"{M}:6:24",
        "workload_size cannot be combined with min/max_provisioned_concurrency",
    ),
    Case(
        "workload-size-lower-case",
        m(endpoint("      - name: a\n        entity: c.s.m@x\n        workload_size: small\n")),
        f"{M}:6:24",
        "workload_size 'small' is not one of Small, Medium, Large; did you mean 'Small'?",
    ),
    Case(
        "workload-size-unknown",
        m(endpoint("      - name: a\n        entity: c.s.m@x\n        workload_size: Tiny\n")),
        f"{M}:6:24",
        "set min_provisioned_concurrency and max_provisioned_concurrency instead",
    ),
    Case(
        "min-greater-than-max",
        m(
            endpoint(
                "      - name: a\n        entity: c.s.m@x\n        min_provisioned_concurrency: 8\n"
                "        max_provisioned_concurrency: 4\n"
            )
        ),
        f"{M}:6:38",
        "min_provisioned_concurrency (8) is greater than max_provisioned_concurrency (4)",
    ),
    Case(
        "too-many-entities",
        m(
            endpoint(
                "".join(
                    f"      - {{name: e{i}, entity: c.s.m, version: {i + 1}}}\n" for i in range(11)
                ),
                "    traffic: {e0: 100}\n",
            )
        ),
        f"{M}:14:9",
        "11 served entities; at most 10",
    ),
    Case(
        "duplicate-entity-names",
        m(
            endpoint(
                "      - {name: a, entity: c.s.m@x}\n      - {name: a, entity: c.s.m@y}\n",
                "    traffic: {a: 100}\n",
            )
        ),
        f"{M}:5:16",
        "served entity name 'a' is used twice",
    ),
    Case(
        "entity-alias-and-version",
        m(endpoint("      - {name: a, entity: c.s.m@x, version: 3}\n")),
        f"{M}:4:45",
        "either entity 'model@alias' or a version",
    ),
    Case(
        "entity-no-alias-no-version",
        m(endpoint("      - {name: a, entity: c.s.m}\n")),
        f"{M}:4:27",
        "needs '@alias' or a version",
    ),
    Case(
        "entity-alias-latest",
        m(endpoint("      - {name: a, entity: c.s.m@latest}\n")),
        f"{M}:4:27",
        "alias 'latest' (any case) is reserved",
    ),
    Case(
        "entity-alias-v2",
        m(endpoint("      - {name: a, entity: c.s.m@v2}\n")),
        f"{M}:4:27",
        "reserved by MLflow for version references",
    ),
    # --- external models: credentials only as secret references, known providers
    Case(
        "external-plaintext-credential",
        m(external(f"          openai_config:\n            openai_api_key_plaintext: {LEAKY}\n")),
        f"{M}:10:13",
        "openai_api_key_plaintext holds a plaintext credential",
        hides=LEAKY,
        hint="secrets put-secret SCOPE KEY",
    ),
    Case(
        "external-credential-not-a-reference",
        m(external(f"          openai_config:\n            openai_api_key: {LEAKY}\n")),
        f"{M}:10:29",
        "openai_api_key must be a secret reference {{secrets/scope/key}}",
        hides=LEAKY,
        hint="'{{secrets/SCOPE/KEY}}' in openai_api_key",
    ),
    Case(
        "external-nested-plaintext-credential",
        m(
            external(
                "          custom_provider_config:\n"
                "            custom_provider_url: https://llm.example.com/v1\n"
                f"            bearer_token_auth: {{token_plaintext: {LEAKY}}}\n",
                provider="custom",
            )
        ),
        f"{M}:11:33",
        "token_plaintext holds a plaintext credential",
        hides=LEAKY,
    ),
    Case(
        "external-reference-inside-text",
        m(
            external(
                "          anthropic_config:\n"
                "            anthropic_api_key: 'Bearer {{secrets/llm/claude}}'\n",
                provider="anthropic",
            )
        ),
        f"{M}:10:32",
        "anthropic_api_key must be a secret reference",
    ),
    Case(
        "external-unknown-provider",
        m(external("          openai_config: {openai_api_key: '{{secrets/a/b}}'}\n", "openia")),
        f"{M}:7:21",
        "unknown external model provider 'openia'; use one of ai21labs, amazon-bedrock",
    ),
    Case(
        "external-block-of-another-provider",
        m(external("          openai_config: {openai_api_key: '{{secrets/a/b}}'}\n", "anthropic")),
        f"{M}:9:11",
        "openai_config does not configure provider 'anthropic'; it takes anthropic_config",
    ),
    Case(
        "external-provider-block-missing",
        m(external("", "cohere")),
        f"{M}:7:21",
        "provider 'cohere' needs cohere_config",
    ),
    Case(
        "external-bedrock-without-credentials",
        m(
            external(
                "          amazon_bedrock_config:"
                " {aws_region: us-east-1, bedrock_provider: amazon}\n",
                "amazon-bedrock",
            )
        ),
        f"{M}:9:34",
        "needs aws_access_key_id+aws_secret_access_key or instance_profile_arn",
    ),
    Case(
        "external-with-workload-size",
        m(
            external(
                "          openai_config: {openai_api_key: '{{secrets/a/b}}'}\n",
                extra="        workload_size: Small\n",
            )
        ),
        f"{M}:10:9",
        "workload_size does not apply to an external model",
    ),
    Case(
        "external-mixed-with-model",
        m(
            external(
                "          openai_config: {openai_api_key: '{{secrets/a/b}}'}\n",
                extra="      - {name: clf, entity: c.s.m@champion}\n"
                "    traffic: {gpt: 50, clf: 50}\n",
            )
        ),
        f"{M}:10:16",
        "mixes external models with other served entities",
    ),
    Case(
        "entity-neither-model-nor-external",
        m(endpoint("      - {name: a, workload_size: Small}\n")),
        f"{M}:4:9",
        "needs entity (catalog.schema.model@alias) or external_model",
    ),
    Case(
        "throughput-with-workload-size",
        m(
            endpoint(
                "      - {name: a, entity: system.ai.llama, version: 3, workload_size: Small,"
                " max_provisioned_throughput: 950}\n"
            )
        ),
        f"{M}:4:71",
        "workload_size cannot be combined with min/max_provisioned_throughput",
    ),
    Case(
        "throughput-min-above-max",
        m(
            endpoint(
                "      - {name: a, entity: system.ai.llama, version: 3,"
                " min_provisioned_throughput: 1900, max_provisioned_throughput: 950}\n"
            )
        ),
        f"{M}:4:84",
        "min_provisioned_throughput (1900) is greater than max_provisioned_throughput (950)",
    ),
    Case(
        "notification-not-an-address",
        m(
            endpoint(
                "      - {name: a, entity: c.s.m@x}\n",
                "    email_notifications:\n      on_update_failure: [oncall@example.com, oncall]\n",
            )
        ),
        f"{M}:6:47",
        "'oncall' is not an email address",
    ),
    # --- Unity Catalog grants: privileges per securable type, one entry per principal
    Case(
        "grant-privilege-of-tables-on-a-model",
        m(
            "registered_models:\n  - name: c.s.m\n    grants:\n"
            "      - {group: agents, privileges: [EXECUTE, SELECT]}\n"
        ),
        f"{M}:4:47",
        "privilege 'SELECT' does not apply to registered models"
        " (privileges: ALL_PRIVILEGES, APPLY_TAG, EXECUTE, MANAGE)",
    ),
    Case(
        "grant-privilege-of-models-on-an-index",
        m(
            VS
            + "vector_indexes:\n  - name: c.s.idx\n    endpoint: vs\n    primary_key: id\n"
            + DS
            + "    grants:\n      - group: agents\n        privileges:\n          - EXECUTE\n"
        ),
        f"{M}:11:13",
        "privilege 'EXECUTE' does not apply to vector indexes",
    ),
    Case(
        "grant-privilege-spelled-as-sql",
        m(
            "registered_models:\n  - name: c.s.m\n    grants:\n"
            "      - {user: a@x.io, privileges: [all privileges]}\n"
        ),
        f"{M}:4:37",
        "privilege 'all privileges' is spelled 'ALL_PRIVILEGES'",
    ),
    Case(
        "grant-unknown-privilege",
        m(
            "registered_models:\n  - name: c.s.m\n    grants:\n"
            "      - {group: agents, privileges: [EXCUTE]}\n"
        ),
        f"{M}:4:38",
        "unknown privilege 'EXCUTE' for registered models; did you mean 'EXECUTE'?",
    ),
    Case(
        "grant-two-principals-in-one-entry",
        m(
            "registered_models:\n  - name: c.s.m\n    grants:\n"
            "      - {user: a@x.io, group: agents, privileges: [EXECUTE]}\n"
        ),
        f"{M}:4:24",
        "a grant names exactly one of user, group, service_principal (here: user, group)",
    ),
    Case(
        "grant-principal-twice",
        m(
            "registered_models:\n  - name: c.s.m\n    grants:\n"
            "      - {group: agents, privileges: [EXECUTE]}\n"
            "      - {group: agents, privileges: [MANAGE]}\n"
        ),
        f"{M}:5:17",
        "grants name 'agents' twice (entries 1 and 2)",
    ),
    Case(
        "grant-on-an-mlflow-target",
        m(
            "registered_models:\n  - name: m\n    grants:\n"
            "      - {group: agents, privileges: [EXECUTE]}\n"
        ),
        f"{M}:4:7",
        "MLflow registries have no Unity Catalog grants",
        args=("-t", "ml"),
    ),
    Case(
        "vs-endpoint-permission-level-of-serving",
        m(VS + "    permissions: [{group: agents, level: CAN_QUERY}]\n"),
        f"{M}:3:42",
        "level: Input should be 'CAN_CREATE', 'CAN_MANAGE' or 'CAN_USE'",
    ),
    Case(
        "vs-endpoint-external-with-target-qps",
        m(VS + "    external: true\n    target_qps: 10\n"),
        f"{M}:4:5",
        "is external (managed elsewhere); target_qps would have no effect here",
    ),
    Case(
        "storage-location-on-an-mlflow-target",
        m("registered_models:\n  - name: m\n    storage_location: s3://b/m\n"),
        f"{M}:3:23",
        "MLflow registries take no storage_location",
        args=("-t", "ml"),
    ),
    # --- per-target overrides
    Case(
        "override-for-an-unknown-target",
        m(
            "registered_models:\n  - name: c.s.m\ntargets:\n  prd:\n"
            "    registered_models: {c.s.m: {comment: x}}\n"
        ),
        f"{M}:4:3",
        "overrides for target 'prd', which reconciler.yaml does not declare",
    ),
    Case(
        "override-of-an-unknown-kind",
        m(
            "registered_models:\n  - name: c.s.m\ntargets:\n  sb:\n"
            "    registered_model: {c.s.m: {comment: x}}\n"
        ),
        f"{M}:5:5",
        "overrides of 'registered_model', which is not a manifest key",
    ),
    Case(
        "override-of-an-undeclared-asset",
        m(
            "registered_models:\n  - name: c.s.model\ntargets:\n  sb:\n"
            "    registered_models:\n      c.s.modle: {comment: x}\n"
        ),
        f"{M}:6:7",
        "override of registered model 'c.s.modle', which no manifest declares",
        hint="did you mean 'c.s.model'?",
    ),
    Case(
        "override-bad-value-at-its-line",
        m(
            "registered_models:\n  - name: c.s.m\ntargets:\n  sb:\n"
            "    registered_models:\n      c.s.m: {aliases: {champion: 0}}\n"
        ),
        f"{M}:6:35",
        "alias 'champion': the version must be a positive integer",
    ),
    Case(
        "override-in-the-project-file",
        m("registered_models:\n  - name: c.s.m\n"),
        "reconciler.yaml:3:63",
        "unknown field 'comments'; did you mean 'comment'?",
        project="project: demo\ntargets:\n  sb: {type: sandbox, overrides: {registered_models:"
        " {c.s.m: {comments: x}}}}\n",
    ),
    Case(
        "override-of-another-target-with-a-plaintext-credential",
        m(
            endpoint(
                "      - name: gpt\n        external_model:\n          name: gpt-4o\n"
                "          provider: openai\n          task: llm/v1/chat\n"
                "          openai_config: {openai_api_key: '{{secrets/llm/openai}}'}\n"
            )
            + "targets:\n  dbx:\n    serving_endpoints:\n      ep:\n        served_entities:\n"
            "          - name: gpt\n            external_model:\n"
            f"              openai_config: {{openai_api_key: {LEAKY}}}\n"
        ),
        f"{M}:17:47",
        "openai_api_key must be a secret reference {{secrets/scope/key}} (override for target"
        " 'dbx')",
        hides=LEAKY,
        hint="store the credential as a Databricks secret",
    ),
    Case(
        "project-override-of-another-target-with-a-plaintext-credential",
        m("registered_models:\n  - name: c.s.m\n"),
        "reconciler.yaml:5:126",
        "anthropic_api_key must be a secret reference",
        project="project: demo\ndefault_target: sb\ntargets:\n  sb: {type: sandbox}\n"
        "  prod: {type: sandbox,"
        " overrides: {serving_endpoints: {ep: {served_entities: [{name: c, external_model:"
        f" {{anthropic_config: {{anthropic_api_key_plaintext: {LEAKY}}}}}}}]}}}}}}}}\n",
        hides=LEAKY,
    ),
    Case(
        "entity-not-three-level",
        m(endpoint("      - {name: a, entity: model@champion}\n")),
        f"{M}:4:27",
        "'model' is not a three-level Unity Catalog name",
    ),
    Case(
        "permission-two-principals",
        m(
            endpoint(
                "      - {name: a, entity: c.s.m@x}\n",
                "    permissions:\n      - {user: a@x.com, group: g, level: CAN_QUERY}\n",
            )
        ),
        f"{M}:6:9",
        "exactly one of user, group, service_principal",
    ),
    Case(
        "permission-bad-level",
        m(
            endpoint(
                "      - {name: a, entity: c.s.m@x}\n",
                "    permissions:\n      - {group: g, level: CAN_DANCE}\n",
            )
        ),
        f"{M}:6:27",
        "level: Input should be",
    ),
    Case(
        "rate-limit-no-calls-or-tokens",
        m("quotas:\n  - endpoint: ep\n    rate_limits:\n      - {key: user}\n"),
        f"{M}:4:9",
        "needs calls_per_minute or tokens_per_minute",
    ),
    Case(
        "rate-limit-principal-with-endpoint-key",
        m(
            "quotas:\n  - endpoint: ep\n    rate_limits:\n"
            "      - {key: endpoint, principal: bob, calls_per_minute: 3}\n"
        ),
        f"{M}:4:36",
        "key 'endpoint' applies to the whole endpoint and takes no principal",
    ),
    Case(
        "rate-limit-group-without-principal",
        m(
            "quotas:\n  - endpoint: ep\n    rate_limits:\n"
            "      - {key: user_group, calls_per_minute: 3}\n"
        ),
        f"{M}:4:9",
        "needs a principal",
    ),
    Case(
        "rate-limit-bad-key",
        m(
            "quotas:\n  - endpoint: ep\n    rate_limits:\n"
            "      - {key: team, calls_per_minute: 3}\n"
        ),
        f"{M}:4:15",
        "key: Input should be 'endpoint', 'user', 'user_group' or",
    ),
    Case(
        "rate-limit-negative",
        m("quotas:\n  - endpoint: ep\n    rate_limits:\n      - {calls_per_minute: -1}\n"),
        f"{M}:4:28",
        "greater than or equal to 0",
    ),
    Case(
        "rate-limit-repeated",
        m(
            "quotas:\n  - endpoint: ep\n    rate_limits:\n      - {calls_per_minute: 1}\n"
            "      - {tokens_per_minute: 5}\n"
        ),
        f"{M}:5:9",
        "a second 'endpoint' rate limit",
    ),
    Case(
        "vs-endpoint-bad-type",
        m("vector_search_endpoints:\n  - name: vs\n    type: FAST\n"),
        f"{M}:3:11",
        "type: Input should be 'STANDARD' or 'STORAGE_OPTIMIZED'",
    ),
    Case(
        "index-both-types",
        m(
            VS + "vector_indexes:\n  - name: c.s.i\n    endpoint: vs\n"
            "    primary_key: id\n" + DS + "    direct_access: {schema: {id: long}}\n"
        ),
        f"{M}:4:5",
        "exactly one of delta_sync or direct_access",
    ),
    Case(
        "index-name-two-level",
        m(VS + "vector_indexes:\n  - name: s.i\n    endpoint: vs\n    primary_key: id\n" + DS),
        f"{M}:4:11",
        "index name 's.i' must be a three-level",
    ),
    Case(
        "index-source-table-one-level",
        m(
            VS + "vector_indexes:\n  - name: c.s.i\n"
            "    endpoint: vs\n    primary_key: id\n"
            "    delta_sync: {source_table: docs, embedding_source_columns: []}\n"
        ),
        f"{M}:7:32",
        "source_table 'docs' must be a three-level",
    ),
    Case(
        "index-without-embeddings",
        m(
            VS + "vector_indexes:\n  - name: c.s.i\n"
            "    endpoint: vs\n    primary_key: id\n    delta_sync: {source_table: c.s.t}\n"
        ),
        f"{M}:7:17",
        "needs embedding_source_columns",
    ),
    Case(
        "external-endpoint-with-tags",
        m("vector_search_endpoints:\n  - name: vs\n    external: true\n    tags: {a: b}\n"),
        f"{M}:4:5",
        "is external (managed elsewhere); tags would have no effect",
    ),
    Case(
        "direct-access-bad-type",
        m(
            VS + "vector_indexes:\n  - name: c.s.i\n    endpoint: vs\n    primary_key: id\n"
            "    direct_access:\n      schema: {id: long, vec: vector}\n"
        ),
        f"{M}:8:31",
        "column 'vec' has type 'vector'",
    ),
    Case(
        "direct-access-primary-key-not-a-column",
        m(
            VS + "vector_indexes:\n  - name: c.s.i\n    endpoint: vs\n    primary_key: pk\n"
            "    direct_access:\n      schema: {id: long}\n"
        ),
        f"{M}:6:18",
        "primary_key 'pk' is not a column",
    ),
    # --- across assets, files and targets
    Case(
        "index-on-undeclared-endpoint",
        m("vector_indexes:\n  - name: c.s.i\n    endpoint: nope\n    primary_key: id\n" + DS),
        f"{M}:3:15",
        "vector search endpoint 'nope', which is not declared",
    ),
    Case(
        "model-not-three-level",
        m("registered_models:\n  - name: intent\n"),
        f"{M}:2:11",
        "must be a three-level Unity Catalog name",
    ),
    Case(
        "model-not-three-level-databricks",
        m("registered_models:\n  - name: a.b\n"),
        f"{M}:2:11",
        "three-level",
        args=("-t", "dbx"),
    ),
    Case(
        "duplicate-model-across-files",
        {
            "manifests/a.yaml": "registered_models:\n  - name: c.s.m\n",
            "manifests/b.yaml": "# again\nregistered_models:\n  - name: c.s.m\n",
        },
        "manifests/b.yaml:3:11",
        "registered model 'c.s.m' is declared twice: here and at manifests/a.yaml:2:5",
    ),
    Case(
        "duplicate-endpoint-across-files",
        {
            "manifests/a.yaml": endpoint("      - {name: a, entity: c.s.m@x}\n"),
            "manifests/b.yaml": endpoint("      - {name: a, entity: c.s.m@y}\n"),
        },
        "manifests/b.yaml:2:11",
        "serving endpoint 'ep' is declared twice",
    ),
    Case(
        "duplicate-alias-via-interpolation",
        {
            "manifests/a.yaml": "registered_models:\n  - name: main.s.m\n",
            "manifests/b.yaml": "registered_models:\n  - name: ${var.catalog}.s.m\n",
        },
        "manifests/b.yaml:2:11",
        "declared twice",
    ),
    Case(
        "duplicate-quota",
        m(
            "quotas:\n  - endpoint: ep\n    rate_limits: [{calls_per_minute: 1}]\n"
            "  - endpoint: ep\n    rate_limits: [{calls_per_minute: 2}]\n"
        ),
        f"{M}:4:5",
        "quota for endpoint 'ep' is declared twice",
    ),
    Case(
        "mlflow-target-with-serving-endpoint",
        m("registered_models:\n  - name: m\n" + endpoint("      - {name: a, entity: m@x}\n")),
        f"{M}:3:1",
        "target 'ml' is an mlflow registry, which holds only registered_models",
        args=("-t", "ml"),
    ),
    Case(
        "mlflow-target-with-model-owner",
        m("registered_models:\n  - name: m\n    owner: ml-team\n"),
        f"{M}:3:12",
        "registered model 'm': MLflow registries have no model owner",
        args=("-t", "ml"),
    ),
    Case(
        "mlflow-target-with-vector-search",
        m(VS),
        f"{M}:1:1",
        "it cannot hold vector_search_endpoints",
        args=("-t", "ml"),
    ),
    Case(
        "unknown-variable",
        m("registered_models:\n  - name: ${var.catalg}.s.m\n"),
        f"{M}:2:11",
        "unknown variable 'catalg' (declared: catalog, nothing)",
    ),
    Case(
        "unknown-variable-mid-string",
        m("registered_models:\n  - name: x.${var.schema}.m\n"),
        f"{M}:2:13",
        "unknown variable 'schema'",
    ),
    Case(
        "unknown-variable-quoted",
        m('registered_models:\n  - name: "c.s.m"\n    comment: "a ${var.x}"\n'),
        f"{M}:3:17",
        "unknown variable 'x'",
    ),
    Case(
        "variable-without-value",
        m("registered_models:\n  - name: ${var.nothing}.s.m\n"),
        f"{M}:2:11",
        "variable 'nothing' has no value for target 'sb'",
    ),
    Case(
        "unsupported-interpolation",
        m("registered_models:\n  - name: ${env.HOME}.s.m\n"),
        f"{M}:2:11",
        "unsupported interpolation ${env.HOME}",
    ),
    Case(
        "interpolated-wrong-type",
        m('registered_models:\n  - name: c.s.m\n    aliases: {a: "${var.catalog}"}\n'),
        f"{M}:3:18",
        "the version must be a positive integer",
    ),
    # --- the project file
    Case(
        "project-syntax",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:1",
        "YAML syntax error",
        project="project: demo\ntargets: {sb: {type: sandbox}\n",
    ),
    Case(
        "project-unknown-target",
        {M: "quotas: []\n"},
        "",
        "unknown target 'nope'; known targets: sb, dbx, ml",
        args=("-t", "nope"),
    ),
    Case(
        "project-default-target-unknown",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:17",
        "default_target 'prod' is not a target",
        project="project: demo\ndefault_target: prod\ntargets: {sb: {type: sandbox}}\n",
    ),
    Case(
        "project-undeclared-target-variable",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:44",
        "target 'sb' sets variable 'catalog', which is not declared",
        project="project: demo\ntargets:\n  sb: {type: sandbox, variables: {catalog: x}}\n",
    ),
    Case(
        "project-unknown-target-field",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:23",
        "unknown field 'prune_all'; did you mean 'prune'?",
        project="project: demo\ntargets:\n  sb: {type: sandbox, prune_all: true}\n",
    ),
    Case(
        "project-bad-target-type",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:14",
        "type: Input should be 'sandbox', 'databricks' or 'mlflow'",
        project="project: demo\ntargets:\n  sb: {type: aws}\n",
    ),
    Case(
        "project-mlflow-without-uri",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:7",
        "mlflow target 'ml' needs tracking_uri",
        project="project: demo\ntargets:\n  ml: {type: mlflow}\n",
    ),
    Case(
        "project-no-targets",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "missing required field 'targets'",
        project="project: demo\n",
    ),
    Case(
        "project-bad-name",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:10",
        "project: String should match pattern",
        project="project: 'my project'\ntargets: {sb: {type: sandbox}}\n",
    ),
    Case(
        "project-include-matches-nothing",
        {"manifests/m.yml": "quotas: []\n"},
        "reconciler.yaml:2:10",
        "match no files",
        project='project: demo\ninclude: ["manifests/*.yaml"]\ntargets: {sb: {type: sandbox}}\n',
    ),
    Case(
        "project-protected-typo",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:35",
        "'registerd_model.*' matches no asset address",
        project="project: demo\ntargets:\n  sb: {type: sandbox, protected: [registerd_model.*]}\n",
    ),
    Case(
        "project-ignore-rule-without-fields",
        {M: "quotas: []\n"},
        "reconciler.yaml:4:35",
        "fields: List should have at least 1 item",
        project="project: demo\ntargets:\n  sb:\n"
        "    ignore: [{asset: '*', fields: []}]\n    type: sandbox\n",
    ),
    Case(
        "project-empty",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "project file is empty",
        project="",
    ),
    # --- inputs cannot escape the project
    Case(
        "include-absolute",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:31",
        "include glob '/etc/*.yaml' is absolute",
        project=project_with('include: ["manifests/*.yaml", "/etc/*.yaml"]\n' + SB),
    ),
    Case(
        "include-dotdot",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:11",
        "include glob '../other/**/*.yaml' contains '..'",
        project=project_with('include: ["../other/**/*.yaml"]\n' + SB),
    ),
    Case(
        "include-dotdot-inside",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:11",
        "contains '..'",
        project=project_with('include: ["manifests/../../x/*.yaml"]\n' + SB),
    ),
    Case(
        "include-home",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:11",
        "include glob '~/manifests/*.yaml' starts with '~'",
        project=project_with('include: ["~/manifests/*.yaml"]\n' + SB),
    ),
    Case(
        "target-include-absolute",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:33",
        "include glob '/tmp/*.yaml' is absolute",
        project=project_with("targets:\n  sb: {type: sandbox, include: [/tmp/*.yaml]}\n"),
    ),
    Case(
        "include-through-symlinked-dir",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:11",
        "which resolves to /etc, outside the project directory",
        project=project_with('include: ["etc/*.conf"]\n' + SB),
        setup=link("etc", "/etc"),
    ),
    Case(
        "symlink-outside",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "manifests/evil.yaml resolves to /etc/hostname, outside the project directory",
        setup=link("manifests/evil.yaml", "/etc/hostname"),
    ),
    Case(
        "symlink-dotdot-outside",
        {M: "quotas: []\n", "../secret.yaml": "quotas: []\n"},
        "reconciler.yaml:2:11",
        "manifests/evil.yaml resolves to",
        project=project_with('include: ["manifests/*.yaml"]\n' + SB),
        setup=link("manifests/evil.yaml", "../../secret.yaml"),
    ),
    Case(
        "symlink-dev-zero",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "manifests/zero.yaml resolves to /dev/zero, outside the project directory",
        setup=link("manifests/zero.yaml", "/dev/zero"),
    ),
    Case(
        "symlink-dev-urandom",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "resolves to /dev/urandom",
        setup=link("manifests/noise.yaml", "/dev/urandom"),
    ),
    Case(
        "fifo",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "manifests/pipe.yaml is a FIFO (named pipe), not a regular file",
        setup=fifo("manifests/pipe.yaml"),
    ),
    Case(
        "fifo-via-symlink",
        {M: "quotas: []\n"},
        "reconciler.yaml:2:31",
        "manifests/b.yaml is a FIFO (named pipe), not a regular file",
        project=project_with('include: ["manifests/m.yaml", "manifests/b.yaml"]\n' + SB),
        setup=lambda root: (
            os.mkfifo(root / "pipe"),
            os.symlink("../pipe", root / "manifests/b.yaml"),
        ),
    ),
    Case(
        "socket",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "manifests/s.yaml is a socket, not a regular file",
        setup=unix_socket("manifests/s.yaml"),
    ),
    Case(
        "dangling-symlink",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "cannot read manifests/gone.yaml: No such file or directory",
        setup=link("manifests/gone.yaml", "nothing-here.yaml"),
    ),
    Case(
        "symlink-loop",
        {M: "quotas: []\n"},
        "reconciler.yaml:1:1",
        "cannot read manifests/loop.yaml",
        setup=link("manifests/loop.yaml", "loop.yaml"),
    ),
    Case(
        "project-file-is-a-fifo",
        {M: "quotas: []\n"},
        "",
        "reconciler.yaml is a FIFO (named pipe), not a regular file",
        project=None,
        setup=fifo("reconciler.yaml"),
    ),
    Case(
        "project-file-links-to-dev-zero",
        {M: "quotas: []\n"},
        "",
        "reconciler.yaml is a character device, not a regular file",
        project=None,
        setup=link("reconciler.yaml", "/dev/zero"),
    ),
    Case(
        "state-dir-nul",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:34",
        "state_dir contains a NUL byte",
        project=project_with('targets:\n  sb: {type: sandbox, state_dir: "st\\0x"}\n'),
    ),
    Case(
        "state-dir-absolute-outside",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:34",
        "state_dir '/tmp' resolves to /tmp, outside the project directory",
        project=project_with("targets:\n  sb: {type: sandbox, state_dir: /tmp}\n"),
    ),
    Case(
        "state-dir-dotdot",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:34",
        "state_dir '../state' resolves to",
        project=project_with("targets:\n  sb: {type: sandbox, state_dir: ../state}\n"),
    ),
    Case(
        "state-dir-is-a-file",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:34",
        "state_dir 'manifests/m.yaml' is a file, not a directory",
        project=project_with("targets:\n  sb: {type: sandbox, state_dir: manifests/m.yaml}\n"),
    ),
    Case(
        "state-dir-symlink-outside",
        {M: "quotas: []\n"},
        "reconciler.yaml:3:34",
        "state_dir 'st' resolves to /tmp, outside the project directory",
        project=project_with("targets:\n  sb: {type: sandbox, state_dir: st}\n"),
        setup=link("st", "/tmp"),
    ),
]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.timeout(60)  # a FIFO read by mistake would block: fail instead of hanging
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_1_with_location(case: Case, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", case.files, case.project)
    if case.setup is not None:
        case.setup(root)
    out = run_cli(["validate", *case.args], cwd=root)
    assert out.exception is None, f"unexpected exception: {out.exception!r}"
    assert out.exit_code == 1, out.stdout + out.stderr
    assert out.stdout == ""
    first = out.stderr.splitlines()[0]
    prefix = f"error: {case.where}" if case.where else "error: "
    assert first.startswith(prefix), first
    assert case.says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    if case.hides:
        assert case.hides not in out.stderr
    if case.hint:
        assert any(
            line.startswith("hint: ") and case.hint in line for line in out.stderr.splitlines()
        ), out.stderr
    for line in out.stderr.splitlines()[1:]:
        assert line.startswith(("hint: ", "  ")), line
