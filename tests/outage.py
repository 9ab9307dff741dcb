"""A TCP relay that a test can cut and restore, to stage a network outage between the app and
a service it depends on.

    with CuttableLink(("127.0.0.1", service_port)) as link:
        app_connects_to(link.port)
        with link.outage():   # open connections end; new ones are refused
            ...
        # the same port accepts again

Bytes pass through untouched both ways (TLS included), so clients and servers cannot tell
the relay is there. The relay runs an asyncio loop in a background thread.

While cut, the listening socket stays bound but stops listening (on Linux a `shutdown()` of
a listening socket does this), so connections are refused, and neither another bind nor the
ephemeral port of an outgoing connection can take the port before `restore()` listens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

CHUNK = 64 * 1024
CALL_TIMEOUT = 10.0
BIND_ATTEMPTS = 20


class CuttableLink:
    """Forwards each connection to `host:port` on to `target`, until `cut()`."""

    def __init__(self, target: tuple[str, int], *, host: str = "127.0.0.1") -> None:
        self.target = target
        self.host = host
        self.port = 0
        self.accepted = 0
        """Connections accepted so far: proof that traffic goes through the link."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._relays: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> CuttableLink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Bind a free port and start accepting."""
        if self._loop is not None:
            raise RuntimeError("the link is already started")
        self._listener = _bind_held(self.host)
        self.port = self._listener.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"link:{self.port}", daemon=True
        )
        self._thread.start()
        self._run(self._listen())

    def close(self) -> None:
        """End every connection, release the port and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._run(self._cut())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CALL_TIMEOUT)
        loop.close()
        if self._listener is not None:
            self._listener.close()
        self._loop = self._thread = self._listener = None

    # -- the outage --------------------------------------------------------------------------

    @property
    def is_cut(self) -> bool:
        return self._accepting is None

    def cut(self) -> None:
        """End every open connection and refuse new ones."""
        self._run(self._cut())

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._run(self._listen())

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Cut for the duration of the block; restored even when the block fails."""
        self.cut()
        try:
            yield
        finally:
            self.restore()

    # -- in the loop's thread ----------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the link is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT)

    async def _listen(self) -> None:
        if self._accepting is not None:
            return
        assert self._listener is not None
        try:
            self._listener.listen()
        except OSError:
            # Where a shut-down listening socket cannot listen again: bind the port afresh.
            self._listener.close()
            self._listener = _bind_held(self.host, self.port)
            self._listener.listen()
        self._listener.setblocking(False)
        self._accepting = asyncio.create_task(self._accept(self._listener))

    async def _cut(self) -> None:
        accepting, self._accepting = self._accepting, None
        if accepting is not None:
            accepting.cancel()
            await asyncio.gather(accepting, return_exceptions=True)
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
        relays = list(self._relays)
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = await loop.sock_accept(listener)
            except OSError:
                return  # shut down under us
            self.accepted += 1
            relay = asyncio.create_task(self._relay(client))
            self._relays.add(relay)
            relay.add_done_callback(self._relays.discard)

    async def _relay(self, client: socket.socket) -> None:
        writers: list[asyncio.StreamWriter] = []
        try:
            client_in, client_out = await asyncio.open_connection(sock=client)
            writers.append(client_out)
            target_in, target_out = await asyncio.open_connection(*self.target)
            writers.append(target_out)
            await asyncio.gather(
                _pump(client_in, target_out, writers), _pump(target_in, client_out, writers)
            )
        except OSError:
            pass
        finally:
            _abort(writers)
            if not writers:
                client.close()


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, both: list[asyncio.StreamWriter]
) -> None:
    """Copy one direction until end of stream, then pass the half-close on. An error on
    either side ends the whole connection, as a broken network would."""
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except OSError:
        _abort(both)


def _abort(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.transport.abort()


def _bind_held(host: str, port: int = 0) -> socket.socket:
    """A socket bound to `port` (a free one when 0) by number: on Linux only a socket bound
    to an explicit port keeps it when its listening is shut down."""
    for _ in range(BIND_ATTEMPTS):
        chosen = port or _free_port(host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, chosen))
        except OSError as error:
            sock.close()
            if port or error.errno != errno.EADDRINUSE:
                raise
            continue
        return sock
    raise OSError(errno.EADDRINUSE, f"no free port on {host} after {BIND_ATTEMPTS} attempts")


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
