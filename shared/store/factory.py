"""Open the store the settings name: SQLite (`sqlite:///ABSOLUTE/PATH.db`) or Cosmos DB.

The settings themselves (`ARCWAVE_STORE`, `ARCWAVE_COSMOS_ENDPOINT`, `ARCWAVE_COSMOS_DATABASE`,
`ARCWAVE_COSMOS_KEY`) are read and checked by `shared.settings`; this module only turns them
into an adapter. Tests and tools may pass a `sqlite:///...` url as text.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.settings import Settings
from shared.settings import StoreSettings as SettingsOfStore
from shared.store.base import Store, StoreMisconfigured
from shared.store.containers import Layout

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

SQLITE_PREFIX = "sqlite://"


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///ABSOLUTE/PATH.db` url (extra leading slashes are one root)."""
    rest = url.strip().removeprefix(SQLITE_PREFIX)
    if not url.strip().startswith(SQLITE_PREFIX) or not rest.startswith("/"):
        raise StoreMisconfigured(
            f"store url '{url}' must name an absolute path: sqlite:///ABSOLUTE/PATH.db"
        )
    return Path("/" + rest.lstrip("/"))


def open_store(
    settings: "str | Settings | SettingsOfStore",
    *,
    credential: "TokenCredential | None" = None,
    layout: Layout | None = None,
    ca_bundle: str | None = None,
    create_containers: bool = False,
) -> Store:
    """The store the settings name; the caller closes it.

    For Cosmos, `ARCWAVE_COSMOS_KEY` signs in when set (the local stand-in only); otherwise
    `credential`, or DefaultAzureCredential when none is given (the app's managed identity).
    `ca_bundle` is a PEM file to trust (the stand-in's certificate). `create_containers`
    creates the database and containers when missing; in Azure, Bicep creates them.
    """
    if isinstance(settings, Settings):
        settings = settings.store
    if isinstance(settings, str):
        from shared.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(settings), layout=layout)
    if settings.kind == "sqlite":
        from shared.store.sqlite import SqliteStore

        if settings.sqlite_path is None:
            raise StoreMisconfigured("ARCWAVE_STORE names SQLite but no path was given")
        return SqliteStore(settings.sqlite_path, layout=layout)
    return _open_cosmos(settings, credential, layout, ca_bundle, create_containers)


def _open_cosmos(
    settings: SettingsOfStore,
    credential: "TokenCredential | None",
    layout: Layout | None,
    ca_bundle: str | None,
    create_containers: bool,
) -> Store:
    from shared.store.cosmos import CosmosStore

    if not settings.cosmos_endpoint:
        raise StoreMisconfigured("ARCWAVE_STORE=cosmos needs ARCWAVE_COSMOS_ENDPOINT")
    if not settings.cosmos_database:
        raise StoreMisconfigured("ARCWAVE_STORE=cosmos needs ARCWAVE_COSMOS_DATABASE")
    key = settings.cosmos_key.get_secret_value() if settings.cosmos_key else None
    if key and credential is not None:
        raise StoreMisconfigured(
            "ARCWAVE_COSMOS_KEY is set and a credential was given: use one (the key is only "
            "for the local stand-in)"
        )
    signer: Any = key or credential
    if signer is None:
        from azure.identity import DefaultAzureCredential

        signer = DefaultAzureCredential()
    store = CosmosStore(
        settings.cosmos_endpoint,
        settings.cosmos_database,
        signer,
        layout=layout,
        ca_bundle=ca_bundle,
    )
    if create_containers:
        store.ensure_containers()
    return store
