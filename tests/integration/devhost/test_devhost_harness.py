"""The DevHost harness: where its output goes, what it keeps from the caller's environment."""

import json
from pathlib import Path

import pytest

from devhost.testing import DevHost

pytestmark = pytest.mark.integration


def test_the_child_inherits_the_environment_except_what_is_kept_out(
    app_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = json.loads((app_dir / "local.settings.json").read_text())
    del settings["Values"]["DEVHOST_TEST_GREETING"]
    (app_dir / "local.settings.json").write_text(json.dumps(settings))
    monkeypatch.setenv("DEVHOST_TEST_GREETING", "from the shell")
    with DevHost(app_dir, tmp_path / "open") as host:
        assert host.request("GET", "/api/hello/world")[1] == "from the shell world"
    log = tmp_path / "logs" / "devhost.log"
    with DevHost(app_dir, tmp_path / "kept", keep_out=("DEVHOST_TEST_",), log_path=log) as host:
        assert host.alive
        assert host.request("GET", "/api/hello/world")[1] == "? world"
    assert not host.alive
    assert "devhost: listening on" in log.read_text()
