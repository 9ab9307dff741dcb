"""The fleet gateway follows ARM's remaining-writes count, against the emulator over TLS: a
second writer drains the subscription's bucket between two of arcwave's batches, and arcwave
slows down to what ARM has left instead of drawing 429s."""

from collections import Counter
from collections.abc import Callable

import pytest
import requests
from fleet_support import HEAD, SUBSCRIPTION, cluster_id

from emulator.testing import Emulator
from shared.adapters.arm import REMAINING_WRITES
from shared.adapters.fleet import FleetGateway
from shared.desired import desired_configuration
from shared.trackspec import TrackSpec, validate_track_spec

pytestmark = pytest.mark.integration

ARM_BURST, ARM_RATE = 100, 10
LEFT_BY_THE_OTHER_WRITER = 30
"""The other writer stops once ARM says this much is left: more than arcwave's 16 writes in
flight at once, less than the batch that follows."""


def spec(configuration: str) -> TrackSpec:
    return validate_track_spec(
        {
            "name": configuration,
            "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
            "configuration": {"name": configuration, "kustomizations": {"infra": {}}},
            "fleet": {"subscriptions": [SUBSCRIPTION]},
            "waves": [{"name": "all"}],
        }
    )


def drain(emulator: Emulator, first: int) -> int:
    """Another writer's PUTs (configuration 'other') from store `first` on, until ARM says
    at most LEFT_BY_THE_OTHER_WRITER writes are left; that count."""
    body = desired_configuration(spec("other"), HEAD)
    with requests.Session() as session:
        session.headers["Authorization"] = "Bearer another-writer"
        for n in range(first, first + ARM_BURST):
            url = (
                f"{emulator.endpoint}{cluster_id(f'store-{n:04d}')}/providers/"
                "Microsoft.KubernetesConfiguration/fluxConfigurations/other"
            )
            answer = session.put(
                url,
                json=body,
                params={"api-version": "2025-04-01"},
                verify=str(emulator.cert_path),
                timeout=30,
            )
            assert answer.status_code in (200, 201), answer.text
            left = int(answer.headers[REMAINING_WRITES])
            if left <= LEFT_BY_THE_OTHER_WRITER:
                return left
    raise AssertionError("the other writer never drained the bucket")


def test_a_second_writer_on_the_subscription_draws_no_429_for_arcwave(
    make_emulator: Callable[..., Emulator], gateway_for: Callable[..., FleetGateway]
) -> None:
    emulator = make_emulator(
        stores=300,
        faults={
            "throttle": {"writes": {"bucket": ARM_BURST, "refillPerSecond": ARM_RATE}},
        },
    )
    # The gateway's bucket as ARM's: it starts full and knows nothing of the other writer.
    gateway = gateway_for(emulator, arm_writes_per_second=ARM_RATE, arm_write_burst=ARM_BURST)
    body = desired_configuration(spec("baseline"), HEAD)
    first = [cluster_id(f"store-{n:04d}") for n in range(1, 11)]
    assert all(o.ok for o in gateway.write_many(first, "baseline", body))

    left = drain(emulator, first=101)
    believed = gateway._buckets[SUBSCRIPTION].available
    second = [cluster_id(f"store-{n:04d}") for n in range(11, 91)]
    # Without ARM's answers the gateway would send the 80 at once: it believes it has far
    # more than ARM has left.
    assert believed - left >= 50, (believed, left)
    outcomes = gateway.write_many(second, "baseline", body)

    assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]
    ours = Counter(
        w["status"] for w in emulator.control.writes() if w["configuration"] == "baseline"
    )
    assert ours[429] == 0, ours
    assert ours[200] + ours[201] == 90
    # Paced by ARM's refill: the batch took its time instead of retrying after 429s.
    assert max(o.waited_seconds for o in outcomes) > 0
