"""The Cosmos DB stand-in, for every test tier that needs a Cosmos store.

The stand-in is `@vercel/cosmosdb-server`, installed from tests/cosmos/package-lock.json
(`npm ci` runs here when node_modules is missing) and started by tests/cosmos/launch.js with a
certificate made for this run. `running_standin()` starts one on a free loopback port; the
session fixture `cosmos_standin` (tests/conftest.py) gives each pytest-xdist worker its own,
started the first time a test asks for it.
Tests use a database of their own (`CosmosStandIn.open()` makes a fresh one by default), so
they never see each other's documents.

launch.js makes the account read name the address the client used as the account's only
region (the package names its own listening address): the SDK sends every request after the
first to that region, so a client reaching the stand-in through a relay (tests/outage.py)
keeps using the relay.
"""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import json
import os
import select
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import secret

if TYPE_CHECKING:
    from shared.store import Layout
    from shared.store.cosmos import CosmosStore

STANDIN = Path(__file__).resolve().parent / "cosmos"
PACKAGE = STANDIN / "node_modules" / "@vercel" / "cosmosdb-server" / "package.json"
EMULATOR_KEY = secret(
    "ARCWAVE_COSMOS_KEY",
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
)
"""The Cosmos DB emulator's published, well-known key; the stand-in accepts any key."""

START_TIMEOUT = 30.0
NPM_TIMEOUT = 600.0


@dataclass(frozen=True)
class CosmosStandIn:
    """A running stand-in: its endpoint, the certificate it serves and the key to use."""

    endpoint: str
    cert: Path
    key: str = EMULATOR_KEY

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens, for a relay to forward to."""
        parts = urlsplit(self.endpoint)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def open(self, database: str | None = None, layout: Layout | None = None) -> CosmosStore:
        """A store on `database` (a new one by default), its containers created."""
        from shared.store.cosmos import CosmosStore  # azure-cosmos only for tests that use it

        store = CosmosStore(
            self.endpoint,
            database or f"arcwave-{uuid.uuid4().hex[:12]}",
            self.key,
            layout=layout,
            ca_bundle=str(self.cert),
            timeout=10.0,
        )
        store.ensure_containers()
        return store

    def app_settings(self, database: str, *, endpoint: str | None = None) -> dict[str, str]:
        """The app settings that put arcwave's store in `database` here, reached at
        `endpoint` (a relay in front of the stand-in) when given. With a key set, the app
        creates the database and its containers itself."""
        return {
            "ARCWAVE_STORE": "cosmos",
            "ARCWAVE_COSMOS_ENDPOINT": endpoint or self.endpoint,
            "ARCWAVE_COSMOS_DATABASE": database,
            "ARCWAVE_COSMOS_KEY": self.key,
            "ARCWAVE_COSMOS_CA_BUNDLE": str(self.cert),
        }


def install_standin() -> None:
    """`npm ci` in tests/cosmos when node_modules is missing; one worker at a time."""
    if PACKAGE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is not on PATH: the Cosmos stand-in (tests/cosmos) needs Node.js 20+ and npm; "
            "install them, or run `npm ci` in tests/cosmos yourself",
            pytrace=False,
        )
    with open(STANDIN / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if PACKAGE.exists():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=STANDIN,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {STANDIN} failed ({result.returncode}):\n{result.stderr[-2000:]}",
                pytrace=False,
            )


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, valid for two days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arcwave cosmos stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def read_port(process: subprocess.Popen[str], log: Path) -> int:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        process.wait(timeout=5)
        err = log.read_text(errors="replace").strip()[-2000:]
        raise RuntimeError(f"the Cosmos stand-in did not start: {err or 'no output'}")
    return int(json.loads(line)["port"])


@contextmanager
def running_standin(folder: Path) -> Iterator[CosmosStandIn]:
    """A stand-in on a free loopback port, with a fresh certificate kept in `folder`; stopped
    (stdin closed, then killed if it lingers) on exit."""
    install_standin()
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Cosmos stand-in needs Node.js 20+", pytrace=False)
    cert, key = make_certificate(folder)
    log = folder / "stand-in.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [
                node,
                str(STANDIN / "launch.js"),
                "--port",
                "0",
                "--cert",
                str(cert),
                "--key",
                str(key),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "NODE_ENV": "test"},
        )
    try:
        port = read_port(process, log)
        yield CosmosStandIn(f"https://127.0.0.1:{port}/", cert)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
