"""The dashboard shows finished rollouts as they are: the good one succeeded wave by wave, the
bad one failed on the canary and was rolled back (the demo's story, on the e2e fleet); the
overview, the list and its filters, a cluster's deep link, the plan preview; the page's
console stays clean, and axe-core finds no serious or critical violation on any page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from shared.states import RolloutState
from tests.browser.chromium import (
    axe_violations,
    console_errors,
    open_page,
    sign_in,
    sign_out,
    text,
    texts,
    wait,
)
from tests.e2e.rollout_support import BAD, GOOD, Stack, running_stack

pytestmark = pytest.mark.browser

GOOD_ID = "baseline-good-1"
BAD_ID = "baseline-bad-2"
OPERATOR = ["arcwave.Operator"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser: WebDriver) -> Iterator[Stack]:
    """The e2e fleet (12 clusters, 2 sites, 3 waves) with a good and a bad rollout, ended."""
    tmp: Path = tmp_path_factory.mktemp("render")
    with running_stack(tmp, easy_auth=True) as running:
        running.register()
        running.roll(GOOD, GOOD_ID)
        running.wait_state(GOOD_ID, RolloutState.SUCCEEDED)
        running.roll(BAD, BAD_ID)
        running.wait_state(BAD_ID, RolloutState.ROLLED_BACK)
        yield running


def signed_in(page: WebDriver, stack: Stack, route: str, roles: list[str] = OPERATOR) -> None:
    sign_in(page, stack.host, "ada@contoso.com", roles)
    open_page(page, stack.host, route)


def wave_cards(page: WebDriver) -> list[tuple[str, str]]:
    """(name, state as shown) of each wave card, in order."""
    script = (
        "return [...document.querySelectorAll('.waves > li')]"
        ".map(c => [c.dataset.wave, c.querySelector('h3 .badge').textContent])"
    )
    return [tuple(card) for card in page.execute_script(script)]


def tiles(page: WebDriver) -> dict[str, str]:
    script = (
        "return Object.fromEntries([...document.querySelectorAll('.tile')]"
        ".map(t => [t.querySelector('.name').textContent, t.dataset.state]))"
    )
    return dict(page.execute_script(script))


def test_signing_in_is_asked_for_first(page: WebDriver, stack: Stack) -> None:
    sign_out(page, stack.host)
    open_page(page, stack.host)
    link = wait(page, lambda d: d.find_element(By.LINK_TEXT, "Sign in with Microsoft Entra ID"))
    assert link.get_attribute("href").endswith("/.auth/login/aad?post_login_redirect_uri=/api/ui")
    assert console_errors(page, "api/ui/api/me - Failed to load resource") == []


def test_signing_in_through_the_sign_in_page_comes_back_signed_in(
    page: WebDriver, stack: Stack
) -> None:
    """The dashboard's link leads to App Service authentication's sign-in (devhost's
    stand-in for Entra ID: a name and roles), which comes back to the dashboard."""
    sign_out(page, stack.host)
    open_page(page, stack.host)
    wait(page, lambda d: d.find_element(By.LINK_TEXT, "Sign in with Microsoft Entra ID")).click()
    name = wait(page, lambda d: d.find_element(By.CSS_SELECTOR, "form input[name=name]"))
    name.send_keys("grace@contoso.com")
    page.find_element(By.CSS_SELECTOR, "input[name=roles][value='arcwave.Reader']").click()
    name.submit()
    wait(page, lambda d: "grace@contoso.com" in text(d, "#who"))
    assert page.current_url.endswith("/api/ui")
    assert "Reader" in text(page, "#who")
    wait(page, lambda d: d.find_element(By.CSS_SELECTOR, "section.track"))
    signed_out_first = (
        "api/ui/api/me - Failed to load resource: the server responded with a status of 401"
    )
    sign_in_page_icon = "/favicon.ico - Failed to load resource"  # devhost's page has none
    assert console_errors(page, signed_out_first, sign_in_page_icon) == []


def test_the_overview_shows_each_track(page: WebDriver, stack: Stack) -> None:
    signed_in(page, stack, "#/")
    card = wait(page, lambda d: d.find_element(By.CSS_SELECTOR, "section.track"))
    facts = card.text
    assert "baseline" in facts
    assert f"Current revision\n{BAD[:7]}" in facts  # the last revision rolled out
    assert f"Last good revision\n{GOOD[:7]}" in facts
    assert "Active rollout\nnone" in facts
    assert f"Latest rollout\n{BAD_ID} Rolled back" in facts
    assert "Fleet\n12 clusters" in facts
    # rolled back: every cluster runs the last good revision again
    assert f"Running\n{GOOD[:7]} on 12 clusters (last good)" in facts
    legend = texts(page, "section.track .legend li")
    assert sum(int(item.rsplit(" ", 1)[1]) for item in legend) == 12
    assert console_errors(page) == []


def test_the_good_rollout_succeeded_wave_by_wave(page: WebDriver, stack: Stack) -> None:
    signed_in(page, stack, f"#/rollouts/{GOOD_ID}")
    wait(page, lambda d: len(wave_cards(d)) == 3)
    assert "Succeeded" in text(page, "h1")
    assert wave_cards(page) == [
        ("canary", "Succeeded"),
        ("early", "Succeeded"),
        ("broad", "Succeeded"),
    ]
    cards = texts(page, ".waves > li")
    for card, healthy in zip(cards, (2, 4, 6), strict=True):
        assert f"Healthy {healthy}" in card and f"{healthy} clusters" in card, card
        assert "Started " in card and "ended " in card, card
    assert "Failures allowed: 1" in cards[2]
    # the bad rollout took every cluster over since: this one keeps its waves' counts
    assert tiles(page) == {}
    assert "A later rollout of the track has taken these clusters over" in text(
        page, "section[aria-labelledby=clusters-title]"
    )
    reasons = texts(page, "section[aria-labelledby=timeline-title] tbody td:nth-child(3)")
    assert reasons[0] == "RolloutStarted" and reasons[-1] == "RolloutSucceeded"
    assert reasons.count("WaveSucceeded") == 3
    # a first rollout has nothing good before it to roll back to; it is over: no action
    assert page.find_elements(By.CSS_SELECTOR, ".actions button") == []
    assert console_errors(page) == []


def test_the_bad_rollout_failed_on_the_canary_and_was_rolled_back(
    page: WebDriver, stack: Stack
) -> None:
    signed_in(page, stack, f"#/rollouts/{BAD_ID}")
    wait(page, lambda d: len(tiles(d)) == 12)
    assert "Rolled back" in text(page, "h1")
    head = text(page, "dl.facts")
    assert f"last good before: {GOOD[:7]}" in head
    waves = dict(wave_cards(page))
    assert waves["canary"] in ("Rolled back", "Failed")
    assert waves["early"] in ("Pending", "Skipped") and waves["broad"] in ("Pending", "Skipped")
    states = tiles(page)
    assert {states["canary-1"], states["canary-2"]} == {"RolledBack"}
    assert all(states[n] != "Healthy" or n.startswith(("early", "store")) for n in states)
    attention = texts(page, "section[aria-labelledby=clusters-title] tbody tr")
    assert any(row.startswith("canary-1") for row in attention)
    reasons = texts(page, "section[aria-labelledby=timeline-title] tbody td:nth-child(3)")
    assert "FailureBudgetExceeded" in reasons and reasons[-1] == "RolledBack"
    # rolled back already: nothing left to do
    assert page.find_elements(By.CSS_SELECTOR, ".actions button") == []
    assert console_errors(page) == []


def test_a_cluster_deep_link_shows_its_reason_and_message(page: WebDriver, stack: Stack) -> None:
    signed_in(page, stack, f"#/rollouts/{BAD_ID}/clusters/canary-1")
    detail = wait(page, lambda d: d.find_element(By.CSS_SELECTOR, ".cluster-detail"))
    assert detail.text.startswith("canary-1 Rolled back")
    assert "Reason\n" in detail.text and "Message\n" in detail.text
    tile = page.find_element(By.CSS_SELECTOR, ".tile[aria-current=true]")
    assert tile.find_element(By.CLASS_NAME, "name").text == "canary-1"
    # another cluster of the same rollout: the page stays, the detail follows
    page.execute_script("window.stayed = true")
    page.find_element(By.XPATH, "//a[contains(@class,'tile')][.//span[text()='store-1']]").click()
    wait(
        page,
        lambda d: d.find_element(By.CSS_SELECTOR, ".cluster-detail h3").text.startswith("store-1"),
    )
    assert page.execute_script("return window.stayed") is True
    assert console_errors(page) == []


def test_the_list_filters_by_track_and_state(page: WebDriver, stack: Stack) -> None:
    signed_in(page, stack, "#/rollouts")
    wait(page, lambda d: len(texts(d, "tbody tr")) == 2)
    assert texts(page, "tbody td:first-child") == [BAD_ID, GOOD_ID]
    page.find_element(By.ID, "filter-state").send_keys("Rolled back")
    wait(page, lambda d: "state=RolledBack" in d.current_url and len(texts(d, "tbody tr")) == 1)
    assert texts(page, "tbody td:first-child") == [BAD_ID]
    open_page(page, stack.host, "#/rollouts?track=nothing")
    wait(page, lambda d: "No rollout matches." in d.find_element(By.TAG_NAME, "main").text)
    assert console_errors(page) == []


def test_the_plan_preview_shows_waves_and_write_order(page: WebDriver, stack: Stack) -> None:
    signed_in(page, stack, "#/tracks/baseline/plan", ["arcwave.Reader"])
    wait(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".plan-waves > li")) == 3)
    headings = texts(page, ".plan-waves h2")
    assert headings == ["Wave 1: canary", "Wave 2: early", "Wave 3: broad"]
    first = texts(page, ".plan-waves > li:first-child tbody td:nth-child(2)")
    assert first == ["canary-1", "canary-2"]
    assert "Every cluster of the fleet is in a wave." in page.find_element(By.TAG_NAME, "main").text
    # The ETA: when the rollout, each wave and each batch can finish at the earliest, at the
    # pace the track's two rollouts taught (every cluster of the fleet turned Healthy once).
    assert text(page, ".eta").startswith("Earliest finish: ")
    canary = text(page, ".plan-waves > li:first-child .eta-wave")
    assert canary.startswith("Earliest start ") and "learned from 12 clusters" in canary
    batches = texts(page, ".plan-waves > li:nth-child(2) .batches li")
    assert [b.split(":")[0] for b in batches] == ["Batch 1", "Batch 2"]  # early: 4, 2 at a time
    assert console_errors(page) == []


@pytest.mark.parametrize(
    "route",
    [
        "#/",
        "#/rollouts",
        f"#/rollouts/{BAD_ID}",
        f"#/rollouts/{GOOD_ID}/clusters/store-1",
        "#/tracks/baseline/plan",
    ],
)
def test_no_serious_accessibility_violation(page: WebDriver, stack: Stack, route: str) -> None:
    signed_in(page, stack, route, ["arcwave.Operator", "arcwave.Approver"])
    wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "main table, main section.track"))
    assert axe_violations(page) == []
    assert console_errors(page) == []


def test_the_sign_in_page_is_accessible_too(page: WebDriver, stack: Stack) -> None:
    sign_out(page, stack.host)
    open_page(page, stack.host)
    wait(page, lambda d: d.find_element(By.LINK_TEXT, "Sign in with Microsoft Entra ID"))
    assert axe_violations(page) == []
