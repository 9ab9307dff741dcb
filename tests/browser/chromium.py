"""Debian's Chromium through Debian's chromedriver (`make browser-deps`), headless, offline,
with a fresh profile; signing in as App Service authentication's session cookie does it;
the page's console; axe-core (`make axe`) injected into the page.

Nothing here reaches the network: the flags turn off Chromium's background traffic, and the
machine's network is closed anyway.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from devhost.testing import DevHost

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SESSION_COOKIE = "AppServiceAuthSession"
AXE_FOLDER = ROOT / "tests" / "browser" / "axe"
AXE = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
T = TypeVar("T")


def missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if absent:
        return f"{' and '.join(absent)} missing: run `make browser-deps`"
    return None


@contextmanager
def chromium(profile: Path, *, width: int = 1400, height: int = 1000) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile in `profile`; quit on the way out."""
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(str(CHROMEDRIVER), log_output=str(profile / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def session_cookie(host: DevHost, name: str, roles: list[str]) -> dict[str, Any]:
    """A signed-in browser's `AppServiceAuthSession` cookie, as devhost's harness makes it
    (`DevHost.session_cookie`), or from a token where the harness has no such helper."""
    helper = getattr(host, "session_cookie", None)
    if helper is not None:
        return dict(helper(name, roles))
    return {"name": SESSION_COOKIE, "value": host.token(name, roles), "path": "/"}


def sign_in(driver: WebDriver, host: DevHost, name: str, roles: list[str]) -> None:
    """Be `name` with `roles` in this browser from now on: the session cookie is set for the
    host's site through DevTools, with no page of the host loaded first (a page would ask
    for a favicon, or the dashboard for a session it has not got yet)."""
    sign_out(driver, host)
    cookie = session_cookie(host, name, roles)
    driver.execute_cdp_cmd(
        "Network.setCookie",
        {
            "name": cookie["name"],
            "value": cookie["value"],
            "url": host.url("/"),
            "path": cookie.get("path", "/"),
            "httpOnly": True,
            "sameSite": "Lax",
        },
    )


def sign_out(driver: WebDriver, host: DevHost) -> None:
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})


def open_page(driver: WebDriver, host: DevHost, route: str = "#/") -> None:
    """Load the dashboard afresh at `route` (a hash alone would not reload the page)."""
    driver.get("about:blank")
    driver.get(host.url(f"/api/ui{route}"))


def wait(driver: WebDriver, check: Callable[[WebDriver], T], timeout: float = 30.0) -> T:
    """What `check` returns once it is truthy (exceptions count as not yet)."""

    def attempt(d: WebDriver) -> T | bool:
        try:
            return check(d)
        except Exception:
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(attempt)  # type: ignore[arg-type]


def text(driver: WebDriver, selector: str) -> str:
    return str(
        driver.execute_script(
            f"return document.querySelector({json.dumps(selector)})?.innerText || ''"
        )
    )


def texts(driver: WebDriver, selector: str) -> list[str]:
    script = f"return [...document.querySelectorAll({json.dumps(selector)})].map(e => e.innerText)"
    return list(driver.execute_script(script))


def console_errors(driver: WebDriver, *allowed: str) -> list[str]:
    """The console's errors since the last call (SEVERE: uncaught errors, failed loads, CSP
    violations), less those containing one of `allowed`."""
    entries = driver.get_log("browser")
    return [
        e["message"]
        for e in entries
        if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)
    ]


def ensure_axe() -> Path:
    """axe-core in tests/browser/axe (`make axe`; `npm ci` here when it is missing, one
    worker at a time)."""
    if AXE.exists():
        return AXE
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("axe-core is missing and npm is not on PATH: run `make axe`")
    with open(AXE_FOLDER / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.exists():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=AXE_FOLDER,
                check=True,
                capture_output=True,
                timeout=300,
            )
    return AXE


def axe_violations(
    driver: WebDriver, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[str]:
    """axe-core's violations of the page as it is now, of the given impacts: one line each,
    with the rule, its help and the nodes it found."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(ensure_axe().read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(n.get("html", "")[:120] for n in v["nodes"][:5])
        for v in found
        if v.get("impact") in impacts
    ]
