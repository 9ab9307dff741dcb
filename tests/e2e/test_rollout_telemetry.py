"""Telemetry of the whole stack: a signed GitHub push to devhost leaves, in the JSON-lines file
of `ARCWAVE_OTEL_EXPORTER=file:…`, the webhook's span, every activity's span and every ARM
call's span of the rollout it started, all carrying its `arcwave.rollout.id`, and the metrics
of its ARM writes and of the rollout's states. No secret shows in the file."""

import json
from pathlib import Path
from typing import Any

import pytest

from shared.states import RolloutState
from shared.telemetry import names
from tests.e2e.rollout_support import (
    GOOD,
    GOOD2,
    WEBHOOK_SECRET,
    github_push,
    running_stack,
    signed_github,
)
from tests.support import SECRETS, eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning"),
]

CLUSTERS = 12
"""The scenario's fleet: 2 canaries, 4 early, 6 broad."""


def read(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The spans and the metrics exports in the file, in the order written."""
    spans, exports = [], []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        (exports if "resource_metrics" in item else spans).append(item)
    return spans, exports


def metric_points(export: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [
        point
        for resource in export["resource_metrics"]
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        if metric["name"] == name
        for point in metric["data"]["data_points"]
    ]


def summed(export: dict[str, Any], name: str, **attributes: str) -> float:
    return sum(
        point["value"]
        for point in metric_points(export, name)
        if all(point["attributes"].get(k) == v for k, v in attributes.items())
    )


def test_a_push_leaves_spans_and_metrics_that_all_name_its_rollout(tmp_path: Path) -> None:
    out = tmp_path / "telemetry.jsonl"
    env = {"ARCWAVE_OTEL_EXPORTER": f"file:{out}", "OTEL_METRIC_EXPORT_INTERVAL": "300"}
    with running_stack(tmp_path, env=env) as stack:
        stack.register()
        body = json.dumps(github_push(GOOD2, previous=GOOD)).encode()
        code, answer = stack.host.request(
            "POST", "/api/hooks/github", raw=body, headers=signed_github(body, "telemetry-1")
        )
        assert code == 202, answer
        [handed] = answer["tracks"]
        rollout_id = handed["rolloutId"]
        ended = (RolloutState.SUCCEEDED, RolloutState.FAILED, RolloutState.ROLLED_BACK)
        rollout = stack.wait_state(rollout_id, *ended)
        assert rollout.state is RolloutState.SUCCEEDED, rollout.message

        def final_metrics() -> dict[str, Any] | None:
            _, exports = read(out)
            done = [e for e in exports if summed(e, names.ROLLOUTS, **{names.STATE: "Succeeded"})]
            return done[-1] if done else None

        export = eventually(final_metrics, timeout=20, what="the metrics of the rollout's end")
        spans, _ = read(out)

    [delivery] = [s for s in spans if s["name"] == "POST /api/hooks/{provider}"]
    assert delivery["kind"] == "SpanKind.SERVER"
    assert delivery["attributes"][names.PROVIDER] == "github"
    assert delivery["attributes"][names.HTTP_STATUS] == 202
    assert delivery["attributes"][names.ROLLOUT_ID] == rollout_id
    [hand_over] = [s for s in spans if s["name"] == "hand over"]
    assert hand_over["parent_id"] == delivery["context"]["span_id"]

    activities = [s for s in spans if names.ACTIVITY in s["attributes"]]
    assert {"plan_rollout", "advance_wave", "record_progress"} <= {s["name"] for s in activities}
    for span in activities:
        assert span["attributes"][names.ROLLOUT_ID] == rollout_id, span["name"]
        assert span["parent_id"] == hand_over["context"]["span_id"], span["name"]

    arm = [s for s in spans if s["name"].startswith("ARM ")]
    writes = [s for s in arm if s["attributes"][names.HTTP_METHOD] in ("PUT", "PATCH")]
    assert len({s["attributes"][names.CLUSTER_ID] for s in writes}) == CLUSTERS
    assert {s["name"] for s in arm} >= {"ARM POST resources"}  # Resource Graph, from plan
    for span in arm:
        assert span["attributes"][names.ROLLOUT_ID] == rollout_id, span["name"]
        assert span["kind"] == "SpanKind.CLIENT"
    by_id = {s["context"]["span_id"]: s for s in spans}
    for span in writes:
        assert by_id[span["parent_id"]]["name"] == "advance_wave"
    # One trace from the push to the rollout's last cluster write.
    trace_id = delivery["context"]["trace_id"]
    last_write = max(writes, key=lambda s: s["end_time"])
    assert last_write["context"]["trace_id"] == trace_id
    of_rollout = [  # its work: operator calls reading it are traces of their own
        s
        for s in spans
        if s["attributes"].get(names.ROLLOUT_ID) == rollout_id and s["kind"] != "SpanKind.SERVER"
    ]
    assert {s["context"]["trace_id"] for s in of_rollout} == {trace_id}

    assert summed(export, names.ARM_WRITES, **{names.OUTCOME: "ok"}) >= CLUSTERS
    assert summed(export, names.ROLLOUTS, **{names.STATE: "Running"}) >= 1
    assert summed(export, names.ROLLOUTS, **{names.STATE: "Succeeded"}) == 1
    assert summed(export, names.CLUSTER_TRANSITIONS, **{names.STATE: "Healthy"}) >= CLUSTERS
    [webhook] = metric_points(export, names.WEBHOOK_DURATION)
    assert webhook["attributes"][names.OUTCOME] == "handed" and webhook["count"] == 1

    text = out.read_text()
    assert WEBHOOK_SECRET not in text
    for value, name in SECRETS.items():
        assert value not in text, f"{name} is in the telemetry file"
