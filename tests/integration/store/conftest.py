"""Fixtures for the store contract suite: a store of each kind, and the Cosmos stand-in.

The stand-in is `@vercel/cosmosdb-server`, installed from tests/cosmos/package-lock.json
(`npm ci` runs here when node_modules is missing) and started by tests/cosmos/launch.js with a
certificate made for this run. Each pytest-xdist worker starts its own server on a free port,
and each test gets a database of its own, so tests never see each other's documents.
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
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.store import Layout, Store
from shared.store.cosmos import CosmosStore
from shared.store.sqlite import SqliteStore

STANDIN = Path(__file__).resolve().parents[2] / "cosmos"
PACKAGE = STANDIN / "node_modules" / "@vercel" / "cosmosdb-server" / "package.json"
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
"""The Cosmos DB emulator's published, well-known key; the stand-in accepts any key."""

START_TIMEOUT = 30.0
NPM_TIMEOUT = 600.0


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class CosmosStandIn:
    """A running stand-in: its endpoint, the certificate it serves and the key to use."""

    endpoint: str
    cert: Path
    key: str = EMULATOR_KEY

    def open(self, database: str | None = None, layout: Layout | None = None) -> CosmosStore:
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


@pytest.fixture(scope="session")
def cosmos_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosStandIn]:
    """This worker's Cosmos stand-in on a free loopback port, with a fresh certificate."""
    install_standin()
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Cosmos stand-in needs Node.js 20+", pytrace=False)
    folder = tmp_path_factory.mktemp("cosmos-standin")
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "cosmos"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind: SQLite in a temporary file, Cosmos in a new database."""
    opened: Store
    if store_kind == "sqlite":
        opened = SqliteStore(tmp_path / "store.db", clock=request.getfixturevalue("clock"))
    else:
        standin: CosmosStandIn = request.getfixturevalue("cosmos_standin")
        opened = standin.open()
    try:
        yield opened
    finally:
        opened.close()
