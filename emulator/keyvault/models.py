"""The vault's secrets: every set makes a new version; names are case-insensitive.

Values are held in memory only. Nothing here logs them, and ``repr`` never shows one.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field

SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90


@dataclass(frozen=True)
class SecretVersion:
    """One version of a secret; ``created`` is Unix seconds, as Key Vault's attributes."""

    version: str
    value: str = field(repr=False)
    created: int


@dataclass
class Secret:
    name: str
    """The name as first set (Key Vault keeps the original casing)."""
    versions: list[SecretVersion] = field(default_factory=list)

    @property
    def latest(self) -> SecretVersion:
        return self.versions[-1]

    def version(self, version: str) -> SecretVersion | None:
        wanted = version.lower()
        return next((v for v in self.versions if v.version == wanted), None)


class Vault:
    """The vault's secrets by lower-cased name."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self._secrets: dict[str, Secret] = {}
        for name, value in (secrets or {}).items():
            self.set(name, value)

    def set(self, name: str, value: str) -> SecretVersion:
        """Store ``value`` as a new version of ``name`` (created on first set)."""
        if not SECRET_NAME.match(name):
            raise ValueError(name)
        secret = self._secrets.setdefault(name.lower(), Secret(name))
        created = SecretVersion(uuid.uuid4().hex, value, int(time.time()))
        secret.versions.append(created)
        return created

    def get(self, name: str) -> Secret | None:
        return self._secrets.get(name.lower())

    def delete(self, name: str) -> bool:
        return self._secrets.pop(name.lower(), None) is not None

    def names(self) -> list[str]:
        return sorted((secret.name for secret in self._secrets.values()), key=str.lower)

    def __len__(self) -> int:
        return len(self._secrets)
