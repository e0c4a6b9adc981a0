"""How long `reconciler validate` takes, and how much memory it needs, at 1,000 and 10,000 assets.

Generates a project in a temporary directory (files of about 1,000 assets each, every kind
represented), then times load + interpolate + validate + cross-asset checks, the work of
`reconciler validate`. Peak memory is measured in a second run under tracemalloc (which slows
Python down, so time and memory are measured separately). Goal: 1,000 assets under 1 s.

    .venv/bin/python benchmarks/validate_scale.py [N ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from reconciler.manifest import load_desired_state, load_project
from reconciler.runtime.logs import configure_logging

PROJECT = """\
project: bench
default_target: sandbox
variables:
  catalog: {default: main}
targets:
  sandbox: {type: sandbox}
"""
ASSETS_PER_GROUP = 10  # 2 models + 4 aliases + endpoint + VS endpoint + index + quota
GROUPS_PER_FILE = 100


def group(i: int) -> dict[str, str]:
    """YAML snippets per top-level key for one group of ten assets."""
    return {
        "registered_models": f"""\
  - name: ${{var.catalog}}.team{i % 50}.model_{i}_a
    comment: model {i} a
    tags: {{team: t{i % 7}}}
    aliases: {{champion: 3, challenger: {{version: 4, approval: CHG-{i}}}}}
  - name: ${{var.catalog}}.team{i % 50}.model_{i}_b
    aliases: {{champion: 1, shadow: 2}}
""",
        "serving_endpoints": f"""\
  - name: endpoint-{i}
    served_entities:
      - name: champion
        entity: ${{var.catalog}}.team{i % 50}.model_{i}_a@champion
        workload_size: Small
        scale_to_zero: true
      - name: challenger
        entity: ${{var.catalog}}.team{i % 50}.model_{i}_a@challenger
        min_provisioned_concurrency: 0
        max_provisioned_concurrency: 8
    traffic: {{champion: 90, challenger: 10}}
    ai_gateway: {{usage_tracking: true}}
    tags: {{team: t{i % 7}}}
""",
        "vector_search_endpoints": f"""\
  - name: vs-{i}
    type: STANDARD
""",
        "vector_indexes": f"""\
  - name: ${{var.catalog}}.docs.index_{i}
    endpoint: vs-{i}
    primary_key: id
    delta_sync:
      source_table: ${{var.catalog}}.docs.table_{i}
      embedding_source_columns: [{{name: text, model_endpoint: databricks-bge-large-en}}]
""",
        "quotas": f"""\
  - endpoint: endpoint-{i}
    rate_limits:
      - {{key: user_group, principal: group-{i}, tokens_per_minute: 20000}}
      - {{key: endpoint, calls_per_minute: 1000}}
""",
    }


def write_project(root: Path, assets: int) -> None:
    (root / "reconciler.yaml").write_text(PROJECT)
    manifests = root / "manifests"
    manifests.mkdir()
    groups = max(1, assets // ASSETS_PER_GROUP)
    for start in range(0, groups, GROUPS_PER_FILE):
        sections: dict[str, list[str]] = {}
        for i in range(start, min(groups, start + GROUPS_PER_FILE)):
            for key, text in group(i).items():
                sections.setdefault(key, []).append(text)
        body = "".join(f"{key}:\n{''.join(parts)}" for key, parts in sections.items())
        (manifests / f"part_{start // GROUPS_PER_FILE:03d}.yaml").write_text(body)


def validate(root: Path) -> int:
    project = load_project(root)
    return len(load_desired_state(project, None).resources)


def measure(assets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, assets)
        size = sum(p.stat().st_size for p in (root / "manifests").iterdir())
        validate(root)  # warm-up: imports, pydantic schema builds
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            count = validate(root)
            runs.append(time.perf_counter() - started)
        tracemalloc.start()
        validate(root)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(
        f"{count:>6} assets ({size / 1024 / 1024:.1f} MB of YAML):"
        f" best {min(runs):.3f} s, median {sorted(runs)[1]:.3f} s,"
        f" peak traced memory {peak / 1024 / 1024:.1f} MB"
    )


def main() -> None:
    configure_logging("console", 0)
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000]
    for n in sizes:
        measure(n)


if __name__ == "__main__":
    main()
