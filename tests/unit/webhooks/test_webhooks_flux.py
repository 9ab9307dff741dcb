"""Flux notification-controller events through a `generic-hmac` Provider."""

import json

import pytest
from webhooks_support import FLUX_KEY, OTHER_SECRET, dumps, flux_event, load, raw, sign_flux

from shared.revision import Revision
from shared.webhooks import (
    CLUSTER_ID_KEY,
    FluxEvent,
    PayloadError,
    SignatureError,
    WebhookConfigError,
    parse_flux_event,
)

SHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/site-1"
    "/providers/Microsoft.Kubernetes/connectedClusters/store-001"
)


def parse(body: bytes, headers: dict[str, str], key: str = FLUX_KEY) -> FluxEvent:
    return parse_flux_event(headers, body, key)


def test_the_cluster_id_key_is_clusterid() -> None:
    assert CLUSTER_ID_KEY == "clusterId"


@pytest.mark.parametrize("revision", [f"main/{SHA}", f"main@sha1:{SHA}"])
def test_both_revision_formats(revision: str) -> None:
    body = dumps(flux_event(revision, CLUSTER))
    event = parse(body, sign_flux(body))
    assert event.cluster_id == CLUSTER
    assert event.revision == Revision(commit=SHA, branch="main")
    assert event.reason == "ValidationFailed"
    assert event.severity == "error"
    assert event.is_error
    assert event.kustomization == "webapp"
    assert (event.kind, event.name, event.namespace) == ("Kustomization", "webapp", "apps")
    assert event.message.startswith("service/apps/webapp validation error")
    assert event.reporting_controller == "kustomize-controller"
    assert event.timestamp == "2022-10-28T07:26:19Z"


def test_the_published_event_with_a_cluster_id_added() -> None:
    data = load("flux-notification-generic-event.json")  # the group-prefixed revision key
    data["metadata"][CLUSTER_ID_KEY] = CLUSTER
    body = dumps(data)
    event = parse(body, sign_flux(body))
    assert event.revision == Revision(commit=SHA, branch="main")


def test_the_published_event_without_a_cluster_id_is_refused() -> None:
    body = raw("flux-notification-generic-event.json")
    with pytest.raises(PayloadError) as caught:
        parse(body, sign_flux(body))
    assert caught.value.problems[0].loc == "metadata.clusterId"
    assert "eventMetadata" in caught.value.problems[0].msg


def test_events_about_other_objects() -> None:
    data = flux_event(f"main@sha1:{SHA}", CLUSTER)
    data["involvedObject"].update(kind="GitRepository", apiVersion="source.toolkit.fluxcd.io/v1")
    data.update(severity="info", reason="GitOperationFailed")
    body = dumps(data)
    event = parse(body, sign_flux(body))
    assert event.kustomization is None
    assert event.kind == "GitRepository"
    assert not event.is_error


@pytest.mark.parametrize("revision", [None, "latest@sha256:" + "a" * 64, "main", ""])
def test_events_without_a_git_revision(revision: str | None) -> None:
    body = dumps(flux_event(revision, CLUSTER))
    assert parse(body, sign_flux(body)).revision is None


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512", "sha224"])
def test_accepted_hash_functions(algorithm: str) -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    assert parse(body, sign_flux(body, algorithm=algorithm)).cluster_id == CLUSTER


def test_sha1_is_refused() -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    with pytest.raises(SignatureError):
        parse(body, sign_flux(body, algorithm="sha1"))


def test_bad_hmac() -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    with pytest.raises(SignatureError, match="does not match"):
        parse(body, sign_flux(body, key=OTHER_SECRET))
    headers = sign_flux(body)
    with pytest.raises(SignatureError, match="does not match"):
        parse(body.replace(b"webapp", b"webapq"), headers)


@pytest.mark.parametrize("value", [None, "", "sha256", "=abc", "md5=abc", "sha256=é"])
def test_missing_or_malformed_signature(value: str | None) -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    headers = sign_flux(body)
    if value is None:
        del headers["X-Signature"]
    else:
        headers["X-Signature"] = value
    with pytest.raises(SignatureError):
        parse(body, headers)


def test_no_key_configured() -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    with pytest.raises(WebhookConfigError):
        parse_flux_event(sign_flux(body), body, None)


def test_key_rotation() -> None:
    body = dumps(flux_event(f"main/{SHA}", CLUSTER))
    assert parse_flux_event(sign_flux(body), body, [OTHER_SECRET, FLUX_KEY]).cluster_id == CLUSTER


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d.pop("involvedObject"), "involvedObject"),
        (lambda d: d["involvedObject"].pop("name"), "involvedObject.name"),
        (lambda d: d.update(severity=3), "severity"),
        (lambda d: d.update(metadata={"clusterId": 7}), "metadata.clusterId"),
        (lambda d: d.update(metadata=["clusterId"]), "metadata"),
        (lambda d: d.pop("message"), "message"),
    ],
)
def test_malformed_events(mutate: object, loc: str) -> None:
    data = flux_event(f"main/{SHA}", CLUSTER)
    mutate(data)  # type: ignore[operator]
    body = json.dumps(data).encode()
    with pytest.raises(PayloadError) as caught:
        parse(body, sign_flux(body))
    assert loc in [p.loc for p in caught.value.problems]


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"not json"])
def test_bodies_that_are_not_events(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(body, sign_flux(body))
