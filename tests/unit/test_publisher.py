"""The Event Grid publisher through the real azure-eventgrid client, to a local endpoint."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.publisher import DisabledPublisher, EventGridPublisher, publisher_for
from shared.errors import PermanentError, TransientError
from shared.events import EventType, lifecycle_event
from shared.reasons import Reason
from shared.settings import Settings
from tests.support import Topic


@pytest.fixture
def topic() -> Iterator[Topic]:
    server = Topic()
    yield server
    server.close()


def event(kind: EventType = EventType.ROLLOUT_STARTED) -> Any:
    return lifecycle_event(
        kind,
        track="baseline",
        subject="rollouts/r-1",
        time=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        reason=Reason.ROLLOUT_STARTED,
        message="Rolling 2b7e0c1 over 3 waves",
        data={"revision": "2b7e0c1"},
    )


def test_events_arrive_as_cloudevents_with_their_ids(topic: Topic) -> None:
    from azure.core.credentials import AzureKeyCredential

    publisher = EventGridPublisher(topic.url, AzureKeyCredential("topic-key"))
    first = event()
    publisher.publish([first, event(EventType.WAVE_STARTED)])
    [(headers, body)] = topic.requests
    assert headers["aeg-sas-key"] == "topic-key"
    assert headers["content-type"].startswith("application/cloudevents-batch+json")
    assert [e["type"] for e in body] == ["arcwave.rollout.started", "arcwave.wave.started"]
    sent = body[0]
    assert sent["id"] == first.id
    assert sent["specversion"] == "1.0"
    assert sent["source"] == "/arcwave/tracks/baseline"
    assert sent["subject"] == "rollouts/r-1"
    assert sent["data"] == {
        "reason": "RolloutStarted",
        "message": "Rolling 2b7e0c1 over 3 waves",
        "revision": "2b7e0c1",
    }


def test_a_retried_publish_sends_the_same_ids(topic: Topic) -> None:
    from azure.core.credentials import AzureKeyCredential

    publisher = EventGridPublisher(topic.url, AzureKeyCredential("k"))
    publisher.publish([event()])
    publisher.publish([event()])
    assert topic.requests[0][1][0]["id"] == topic.requests[1][1][0]["id"]


def test_refusals_map_to_permanent_errors_without_the_key(topic: Topic) -> None:
    from azure.core.credentials import AzureKeyCredential

    topic.status = 401
    with pytest.raises(PermanentError) as error:
        EventGridPublisher(topic.url, AzureKeyCredential("secret-key")).publish([event()])
    assert "failed to publish 1 events" in str(error.value)
    assert "secret-key" not in str(error.value)


def test_an_unreachable_topic_is_transient() -> None:
    from azure.core.credentials import AzureKeyCredential

    publisher = EventGridPublisher(
        "http://127.0.0.1:9/api/events", AzureKeyCredential("k"), retry_total=0
    )
    with pytest.raises(TransientError):
        publisher.publish([event()])


def test_no_endpoint_means_publishing_is_off(tmp_path: Path) -> None:
    settings = Settings.from_env({"ARCWAVE_STORE": f"sqlite:///{tmp_path}/a.db"})
    publisher = publisher_for(settings)
    assert isinstance(publisher, DisabledPublisher)
    publisher.publish([event()])


def test_key_settings_build_a_key_publisher(tmp_path: Path, topic: Topic) -> None:
    settings = Settings.from_env(
        {
            "ARCWAVE_STORE": f"sqlite:///{tmp_path}/a.db",
            "ARCWAVE_EVENTGRID_ENDPOINT": topic.url,
            "ARCWAVE_EVENTGRID_KEY": "k2",
        }
    )
    publisher_for(settings).publish([event()])
    assert topic.requests[0][0]["aeg-sas-key"] == "k2"
