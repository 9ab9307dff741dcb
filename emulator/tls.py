"""A self-signed server certificate for 127.0.0.1 and localhost.

Clients trust the emulator by passing ``connection_verify=DIR/cert.pem``; the file is both the
server certificate and its own trust anchor, which is why it carries ``CA:TRUE`` and
``keyCertSign``: OpenSSL only accepts a self-signed certificate as an anchor when it may sign.
"""

from __future__ import annotations

import inspect
import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALIDITY = timedelta(days=30)
KEY_USAGES = frozenset({"digital_signature", "key_agreement", "key_cert_sign"})
"""Sign handshakes (and itself, being its own trust anchor) and agree keys (ECDHE)."""


@dataclass(frozen=True)
class TlsFiles:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def ensure_certificate(directory: Path) -> TlsFiles:
    """Reuse a still-valid certificate in ``directory`` or write a new one there."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / CERT_FILE, directory / KEY_FILE)
    if files.cert_path.exists() and files.key_path.exists() and _still_valid(files.cert_path):
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    files.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key_path.chmod(0o600)
    files.cert_path.write_bytes(_self_signed(key).public_bytes(serialization.Encoding.PEM))
    return files


def _still_valid(cert_path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - datetime.now(UTC) > timedelta(days=1)


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "arcwave emulator"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "arcwave"),
        ]
    )
    now = datetime.now(UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _key_usage() -> x509.KeyUsage:
    """``KeyUsage`` with :data:`KEY_USAGES` on and every other usage it names off."""
    usages = inspect.signature(x509.KeyUsage).parameters
    return x509.KeyUsage(**{usage: usage in KEY_USAGES for usage in usages})
