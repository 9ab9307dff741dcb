"""Choosing the store from settings; mistakes name the setting."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.settings import Settings, StoreSettings
from shared.store import Layout, StoreMisconfigured, open_store
from shared.store.factory import sqlite_path
from shared.store.sqlite import SqliteStore

ENDPOINT = "https://acct.documents.azure.com:443/"


def test_a_sqlite_url_opens_the_embedded_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path}/state.db", layout=Layout(timeline_ttl=60))
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "state.db"
    assert store.layout.timeline_ttl == 60
    store.close()


def test_the_app_settings_open_the_store_they_name(tmp_path: Path) -> None:
    settings = Settings.from_env({"ARCWAVE_STORE": f"sqlite:///{tmp_path}/state.db"})
    with open_store(settings) as store:
        assert isinstance(store, SqliteStore) and store.path == tmp_path / "state.db"


def test_extra_slashes_in_a_sqlite_url_are_one_root() -> None:
    assert sqlite_path("sqlite:////var/lib/x.db") == Path("/var/lib/x.db")


@pytest.mark.parametrize("url", ["sqlite://state.db", "postgres://x/y", "cosmos"])
def test_a_text_url_must_be_an_absolute_sqlite_path(url: str) -> None:
    with pytest.raises(StoreMisconfigured, match=r"sqlite:///ABSOLUTE/PATH\.db"):
        open_store(url)


def test_cosmos_needs_an_endpoint_and_a_database() -> None:
    with pytest.raises(StoreMisconfigured, match="ARCWAVE_COSMOS_ENDPOINT"):
        open_store(StoreSettings(kind="cosmos", cosmos_database="db"))
    with pytest.raises(StoreMisconfigured, match="ARCWAVE_COSMOS_DATABASE"):
        open_store(StoreSettings(kind="cosmos", cosmos_endpoint=ENDPOINT))


def test_a_key_and_a_credential_together_are_refused_without_showing_the_key() -> None:
    settings = StoreSettings(
        kind="cosmos",
        cosmos_endpoint=ENDPOINT,
        cosmos_database="db",
        cosmos_key=SecretStr("very-secret-key"),
    )
    with pytest.raises(StoreMisconfigured, match="use one") as caught:
        open_store(settings, credential=object())  # type: ignore[arg-type]
    assert "very-secret-key" not in str(caught.value)
