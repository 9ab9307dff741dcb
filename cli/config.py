"""Contexts: which app `arcwave` talks to and how it proves who it is.

    <config dir>/contexts.yaml      (mode 0600: it holds function keys and tokens)

    current: prod
    contexts:
      prod:
        url: https://func-arcwave-prod.azurewebsites.net
        key: <function key>                       # sent as x-functions-key
        entra: {scope: api://<client-id>/.default, deviceCode: false, tenant: null}
      local:
        url: http://127.0.0.1:7071
        key: <function key>

The config dir is `ARCWAVE_CONFIG_DIR` when set, else `typer.get_app_dir("arcwave")`
(`~/.config/arcwave` on Linux). `ARCWAVE_URL`, `ARCWAVE_KEY` and `ARCWAVE_TOKEN` override the
selected context field by field (a token from the environment replaces the context's token or
Entra sign-in); with no context at all, `ARCWAVE_URL` alone is enough.

Keys and tokens are secrets: nothing here puts them in a message, a repr or a listing.
"""

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
import yaml

from cli.errors import CliError, UsageError

CONFIG_DIR_ENV = "ARCWAVE_CONFIG_DIR"
CONTEXT_ENV = "ARCWAVE_CONTEXT"
URL_ENV = "ARCWAVE_URL"
KEY_ENV = "ARCWAVE_KEY"
TOKEN_ENV = "ARCWAVE_TOKEN"
FILE_NAME = "contexts.yaml"
FILE_MODE = 0o600
DIR_MODE = 0o700
HEADER = (
    "# arcwave contexts, written by `arcwave login` and `arcwave context`.\n"
    "# It holds function keys and tokens: keep it private (mode 0600).\n"
)


@dataclass(frozen=True)
class Entra:
    """Sign in with Microsoft Entra ID and send the token for `scope` as a bearer token."""

    scope: str
    device_code: bool = False
    tenant: str | None = None

    def to_file(self) -> dict[str, Any]:
        return {"scope": self.scope, "deviceCode": self.device_code, "tenant": self.tenant}


@dataclass(frozen=True)
class Context:
    """One app and its credentials: a function key, and a token or an Entra sign-in; both
    go together when the app needs both (Azure: the key at the Functions host, the token for
    App Service authentication)."""

    name: str
    url: str
    key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    entra: Entra | None = None

    @property
    def auth(self) -> list[str]:
        """The kinds of credential it holds: `key`, `token`, `entra`."""
        kinds = []
        if self.key:
            kinds.append("key")
        if self.token:
            kinds.append("token")
        if self.entra is not None:
            kinds.append("entra")
        return kinds

    def public(self, current: bool) -> dict[str, Any]:
        """What `arcwave context list` shows: never the key or the token."""
        return {
            "name": self.name,
            "url": self.url,
            "auth": self.auth,
            "scope": self.entra.scope if self.entra else None,
            "deviceCode": self.entra.device_code if self.entra else False,
            "tenant": self.entra.tenant if self.entra else None,
            "current": current,
        }

    def to_file(self) -> dict[str, Any]:
        data: dict[str, Any] = {"url": self.url}
        if self.key:
            data["key"] = self.key
        if self.token:
            data["token"] = self.token
        if self.entra is not None:
            data["entra"] = self.entra.to_file()
        return data


@dataclass
class Contexts:
    """The contexts file: every context by name, and the current one."""

    current: str | None = None
    contexts: dict[str, Context] = field(default_factory=dict)

    def get(self, name: str) -> Context:
        found = self.contexts.get(name)
        if found is None:
            known = ", ".join(sorted(self.contexts)) or "none yet: arcwave login --url URL ..."
            raise UsageError(f"no context '{name}' (contexts: {known})")
        return found


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get(CONFIG_DIR_ENV)
    return Path(configured) if configured else Path(typer.get_app_dir("arcwave"))


def contexts_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / FILE_NAME


