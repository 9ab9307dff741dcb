"""Acting from the dashboard: the buttons follow the user's roles, each asks for
confirmation in a dialog, and the app decides. An Approver approves a gated wave from the
rollout's page and watches it proceed, live, without a reload; a Reader sees no button, and a
command forged from the page without the role, or without the dashboard's header, is refused
403 in the app's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from shared.states import RolloutState
from tests.browser.chromium import console_errors, open_page, sign_in, text, texts, wait
from tests.e2e.rollout_support import GOOD, Stack, running_stack

pytestmark = pytest.mark.browser

GATED = "baseline-gated-1"
APPROVER = "approver@contoso.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser: WebDriver) -> Iterator[Stack]:
    """The e2e fleet with a track whose second wave waits for an approval, and a rollout
    waiting there."""
    tmp: Path = tmp_path_factory.mktemp("actions")
    waves = [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "early", "selector": {"ring": "early"}, "maxConcurrency": 2, "approval": True},
        {"name": "broad", "maxConcurrency": 3, "perSiteConcurrency": 1, "maxFailures": 1},
    ]
    with running_stack(tmp, easy_auth=True) as running:
        running.register(waves=waves)
        running.roll(GOOD, GATED)
        running.wait_state(GATED, RolloutState.WAITING_FOR_APPROVAL)
        yield running


def buttons(page: WebDriver) -> list[str]:
    return texts(page, ".actions button")


def forge(page: WebDriver, command: str, headers: dict[str, str]) -> dict[str, Any]:
    """What a script on the page gets for a command it sends itself."""
    script = """
const [url, headers, done] = arguments;
fetch(url, {method: 'POST', headers, body: '{}', credentials: 'same-origin'})
  .then(async r => done({status: r.status, body: await r.json()}))
  .catch(e => done({status: 0, body: String(e)}));
"""
    url = f"/api/ui/api/rollouts/{GATED}/{command}"
    return dict(page.execute_async_script(script, url, headers))


def test_a_reader_sees_no_button_and_a_forged_command_is_refused(
    page: WebDriver, stack: Stack
) -> None:
    sign_in(page, stack.host, "reader@contoso.com", ["arcwave.Reader"])
    open_page(page, stack.host, f"#/rollouts/{GATED}")
    wait(page, lambda d: "Waiting for approval" in text(d, "h1"))
    assert buttons(page) == []
    assert "Reader" in text(page, "#who")

    no_role = forge(page, "approve", {"X-Arcwave-Request": "1", "Content-Type": "application/json"})
    assert no_role == {
        "status": 403,
        "body": {
            "error": "approve a rollout needs the role arcwave.Approver; reader@contoso.com "
            "has arcwave.Reader"
        },
    }
    no_header = forge(page, "pause", {"Content-Type": "application/json"})
    assert no_header["status"] == 403
    assert "X-Arcwave-Request: 1" in no_header["body"]["error"]
    assert stack.rollout(GATED).state is RolloutState.WAITING_FOR_APPROVAL  # type: ignore[union-attr]
    refused = console_errors(page)
    assert len(refused) == 2 and all("403 (Forbidden)" in e for e in refused), refused


def test_an_operator_may_pause_or_abort_but_not_approve(page: WebDriver, stack: Stack) -> None:
    sign_in(page, stack.host, "olga@contoso.com", ["arcwave.Operator"])
    open_page(page, stack.host, f"#/rollouts/{GATED}")
    wait(page, lambda d: buttons(d))
    assert buttons(page) == ["Pause", "Abort"]
    page.find_element(By.CSS_SELECTOR, ".actions button[data-command=abort]").click()
    dialog = wait(page, lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open]"))
    assert "Abort rollout" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "button[value=cancel]").click()
    wait(page, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))
    assert stack.rollout(GATED).state is RolloutState.WAITING_FOR_APPROVAL  # type: ignore[union-attr]
    assert console_errors(page) == []


def test_an_approver_approves_the_gated_wave_and_watches_it_proceed(
    page: WebDriver, stack: Stack
) -> None:
    sign_in(page, stack.host, APPROVER, ["arcwave.Approver"])
    open_page(page, stack.host, f"#/rollouts/{GATED}")
    wait(page, lambda d: buttons(d) == ["Approve wave early"])
    early = page.find_element(By.CSS_SELECTOR, ".waves > li[data-wave=early]")
    assert "Approval: waiting since" in early.text
    page.execute_script("window.stayed = true")  # gone if the page reloads

    page.find_element(By.CSS_SELECTOR, ".actions button[data-command=approve]").click()
    dialog = wait(page, lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open]"))
    assert f"Approve wave early of rollout {GATED}?" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "button[value=confirm]").click()
    wait(page, lambda d: "accepted" in text(d, ".outcome"))

    wait(page, lambda d: "Succeeded" in text(d, "h1"), timeout=90)
    assert page.execute_script("return window.stayed") is True
    assert stack.rollout(GATED).state is RolloutState.SUCCEEDED  # type: ignore[union-attr]
    early = page.find_element(By.CSS_SELECTOR, ".waves > li[data-wave=early]")
    assert f"Approval: approved by {APPROVER}" in early.text
    actors = texts(page, "section[aria-labelledby=timeline-title] tbody td:nth-child(2)")
    assert APPROVER in actors
    assert set(texts(page, ".tile .state")) == {"Healthy"}
    assert buttons(page) == []  # an Approver does not roll back
    assert console_errors(page) == []
