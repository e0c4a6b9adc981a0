"""Whatever bytes a manifest holds, loading ends in a value or a ManifestError, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.kinds.manifest_file import ManifestFile
from reconciler.manifest.document import load_yaml
from reconciler.manifest.interpolate import Interpolator
from reconciler.manifest.validate import validate_model
from reconciler.model.errors import ManifestError

YAML_ALPHABET = st.sampled_from(
    [*"abcxyz019 :-[]{},&*!|>'\"#?\n\t%@`.$", "${var.c}", "${var.x}", "  ", "- ", "\x00", "é"]
)
INTERP = Interpolator({"c": "main"}, target="t", declared={"c"})


def check(data: bytes) -> None:
    try:
        value, positions = load_yaml(data, "f.yaml", interpolate=INTERP)
        if isinstance(value, dict):
            validate_model(ManifestFile, value, positions)
    except ManifestError as exc:
        assert exc.location is not None
        assert exc.location.file == "f.yaml"
        assert exc.location.line >= 1 and exc.location.column >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_ALPHABET, max_size=60).map("".join))
def test_yaml_like_text_never_crashes(text: str) -> None:
    check(text.encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    check(data)


MANIFESTISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.sampled_from(["a.b.c", "x", "c.s.m@v"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "entity",
                    "aliases",
                    "traffic",
                    "served_entities",
                    "registered_models",
                    "serving_endpoints",
                    "quotas",
                    "rate_limits",
                    "key",
                    "version",
                    "champion",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["registered_models", "serving_endpoints", "quotas"]),
        MANIFESTISH,
        max_size=3,
    )
)
def test_structured_garbage_gives_located_errors(doc: dict[str, object]) -> None:
    import yaml

    check(yaml.safe_dump(doc).encode())


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text("abcxyz_-0123", min_size=1, max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(PLAIN, st.sampled_from([None, True, False]))
def test_loads_what_pyyaml_dumps(doc: object, flow: bool | None) -> None:
    """The event-based loader reads back exactly what PyYAML writes, in any style, and every
    value it returns has a position."""
    import yaml

    text = yaml.safe_dump({"root": doc}, default_flow_style=flow, allow_unicode=True)
    value, positions = load_yaml(text.encode(), "f.yaml")
    assert value == {"root": doc}

    def walk(node: object, path: tuple[str | int, ...]) -> None:
        assert path in positions.values
        if isinstance(node, dict):
            for key, child in node.items():
                assert (*path, key) in positions.keys
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(value, ())
