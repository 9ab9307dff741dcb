"""`python -m devhost [--app DIR] [--host 127.0.0.1] [--port 7071] [--state DIR]`"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from devhost.config import ConfigError, load_config, load_local_settings
from devhost.durable.store import StateLockedError
from devhost.easyauth import LOGIN_PATH, TOKEN_PATH, apply_environment
from devhost.loader import load_app
from devhost.server import init
from devhost.state import LISTENING, Endpoint


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devhost",
        description="Run a Python v2 function app folder locally: HTTP, Event Grid, timers and "
        "Durable Functions.",
    )
    parser.add_argument("--app", type=Path, default=Path.cwd(), help="folder with function_app.py")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=7071, help="port; 0 picks a free one")
    parser.add_argument(
        "--state", type=Path, default=None, help="state folder (default APP/.devhost)"
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> int:
    app_dir = args.app.resolve()
    applied = load_local_settings(app_dir)
    config = load_config(app_dir, state_dir=args.state, host=args.host, port=args.port)
    apply_environment(config)
    index = load_app(app_dir)
    endpoint = Endpoint(config.host, config.port)
    app = init(config, index, endpoint)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    endpoint.port = int(runner.addresses[0][1])
    app[LISTENING].set()
    out = sys.stdout
    if applied:
        print(
            f"devhost: applied local.settings.json values: {', '.join(sorted(applied))}", file=out
        )
    print(f"devhost: app {app_dir}, state {config.state_dir}", file=out)
    for spec in sorted(index.all.values(), key=lambda s: s.name):
        print(f"devhost:   {spec.name} [{spec.trigger_type}]", file=out)
    if config.keys_generated:
        print(
            f"devhost: function key (generated; set DEVHOST_FUNCTION_KEY to choose one): "
            f"{config.function_key}",
            file=out,
        )
    if config.easy_auth:
        print(
            "devhost: App Service authentication (Easy Auth, Entra ID) on: callers send "
            f"'Authorization: Bearer <token>', tokens from POST {TOKEN_PATH} (master key); "
            f"browsers sign in at {endpoint.base_url}{LOGIN_PATH}",
            file=out,
        )
    print(f"devhost: listening on {endpoint.base_url}", file=out, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    await stop.wait()
    await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        return asyncio.run(serve(args))
    except (ConfigError, StateLockedError) as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
