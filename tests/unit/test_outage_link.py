"""The cuttable link (tests/outage.py) against a tiny echo server on loopback."""

import os
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.outage import CuttableLink

TIMEOUT = 5.0


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    with EchoServer(("127.0.0.1", 0), Echo) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield "127.0.0.1", server.server_address[1]
        server.shutdown()


@pytest.fixture
def link(echo: tuple[str, int]) -> Iterator[CuttableLink]:
    with CuttableLink(echo) as running:
        yield running


def connect(link: CuttableLink) -> socket.socket:
    return socket.create_connection((link.host, link.port), timeout=TIMEOUT)


def echoed(conn: socket.socket, data: bytes) -> bytes:
    """Send `data` while reading back as much."""
    sender = threading.Thread(target=conn.sendall, args=(data,))
    sender.start()
    received = bytearray()
    while len(received) < len(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        received += chunk
    sender.join(TIMEOUT)
    return bytes(received)


def ended(conn: socket.socket) -> bool:
    """The peer closed or reset the connection."""
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_bytes_flow_both_ways_and_a_half_close_passes_through(link: CuttableLink) -> None:
    payload = os.urandom(1024 * 1024)
    with connect(link) as conn:
        assert echoed(conn, payload) == payload
        conn.shutdown(socket.SHUT_WR)
        assert conn.recv(1) == b""
    with connect(link) as first, connect(link) as second:
        assert echoed(first, b"one") == b"one"
        assert echoed(second, b"two") == b"two"
    assert link.accepted == 3


def test_a_cut_ends_open_connections_and_refuses_new_ones(link: CuttableLink) -> None:
    with connect(link) as conn:
        assert echoed(conn, b"before") == b"before"
        link.cut()
        assert link.is_cut
        assert ended(conn)
    with pytest.raises(ConnectionRefusedError):
        connect(link)


def test_a_cut_link_keeps_its_port(link: CuttableLink) -> None:
    link.cut()
    with socket.socket() as other, pytest.raises(OSError):
        other.bind((link.host, link.port))


def test_restore_accepts_again_on_the_same_port(link: CuttableLink) -> None:
    port = link.port
    link.cut()
    link.restore()
    assert (link.port, link.is_cut) == (port, False)
    with connect(link) as conn:
        assert echoed(conn, b"after") == b"after"


def test_an_outage_is_restored_even_when_its_block_fails(link: CuttableLink) -> None:
    with pytest.raises(RuntimeError), link.outage():
        with pytest.raises(ConnectionRefusedError):
            connect(link)
        raise RuntimeError("the test failed mid-outage")
    with connect(link) as conn:
        assert echoed(conn, b"back") == b"back"


def test_closing_ends_connections_and_releases_the_port(echo: tuple[str, int]) -> None:
    with CuttableLink(echo) as link:
        conn = connect(link)
        assert echoed(conn, b"open") == b"open"
    with conn:
        assert ended(conn)
    with pytest.raises(ConnectionRefusedError):
        connect(link)
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past its TIME_WAITs
        other.bind((link.host, link.port))


def test_a_target_that_is_down_ends_the_connection() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        nowhere = unused.getsockname()
    with CuttableLink(nowhere) as link, connect(link) as conn:
        assert ended(conn)
