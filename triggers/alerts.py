"""`POST /api/alerts`: Azure Monitor alerts halt the rollouts whose clusters they name.

An action group's webhook posts each alert in the common alert schema (`shared.alerts`);
every running rollout (Running, WaitingForApproval, Paused) with a cluster it wrote that the
alert names is paused, failed or resumed by its track's `alerts` policy (`shared.alerting`),
through the operator's control path: the change goes into the rollout's control block, the
timeline records it (actor `alert:<rule>`, reason AlertFired or AlertResolved), and the
rollout and its waves are woken, so the wave writing now stops at its next look, at once.

Who may call: the route takes the function key like the operator API (the action group's URL
carries a key of this function alone in `?code=`, infra/app/alerts.bicep); behind App Service
authentication a secure webhook's Entra token names the caller. Either way the caller needs
`arcwave.Operator`, the role that pauses and resumes rollouts (docs/security.md).

    202 {"alertRule", "monitorCondition", "paused": [ids], "failed": [ids], "resumed": [ids],
         "rollouts": [{"rolloutId", "track", "effect", "clusters", "message"}]}
    200 {"ignored": "<why>", "reason": "NoRunningRollout" | "NoMatchingCluster" | …}
    400 naming the field; 413 over `ALERT_BODY_LIMIT` (256 KiB); 403 without the role.
"""

import asyncio
import logging
import uuid
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.alerting import Effect, Ignored, Outcome, react
from shared.alerts import ALERT_BODY_LIMIT, CommonAlert, matching, read_alert
from shared.contracts.orchestrations import CONTROL_EVENT
from shared.identity import Caller, Role
from shared.logs import fields
from shared.names import wave_instance
from shared.problems import cut
from shared.reasons import Reason
from shared.runtime import Runtime, runtime
from shared.states import RolloutState
from shared.store import RolloutRecord
from shared.telemetry import annotate
from triggers.dispatch import wake
from triggers.http import answer, operation_route, read_json, require

log = logging.getLogger("arcwave.triggers.alerts")
bp = df.Blueprint()

RUNNING = (RolloutState.RUNNING, RolloutState.WAITING_FOR_APPROVAL, RolloutState.PAUSED)
"""The states of a rollout an alert can halt (a Pending one has written nothing yet)."""
WAKES = frozenset({Effect.PAUSED, Effect.FAILED, Effect.RESUMED})


