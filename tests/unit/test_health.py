"""Health of one cluster for one revision, case by case (DESIGN "Health")."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.cluster import Connectivity
from shared.health import FluxStatus, assess
from shared.reasons import Reason
from shared.states import HealthState

TARGET = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
OLD = "0ba6f0d3e1f2a3b4c5d6e7f8091a2b3c4d5e6f70"
PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


def flux(commit: str | None, compliance: str, *, provisioning: str = "Succeeded", **extra: object):
    data: dict[str, object] = {
        "complianceState": compliance,
        "provisioningState": provisioning,
        **extra,
    }
    if commit:
        data["sourceSyncedCommitId"] = commit
    return FluxStatus.model_validate(data)


def kustomization(compliance: str, reason: str = "ReconciliationSucceeded", status: str = "True"):
    return {
        "name": "baseline-apps",
        "namespace": "flux-system",
        "kind": "Kustomization",
        "complianceState": compliance,
        "statusConditions": [
            {"type": "Ready", "status": status, "reason": reason, "message": "health check failed"}
        ],
    }


@pytest.mark.parametrize("spelling", [f"main/{TARGET}", f"main@sha1:{TARGET}", TARGET])
def test_compliant_at_the_target_in_any_spelling_is_healthy(spelling: str) -> None:
    health = assess(TARGET, flux(spelling, "Compliant"), Connectivity.CONNECTED)
    assert health.state is HealthState.HEALTHY
    assert health.reason is Reason.RECONCILED


def test_every_status_entry_must_be_compliant() -> None:
    status = flux(
        f"main/{TARGET}",
        "Compliant",
        statuses=[kustomization("Compliant"), kustomization("Pending")],
    )
    assert assess(TARGET, status, Connectivity.CONNECTED).state is HealthState.PROGRESSING


def test_non_compliant_at_the_target_fails_with_the_flux_reason() -> None:
    status = flux(
        f"main/{TARGET}",
        "Non-Compliant",
        statuses=[kustomization("Non-Compliant", reason="HealthCheckFailed", status="False")],
    )
    health = assess(TARGET, status, Connectivity.CONNECTED)
    assert health.state is HealthState.FAILED
    assert health.reason is Reason.HEALTH_CHECK_FAILED
    assert "Kustomization 'baseline-apps' HealthCheckFailed" in health.message


def test_a_non_compliant_entry_fails_even_when_the_summary_lags() -> None:
    status = flux(f"main/{TARGET}", "Pending", statuses=[kustomization("Non-Compliant")])
    assert assess(TARGET, status, Connectivity.CONNECTED).state is HealthState.FAILED


def test_non_compliant_at_an_older_commit_is_still_progressing() -> None:
    health = assess(TARGET, flux(f"main/{OLD}", "Non-Compliant"), Connectivity.CONNECTED)
    assert health.state is HealthState.PROGRESSING
    assert "Flux is at 0ba6f0d, waiting for 2b7e0c1" in health.message


def test_compliant_at_an_older_commit_is_progressing() -> None:
    assert assess(TARGET, flux(f"main/{OLD}", "Compliant"), None).state is HealthState.PROGRESSING


def test_provisioning_failed_fails() -> None:
    status = flux(None, "Unknown", provisioning="Failed", errorMessage="extension not installed")
    health = assess(TARGET, status, Connectivity.CONNECTED)
    assert health.state is HealthState.FAILED
    assert health.reason is Reason.PROVISIONING_FAILED
    assert "extension not installed" in health.message


@pytest.mark.parametrize(
    ("connectivity", "reason"),
    [
        (Connectivity.OFFLINE, Reason.CLUSTER_OFFLINE),
        (Connectivity.EXPIRED, Reason.CLUSTER_EXPIRED),
        (Connectivity.AGENT_NOT_INSTALLED, Reason.AGENT_NOT_INSTALLED),
    ],
)
def test_offline_clusters_without_a_verdict_are_offline_with_their_own_reason(
    connectivity: Connectivity, reason: Reason
) -> None:
    health = assess(TARGET, flux(f"main/{OLD}", "Compliant"), connectivity)
    assert health.state is HealthState.OFFLINE
    assert health.reason is reason
    assert assess(TARGET, None, connectivity).state is HealthState.OFFLINE


def source_failure(message: str, reason: str = "GitOperationFailed") -> FluxStatus:
    return FluxStatus.model_validate(
        {
            "complianceState": "Non-Compliant",
            "sourceSyncedCommitId": None,
            "statusUpdatedAt": "2026-12-01T10:00:05Z",
            "statuses": [
                {
                    "kind": "GitRepository",
                    "name": "baseline",
                    "complianceState": "Non-Compliant",
                    "statusConditions": [
                        {"type": "Ready", "status": "False", "reason": reason, "message": message}
                    ],
                }
            ],
        }
    )


def test_a_source_flux_cannot_authenticate_to_fails_at_once_saying_so() -> None:
    written = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    for status in (
        source_failure("unable to clone 'https://x': authentication required"),
        source_failure("ssh: handshake failed", reason="AuthenticationFailed"),
    ):
        health = assess(TARGET, status, Connectivity.CONNECTED, since=written)
        assert (health.state, health.reason) == (
            HealthState.FAILED,
            Reason.SOURCE_AUTHENTICATION_FAILED,
        )
        assert "source.auth" in health.message
    # Reported before arcwave's write: about the configuration it replaced.
    later = datetime(2026, 12, 1, 10, 1, tzinfo=UTC)
    stale = assess(TARGET, source_failure("authentication required"), None, since=later)
    assert stale.state is HealthState.PROGRESSING
    other = assess(TARGET, source_failure("no such branch"), None, since=written)
    assert other.state is HealthState.PROGRESSING


def test_a_verdict_reported_before_going_offline_stands() -> None:
    healthy = assess(TARGET, flux(f"main/{TARGET}", "Compliant"), Connectivity.OFFLINE)
    assert healthy.state is HealthState.HEALTHY
    failed = assess(TARGET, flux(f"main/{TARGET}", "Non-Compliant"), Connectivity.OFFLINE)
    assert failed.state is HealthState.FAILED


@pytest.mark.parametrize(
    ("status", "fragment"),
    [
        (None, "waiting for the fluxConfiguration"),
        (flux(None, "Pending"), "waiting for Flux to fetch 2b7e0c1"),
        (flux("not-a-commit", "Pending"), "waiting for Flux to fetch"),
        (flux(f"main/{TARGET}", "Pending"), "Pending at 2b7e0c1, waiting for Compliant"),
        (flux(f"main/{TARGET}", "Suspended"), "Suspended at 2b7e0c1"),
    ],
)
def test_everything_else_is_progressing(status: FluxStatus | None, fragment: str) -> None:
    health = assess(TARGET, status, Connectivity.CONNECTED)
    assert health.state is HealthState.PROGRESSING
    assert health.reason is Reason.PROGRESSING
    assert fragment in health.message


def test_reads_the_azure_get_response_shape() -> None:
    body = json.loads((PAYLOADS / "arm-fluxconfigurations-get.response.json").read_text())
    status = FluxStatus.model_validate(body["properties"])
    commit = status.synced_commit
    assert commit is not None
    assert assess(commit, status, Connectivity.CONNECTED).state is HealthState.HEALTHY
