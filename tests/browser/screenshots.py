"""`make screenshots`: the dashboard on the demo's local stack (`arcwave demo`'s fleet, track
and pushes), photographed in headless Chromium for the docs:

    dashboard-rollout-mid-wave.png   the good commit's rollout while its waves write
    dashboard-fleet.png              the tracks' overview once both rollouts ended
    dashboard-rolled-back.png        the bad commit's rollout: failed on the canary, rolled back

Run: .venv/bin/python -m tests.browser.screenshots [FOLDER] (default docs/images).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from cli.demo.scenario import (
    BAD_COMMIT,
    BASE_COMMIT,
    branch_head,
    ensure_canary_fails,
    register_track,
    send_push,
)
from cli.demo.stack import Stack, local_stack
from tests.browser.chromium import chromium, missing, open_page, sign_in, wait

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1400
ROLES = ["arcwave.Operator", "arcwave.Approver"]
TIMEOUT = 240.0


def until(what: str, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise TimeoutError(f"waited {timeout:.0f}s for {what}")


def rollout(stack: Stack, rollout_id: str) -> dict[str, Any]:
    return stack.api_json("GET", f"rollouts/{rollout_id}")


def mid_wave(stack: Stack, rollout_id: str) -> bool:
    """A later wave writing, some of its clusters healthy already and some not yet."""
    for wave in rollout(stack, rollout_id)["waves"][1:]:
        states = [c["state"] for c in wave["clusters"]]
        writing = wave["state"] in ("Applying", "Progressing") and "Healthy" in states
        if writing and any(s in ("Pending", "Applying", "Progressing") for s in states):
            return True
    return False


def shows_mid_wave(driver: WebDriver) -> bool:
    """The page shows a later wave with clusters healthy and clusters still to go."""
    for card in driver.find_elements(By.CSS_SELECTOR, ".waves > li:not(:first-child)"):
        legend = card.find_element(By.CLASS_NAME, "legend").text
        if "Healthy" in legend and any(s in legend for s in ("Pending", "Applying", "Progress")):
            return True
    return False


def shoot(driver: WebDriver, path: Path, ready: Callable[[WebDriver], Any]) -> None:
    """A screenshot of the whole page once `ready` holds."""
    wait(driver, ready, timeout=60)
    time.sleep(0.5)  # the last poll's repaint
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(WIDTH, min(max(height, 700), 2600))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(folder: Path) -> int:
    why = missing()
    if why:
        print(why, file=sys.stderr)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    quiet = Console(quiet=True)
    with tempfile.TemporaryDirectory(prefix="arcwave-screenshots-") as tmp:
        state = Path(tmp)
        with local_stack(state / "demo", 0, quiet) as stack, chromium(state / "chromium") as driver:
            host = stack.devhost
            spec = register_track(stack, quiet)
            head = branch_head(stack, spec)
            ensure_canary_fails(stack, quiet)
            sign_in(driver, host, "ada@contoso.com", ROLES)

            good = send_push(stack, spec, head, BASE_COMMIT)
            open_page(driver, host, f"#/rollouts/{good}")
            until("a wave half written", lambda: mid_wave(stack, good))
            shoot(driver, folder / "dashboard-rollout-mid-wave.png", shows_mid_wave)
            until("the good rollout to end", lambda: rollout(stack, good)["state"] == "Succeeded")

            bad = send_push(stack, spec, BAD_COMMIT, head)
            until("the bad rollout to end", lambda: rollout(stack, bad)["state"] == "RolledBack")
            open_page(driver, host, "#/")
            shoot(
                driver,
                folder / "dashboard-fleet.png",
                lambda d: d.find_elements(By.CSS_SELECTOR, "section.track .legend li"),
            )
            open_page(driver, host, f"#/rollouts/{bad}/clusters/canary-1")
            shoot(
                driver,
                folder / "dashboard-rolled-back.png",
                lambda d: d.find_elements(By.CSS_SELECTOR, ".cluster-detail"),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"))
