"""`arcwave rollouts override-windows`: the body it sends, what it prints, the reason it
requires, and the app's refusals as exit codes."""

import json

from tests.cli.arcwave_support import Arcwave, FakeApp
from tests.support import secret

KEY = secret("cli override test key", "override-key-0123456789")
ID = "baseline-2b7e0c1-5f3a9c1e"
PATH = f"/api/rollouts/{ID}/override-windows"


def use(fake_app: FakeApp, arcwave: Arcwave) -> None:
    arcwave.env.update({"ARCWAVE_URL": fake_app.url, "ARCWAVE_KEY": KEY})


def test_it_sends_the_reason_and_prints_what_the_app_said(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    answer = {
        "rolloutId": ID,
        "command": "override-windows",
        "state": "Running",
        "overriddenBy": "ops",
    }
    fake_app.answer("POST", PATH, 202, answer)
    use(fake_app, arcwave)
    ran = arcwave(
        "rollouts", "override-windows", ID, "--reason", "CVE-2026-1234, CHG-4711", "-o", "json"
    )
    assert (ran.code, ran.json()) == (0, answer)
    assert fake_app.sent[-1].path == PATH
    assert json.loads(fake_app.sent[-1].body) == {"reason": "CVE-2026-1234, CHG-4711"}
    ran = arcwave("rollouts", "override-windows", ID, "--reason", "hotfix")
    assert ran.code == 0 and f"override-windows sent to rollout {ID}" in ran.stdout


def test_a_reason_is_required_before_anything_is_sent(arcwave: Arcwave, fake_app: FakeApp) -> None:
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "override-windows", ID)
    assert ran.code == 2 and "--reason" in ran.stderr
    assert fake_app.sent == []


def test_refusals_are_exit_codes(arcwave: Arcwave, fake_app: FakeApp) -> None:
    use(fake_app, arcwave)
    fake_app.answer(
        "POST",
        PATH,
        403,
        {
            "error": "overriding maintenance windows needs the role arcwave.Admin; ops has "
            "arcwave.Operator"
        },
    )
    ran = arcwave("rollouts", "override-windows", ID, "--reason", "hotfix")
    assert ran.code == 4 and "arcwave.Admin" in ran.stderr
    fake_app.answer(
        "POST", PATH, 409, {"error": "cannot override maintenance windows: rollout is Succeeded"}
    )
    assert arcwave("rollouts", "override-windows", ID, "--reason", "hotfix").code == 3


def test_its_help_shows_an_example(arcwave: Arcwave) -> None:
    ran = arcwave("rollouts", "override-windows", "--help")
    assert ran.code == 0
    text = " ".join(ran.stdout.split())
    assert "Example" in text and "arcwave rollouts override-windows" in text
