"""Shared test settings: hypothesis profiles sized for CI's two cores, the Cosmos stand-in
for every tier that needs a Cosmos store, and the log scan: no secret the suite registered
(`tests.support.secret`) may show in any log it produced (tests/logscan.py)."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests import logscan
from tests.cosmos_standin import CosmosStandIn, running_standin
from tests.support import SECRETS

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def cosmos_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosStandIn]:
    """This worker's Cosmos stand-in on a free loopback port, with a fresh certificate."""
    with running_standin(tmp_path_factory.mktemp("cosmos-standin")) as standin:
        yield standin


LEAKS: list[logscan.Leak] = []
"""Secrets found in what pytest captured of this process's tests, reported at the end."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Look for registered secrets in what pytest captured of each test phase."""
    LEAKS.extend(logscan.in_sections(report.nodeid, report.sections, SECRETS))


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After every other fixture of the session is torn down (it is set up first, so it ends
    last): no log file under this process's temporary folder, and nothing pytest captured,
    shows a registered secret. A leak fails the session naming the file and the secret."""
    root = tmp_path_factory.getbasetemp()
    yield
    # A phase's report repeats the sections of the phases before it: each leak once.
    leaks = list(dict.fromkeys([*LEAKS, *logscan.in_files(root, SECRETS)]))
    if leaks:
        pytest.fail(logscan.failure(leaks), pytrace=False)
