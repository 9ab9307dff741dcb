"""The names arcwave's telemetry is found by: attributes, instruments, the tracer and meter.

They are a contract with infra/app/workbook.bicep (its KQL) and docs/telemetry.md.
"""

SCOPE = "arcwave"
"""The tracer's and the meter's name (the instrumentation scope)."""

# -- span attributes ---------------------------------------------------------------------------

ROLLOUT_ID = "arcwave.rollout.id"
"""On every span of a rollout: the webhook's or API call's, each activity's, each ARM call's."""
ROLLOUT_IDS = "arcwave.rollout.ids"
"""On a delivery that handed over more than one rollout (one per track): all of them."""
TRACK = "arcwave.track"
REVISION = "arcwave.revision"
WAVE = "arcwave.wave"
ACTIVITY = "arcwave.activity"
ATTEMPT = "arcwave.attempt"
STEP = "arcwave.step"
"""A `record_progress` step's key (`wave/canary/started`)."""
PROVIDER = "arcwave.provider"
DELIVERY_ID = "arcwave.delivery.id"
EVENT_ID = "arcwave.event.id"
EVENT_TYPE = "arcwave.event.type"
OUTCOME = "arcwave.outcome"
CLUSTER_ID = "arcwave.cluster.id"
CONFIGURATION = "arcwave.configuration"
ARM_OPERATION = "arcwave.arm.operation"
THROTTLED = "arcwave.arm.throttled"
STATE = "arcwave.state"
REASON = "arcwave.reason"
GATE = "arcwave.gate"
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"

# -- instruments -------------------------------------------------------------------------------

ROLLOUTS = "arcwave.rollouts"
CLUSTER_TRANSITIONS = "arcwave.cluster.transitions"
ARM_WRITES = "arcwave.arm.writes"
ARM_THROTTLED = "arcwave.arm.throttled"
ARM_DURATION = "arcwave.arm.duration"
WEBHOOK_DURATION = "arcwave.webhook.duration"
GATE_DURATION = "arcwave.gate.duration"
