"""``python -m emulator --scenario FILE [--host] [--port] [--tls-dir] [--state]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
from pathlib import Path

from pydantic import ValidationError

from emulator.ready import READY_MSG
from emulator.scenario import load_scenario
from emulator.server import init, start
from emulator.tls import ensure_certificate

CERT_MSG = "certificate: {path} (pass connection_verify={path})"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local Azure fleet: ARM connectedClusters and fluxConfigurations, "
        "Resource Graph, Flux behaviour and faults, over TLS.",
    )
    parser.add_argument("--scenario", required=True, type=Path, help="scenario YAML file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=8443, type=int, help="0 picks a free port")
    parser.add_argument("--tls-dir", type=Path, help="where cert.pem/key.pem go (default: temp)")
    parser.add_argument("--state", type=Path, help="persist the fleet in this JSON file")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.scenario)
    tls_dir = args.tls_dir or Path(tempfile.mkdtemp(prefix="arcwave-emulator-"))
    tls = ensure_certificate(tls_dir)
    app = init(scenario, state_path=args.state)
    server = await start(app, tls, args.host, args.port)
    print(CERT_MSG.format(path=tls.cert_path), flush=True)
    print(READY_MSG.format(endpoint=server.endpoint), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args))
    except (ValidationError, ValueError, OSError) as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
