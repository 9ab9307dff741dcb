"""Fixtures for devhost integration tests: one shared devhost subprocess per test worker.

The test app is copied to a temporary folder with a generated local.settings.json (the file
name is git-ignored, so it cannot live in the repository).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.testing import DevHost
from tests.support import secret

APP = Path(__file__).resolve().parents[2] / "apps" / "durable_features"
LOCAL_SETTINGS = {
    "IsEncrypted": False,
    "Values": {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "DEVHOST_TEST_HUB": "FeaturesHub",
        "DEVHOST_TEST_GREETING": "hello",
    },
}

pytestmark = pytest.mark.integration


def copy_app(target: Path) -> Path:
    """tests/apps/durable_features copied to `target`, with its local.settings.json."""
    app = target / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__", ".devhost"))
    (app / "local.settings.json").write_text(json.dumps(LOCAL_SETTINGS), encoding="utf-8")
    return app


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A private copy of the test app for tests that start their own devhost."""
    return copy_app(tmp_path)


@pytest.fixture(scope="session")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    """devhost serving the test app on a free port with its own state, logging at DEBUG: every
    invocation's line shows (at the default level only failures do)."""
    root = tmp_path_factory.mktemp("devhost")
    state = root / "state"
    with DevHost(
        copy_app(root),
        state_dir=state,
        env={"DEVHOST_TEST_MARKS": str(root / "marks")},
        log_level="DEBUG",
    ) as h:
        secret("devhost function key", h.function_key)
        yield h


@pytest.fixture
def client(host: DevHost) -> Callable[..., Any]:
    """Call the app's `client/{op}` route, i.e. the real DurableOrchestrationClient."""

    def call(op: str, **args: Any) -> Any:
        status, body = host.request("POST", f"/api/client/{op}", args)
        if status != 200:
            raise AssertionError(f"client {op} answered {status}: {body}")
        return body

    return call