@operation_route(bp, "alerts", ["POST"], name="receive_alert")
async def receive_alert(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    who = require(req, caller, Role.OPERATOR, "reporting an alert")
    annotate(provider="azuremonitor")
    alert = read_alert(read_json(req, "alert", limit=ALERT_BODY_LIMIT))
    body, status = await deliver(client, runtime(), alert, who.name)
    return answer(body, status)


async def deliver(
    client: df.DurableOrchestrationClient, rt: Runtime, alert: CommonAlert, by: str
) -> tuple[dict[str, Any], int]:
    """Apply `alert` to every running rollout whose clusters it names; the answer's body and
    status (202 when a rollout's record changed, 200 with why not otherwise)."""
    running: list[RolloutRecord] = []
    for state in RUNNING:
        running += await asyncio.to_thread(rt.records.rollouts.list, state=state)
    condition = alert.essentials.monitor_condition.value
    if not running:
        return _ignored(alert, Ignored.NO_RUNNING_ROLLOUT, "no rollout is running", by)
    signals = alert.signals()
    outcomes: list[tuple[RolloutRecord, list[str], Outcome]] = []
    for rollout in running:
        records = await asyncio.to_thread(
            rt.records.clusters.list, rollout.track, rollout=rollout.id
        )
        # Only the clusters this rollout wrote: an alert elsewhere says nothing of its revision.
        written = [(r.cluster_id, r.name) for r in records if r.written_at is not None]
        named = set(matching(signals, written))
        clusters = [name for cluster_id, name in written if cluster_id in named]
        if clusters:
            outcome = await _apply(rt, rollout, alert, clusters)
            outcomes.append((rollout, clusters, outcome))
    if not outcomes:
        why = f"it names no cluster that any of the {len(running)} running rollouts wrote"
        return _ignored(alert, Ignored.NO_MATCHING_CLUSTER, why, by)
    changed = [(r, c, o) for r, c, o in outcomes if o.record is not None]
    for rollout, _, outcome in changed:
        await _announce(client, rt, rollout, alert, outcome, by)
    if not changed:
        first = outcomes[0][2]
        reason = first.ignored or Ignored.ALREADY_FIRING
        said = cut("; ".join(o.message for _, _, o in outcomes), 1000)
        return _ignored(alert, reason, said, by)
    annotate(outcome=_strongest([o.effect for _, _, o in changed]).value)
    return {
        "alertRule": alert.rule,
        "monitorCondition": condition,
        **{
            effect.value: [r.id for r, _, o in changed if o.effect is effect]
            for effect in (Effect.PAUSED, Effect.FAILED, Effect.RESUMED)
        },
        "rollouts": [
            {
                "rolloutId": rollout.id,
                "track": rollout.track,
                "effect": outcome.effect.value,
                "clusters": clusters,
                "message": outcome.message,
            }
            for rollout, clusters, outcome in outcomes
        ],
    }, 202


async def _apply(
    rt: Runtime, rollout: RolloutRecord, alert: CommonAlert, clusters: list[str]
) -> Outcome:
    """Run the policy inside the store's read-modify-write loop, so it judges the rollout
    as it is when written (an operator's command or another delivery may have won)."""
    seen: list[Outcome] = []

    def change(current: RolloutRecord) -> RolloutRecord | None:
        outcome = react(current, alert, clusters, rt.now())
        seen.append(outcome)
        return outcome.record

    await asyncio.to_thread(rt.records.rollouts.update, rollout.track, rollout.id, change)
    return seen[-1]


async def _announce(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    rollout: RolloutRecord,
    alert: CommonAlert,
    outcome: Outcome,
    by: str,
) -> None:
    """Write the alert's entry on the rollout's timeline, log it (with `by`, who delivered
    it), and wake the rollout and its waves when its course changed."""
    reason = Reason.ALERT_FIRED if alert.fired else Reason.ALERT_RESOLVED
    condition = alert.essentials.monitor_condition.value.lower()
    key = f"alert/{alert.digest}/{condition}/{uuid.uuid4().hex[:12]}"
    data = {
        "alertId": alert.essentials.alert_id,
        "alertRule": alert.rule,
        "severity": alert.essentials.severity.value,
        "monitorCondition": alert.essentials.monitor_condition.value,
        "effect": outcome.effect.value,
    }
    await asyncio.to_thread(
        rt.records.timeline.append,
        rollout.id,
        key,
        actor=alert.actor,
        reason=reason,
        message=outcome.message,
        data=data,
    )
    log.info(
        "decision %s",
        fields(
            rollout=rollout.id,
            track=rollout.track,
            step=key,
            reason=reason.value,
            actor=alert.actor,
            effect=outcome.effect.value,
            delivered_by=by,
            message=outcome.message,
        ),
    )
    if outcome.effect not in WAKES or outcome.record is None:
        return
    instances = [rollout.id, *(wave_instance(rollout.id, w.name) for w in outcome.record.waves)]
    for instance in instances:
        await wake(
            client, instance, CONTROL_EVENT, {"command": outcome.effect.value, "by": alert.actor}
        )


def _ignored(alert: CommonAlert, reason: Ignored, why: str, by: str) -> tuple[dict[str, Any], int]:
    condition = alert.essentials.monitor_condition.value
    log.info(
        "alert %s (%s, from %s) ignored: %s (%s)", alert.rule[:200], condition, by, why, reason
    )
    annotate(outcome="ignored")
    message = f"alert '{alert.rule[:200]}' ({condition}) changes nothing: {why}"
    return {"ignored": message, "reason": reason.value}, 200


def _strongest(effects: list[Effect]) -> Effect:
    for effect in (Effect.FAILED, Effect.PAUSED, Effect.RESUMED):
        if effect in effects:
            return effect
    return Effect.RECORDED