def normalise_url(url: str, what: str = "--url") -> str:
    """The app's base URL (`https://host[:port]`), whether given with `/api` or a trailing `/`;
    `what` names where the address came from, for the message."""
    text = url.strip().rstrip("/")
    text = text.removesuffix("/api")
    parts = urlsplit(text)
    if parts.username or parts.password or "@" in parts.netloc:
        raise UsageError(f"{what}: no user or password in the address; use --key or --token")
    if parts.query or parts.fragment:
        raise UsageError(f"{what}: no query or fragment in the address (a key goes in --key)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{what} {text!r}: give the app's address, e.g. https://<app>.azurewebsites.net"
        )
    return text


def load(path: Path | None = None) -> Contexts:
    """The contexts file; an empty `Contexts` when there is none yet."""
    path = path or contexts_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Contexts()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        # Never the YAML error's text: it quotes the line, which may hold a key.
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path} is not valid YAML{where}; fix or delete it") from None
    return _parse(data, path)


def _parse(data: Any, path: Path) -> Contexts:
    if data is None:
        return Contexts()
    if not isinstance(data, dict) or not isinstance(data.get("contexts") or {}, dict):
        raise UsageError(f"{path}: expected `current:` and a `contexts:` mapping")
    contexts: dict[str, Context] = {}
    for name, body in (data.get("contexts") or {}).items():
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise UsageError(f"{path}: context '{name}' needs a `url`")
        entra = body.get("entra")
        if entra is not None and not (isinstance(entra, dict) and entra.get("scope")):
            raise UsageError(f"{path}: context '{name}': `entra` needs a `scope`")
        contexts[str(name)] = Context(
            name=str(name),
            url=body["url"],
            key=_text(body.get("key")),
            token=_text(body.get("token")),
            entra=Entra(
                scope=str(entra["scope"]),
                device_code=bool(entra.get("deviceCode", False)),
                tenant=_text(entra.get("tenant")),
            )
            if entra
            else None,
        )
    current = data.get("current")
    return Contexts(current=str(current) if current in contexts else None, contexts=contexts)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def save(contexts: Contexts, path: Path | None = None) -> Path:
    """Write the contexts file atomically, readable and writable by its owner only."""
    path = path or contexts_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    data = {
        "current": contexts.current,
        "contexts": {name: c.to_file() for name, c in sorted(contexts.contexts.items())},
    }
    text = HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    fd, temporary = tempfile.mkstemp(prefix=".contexts-", suffix=".yaml", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    os.chmod(path, FILE_MODE)
    return path


def too_open(path: Path) -> bool:
    """Whether others than the owner may read or write the contexts file."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


@dataclass(frozen=True)
class Target:
    """Where requests go and with which credentials, after the environment's overrides."""

    url: str
    key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    entra: Entra | None = None
    context: str | None = None
    """The context's name; None when the environment alone says where to go."""

    @property
    def auth(self) -> list[str]:
        return Context(self.context or "", self.url, self.key, self.token, self.entra).auth

    @property
    def described(self) -> str:
        """`context 'prod' (key + entra)`, for messages."""
        where = f"context '{self.context}'" if self.context else f"{URL_ENV}"
        return f"{where} ({' + '.join(self.auth) or 'no credentials'})"


def resolve(
    selected: str | None, environ: Mapping[str, str] | None = None, path: Path | None = None
) -> Target:
    """The target of a command: the selected context (`--context`, `ARCWAVE_CONTEXT`, else the
    current one) with `ARCWAVE_URL`, `ARCWAVE_KEY` and `ARCWAVE_TOKEN` laid over it."""
    env = os.environ if environ is None else environ
    contexts = load(path or contexts_path(env))
    name = selected or env.get(CONTEXT_ENV) or contexts.current
    context = contexts.get(name) if name else None
    url = env.get(URL_ENV) or (context.url if context else None)
    if not url:
        raise UsageError(
            "no app to talk to: run `arcwave login --url URL --key KEY` (or --entra, --token), "
            f"or set {URL_ENV}"
        )
    token = env.get(TOKEN_ENV) or None
    source = URL_ENV if env.get(URL_ENV) else f"the url of context '{name}'"
    return Target(
        url=normalise_url(url, source),
        key=env.get(KEY_ENV) or (context.key if context else None),
        token=token or (context.token if context else None),
        entra=None if token else (context.entra if context else None),
        context=context.name if context else None,
    )
