"""`arcwave login` and `arcwave context list|use|delete`: the contexts file (cli/config.py).

Nothing here prints a key or a token, not even in part."""

import sys
from typing import Annotated

import typer

from cli.config import Context, Entra, load, normalise_url, save
from cli.errors import UsageError
from cli.output import Output, OutputOption, console, emit
from cli.session import Globals
from cli.tables import contexts_table

DEFAULT_CONTEXT = "default"

context_app = typer.Typer(
    name="context",
    help="List, switch and delete the saved contexts (an app's URL and credentials).",
    no_args_is_help=True,
)


def login(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option("--url", help="the app's address: https://<app>.azurewebsites.net")
    ],
    key: Annotated[
        str | None,
        typer.Option("--key", help="a function key, sent as x-functions-key ('-': read stdin)"),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="a bearer token, sent as Authorization ('-': read stdin)"),
    ] = None,
    entra: Annotated[
        bool,
        typer.Option("--entra", help="sign in with Microsoft Entra ID (azure-identity)"),
    ] = False,
    scope: Annotated[
        str | None,
        typer.Option("--scope", help="with --entra: the token's scope, api://<client-id>/.default"),
    ] = None,
    device_code: Annotated[
        bool,
        typer.Option("--device-code", help="with --entra: sign in with a device code, not az"),
    ] = False,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="with --entra: the Entra tenant id")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--context", help="the context's name (default: 'default')"),
    ] = None,
) -> None:
    """Save a context (the app's URL and how to authenticate) and make it the current one.

    Give a function key, a token or an Entra sign-in; a key goes with a token or an Entra
    sign-in when the app needs both (on Azure: the key for the Functions host, the token for
    App Service authentication). The file is written with mode 0600; keys and tokens are
    never printed back.
    """
    root = ctx.find_root().obj
    chosen = name or (root.context if isinstance(root, Globals) else None) or DEFAULT_CONTEXT
    if token is not None and entra:
        raise UsageError("--token and --entra both give the bearer token: choose one")
    if not entra and (scope or device_code or tenant):
        raise UsageError("--scope, --device-code and --tenant go with --entra")
    if entra and not scope:
        raise UsageError(
            "--entra needs --scope api://<client-id>/.default: the Application ID URI of "
            "arcwave's app registration, with /.default"
        )
    if key == "-" and token == "-":
        raise UsageError("only one of --key and --token can be read from stdin")
    key, token = _from_stdin(key, "--key"), _from_stdin(token, "--token")
    if not (key or token or entra):
        raise UsageError(
            "give --key KEY, --token TOKEN or --entra --scope SCOPE (or a key and one)"
        )
    context = Context(
        name=chosen,
        url=normalise_url(url),
        key=key,
        token=token,
        entra=Entra(scope=scope, device_code=device_code, tenant=tenant)
        if entra and scope
        else None,
    )
    contexts = load()
    replaced = chosen in contexts.contexts
    contexts.contexts[chosen] = context
    contexts.current = chosen
    where = save(contexts)
    console().print(
        f"context [bold]{chosen}[/] {'replaced' if replaced else 'saved'} in {where}: "
        f"{context.url}, auth {' + '.join(context.auth)}; it is the current context"
    )


def _from_stdin(value: str | None, option: str) -> str | None:
    if value != "-":
        return value or None
    read = sys.stdin.readline().strip()
    if not read:
        raise UsageError(f"{option} -: nothing on stdin")
    return read


@context_app.command("list", epilog="Example: arcwave context list -o json")
def context_list(output: OutputOption = Output.TABLE) -> None:
    """List the saved contexts; the current one is marked `*`. Never shows a key or token."""
    contexts = load()
    listing = {
        "current": contexts.current,
        "contexts": [
            c.public(current=c.name == contexts.current)
            for _, c in sorted(contexts.contexts.items())
        ],
    }
    emit(listing, output, lambda out: contexts_table(out, listing))


@context_app.command("use", epilog="Example: arcwave context use prod")
def context_use(
    name: Annotated[str, typer.Argument(help="the context to use from now on")],
) -> None:
    """Make a saved context the current one."""
    contexts = load()
    context = contexts.get(name)
    contexts.current = name
    save(contexts)
    console().print(f"current context: [bold]{name}[/] ({context.url})")


@context_app.command("delete", epilog="Example: arcwave context delete old-lab")
def context_delete(name: Annotated[str, typer.Argument(help="the context to forget")]) -> None:
    """Forget a saved context and its credentials."""
    contexts = load()
    contexts.get(name)
    del contexts.contexts[name]
    if contexts.current == name:
        contexts.current = None
    save(contexts)
    console().print(f"context [bold]{name}[/] deleted")
