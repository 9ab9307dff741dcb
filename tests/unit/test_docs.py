"""The docs stay true to the code: every reason, state and track spec field is documented,
every documented one exists, and every one is produced by the app's code."""

import re
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState
from shared.trackspec import TrackSpec
from tests.support import model_field_paths

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
APP = ("activities", "orchestrators", "triggers", "shared")
DEFINITIONS = {ROOT / "shared" / "reasons.py", ROOT / "shared" / "states.py"}


def documented(doc: str, header: str) -> set[str]:
    """The first column of the table in `doc` whose first header cell is `header`."""
    names: set[str] = set()
    inside = False
    for line in (DOCS / doc).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            inside = False
        elif cells[0] == header:
            inside = True
        elif inside and not set(cells[0]) <= {"-", ":"}:
            names.add(cells[0].strip("`"))
    return names


def app_source() -> str:
    files = [f for d in APP for f in (ROOT / d).rglob("*.py") if f not in DEFINITIONS]
    return "\n".join(f.read_text() for f in files)


TABLES: list[tuple[type[StrEnum], str, str]] = [
    (Reason, "reasons.md", "reason"),
    (RolloutState, "rollouts.md", "rollout state"),
    (WaveState, "rollouts.md", "wave state"),
    (ClusterState, "rollouts.md", "cluster state"),
]


@pytest.mark.parametrize(("enum", "doc", "header"), TABLES, ids=lambda v: getattr(v, "__name__", v))
def test_each_table_lists_exactly_the_values_the_code_has(
    enum: type[StrEnum], doc: str, header: str
) -> None:
    assert documented(doc, header) == {m.value for m in enum}


@pytest.mark.parametrize("enum", [t[0] for t in TABLES], ids=lambda e: e.__name__)
def test_every_value_is_produced_by_the_app(enum: type[StrEnum]) -> None:
    named = set(re.findall(rf"\b{enum.__name__}\.([A-Z_]+)\b", app_source()))
    assert [m.name for m in enum if m.name not in named] == []


def test_a_table_is_read_from_its_header_to_its_end() -> None:
    assert documented("reasons.md", "no such header") == set()
    assert "Planned" in documented("reasons.md", "reason")


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
