"""OpenTelemetry traces, metrics and logs (docs/telemetry.md).

`setup.configure` turns them on as the app starts; `spans` makes the spans (triggers,
activities, ARM calls), `meters` records the metrics; `names` holds every name they are found
by. With nothing configured, every call here goes to OpenTelemetry's no-op tracer and meter.
"""

from shared.telemetry.meters import (
    cluster_saved,
    gate_waited,
    rollout_state,
)
from shared.telemetry.spans import (
    activity,
    annotate,
    arm_call,
    carried,
    failed,
    handover,
    receiving,
    serving,
    traceparent,
)

__all__ = [
    "activity",
    "annotate",
    "arm_call",
    "carried",
    "cluster_saved",
    "failed",
    "gate_waited",
    "handover",
    "receiving",
    "rollout_state",
    "serving",
    "traceparent",
]
