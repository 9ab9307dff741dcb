"""The self-signed certificate covers 127.0.0.1 and localhost and is reused while valid."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from emulator.tls import ensure_certificate


def test_certificate_names_loopback(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path)
    cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert cert.issuer == cert.subject


def test_certificate_is_reused(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path).cert_path.read_bytes()
    assert ensure_certificate(tmp_path).cert_path.read_bytes() == first
