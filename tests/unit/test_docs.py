"""The docs stay true to the code: every reason and every track spec field is documented."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from shared.reasons import Reason
from shared.trackspec import TrackSpec
from tests.support import model_field_paths

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_is_in_the_reasons_doc(reason: Reason) -> None:
    assert f"`{reason.value}`" in (DOCS / "reasons.md").read_text()


def leaf_paths(model: type[BaseModel]) -> list[str]:
    paths = model_field_paths(model)
    return [p for p in paths if not any(q.startswith((f"{p}.", f"{p}[]")) for q in paths)]


@pytest.mark.parametrize("path", leaf_paths(TrackSpec))
def test_every_track_spec_field_is_in_the_track_spec_doc(path: str) -> None:
    text = (DOCS / "track-spec.md").read_text()
    leaf = path.rsplit(".", 1)[-1]
    assert f"`{path}`" in text or f".{leaf}`" in text or f"`{leaf}`" in text, path


def test_field_paths_walk_nested_models() -> None:
    class Inner(BaseModel):
        depth: int

    class Outer(BaseModel):
        inner: Inner
        items: list[Inner]

    assert model_field_paths(Outer) == ["inner", "inner.depth", "items", "items[].depth"]
