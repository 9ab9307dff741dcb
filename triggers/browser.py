"""The dashboard's data and actions, for a browser: `/api/ui/api/…` (docs/dashboard.md).

A browser holds no function key (a key in a browser is a leak), only App Service
authentication's session cookie, from which the platform passes the signed-in user in
`X-MS-CLIENT-PRINCIPAL`. So these routes take no key at the host (anonymous) and require a
signed-in user instead (`signed_in_user`):

- the caller must be a user (`shared.identity`, kind "user"); a key, or nobody, is answered
  401 `{"error", "login"}`, `login` being where to sign in;
- a request that is not a read (POST) must carry `X-Arcwave-Request: 1`, and its `Origin`,
  when the browser sends one, must be this host: a form or a script on another site cannot
  do both, so it cannot make a signed-in operator's browser act (CSRF); else 403;
- then the route runs the operator API's own operation (`triggers.tracks`,
  `triggers.rollouts`): the same role checks, answers and timeline records.

`me` (who is signed in, with which roles: the dashboard shows the buttons they allow; the
operations still decide) and `overview` (each track with its active rollout and its fleet by
state) are the dashboard's own reads.
"""

import asyncio
import logging
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import azure.durable_functions as df
import azure.functions as func

from shared.identity import KEY_HEADER, KEY_QUERY, Caller, Role
from shared.runtime import runtime
from triggers import rollouts, tracks
from triggers.http import (
    NotAllowed,
    Operation,
    SignInRequired,
    answer,
    caller_of,
    operation_route,
    require,
)
from triggers.views import rollout_summary, track_view

log = logging.getLogger("arcwave.triggers.browser")
bp = df.Blueprint()

LOGIN = "/.auth/login/aad?post_login_redirect_uri=/api/ui"
"""Where a browser signs in with Microsoft Entra ID (App Service authentication), then comes
back to the dashboard."""
REQUEST_HEADER = "X-Arcwave-Request"
"""What the dashboard sends with every request that is not a read: a cross-site form cannot
set a header, and a cross-site script cannot without a CORS preflight this app never grants."""
READS = frozenset({"GET", "HEAD"})
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
"""On every answer of a browser route: never cached (it holds what a user may read), never
sniffed, never framed."""


def signed_in_user(req: func.HttpRequest) -> Caller:
    """The signed-in user calling a browser route; `SignInRequired` (401) for anyone else,
    `NotAllowed` (403) for a request that is not a read and does not come from the dashboard
    (see the module docstring)."""
    who = caller_of(req)
    if who.kind != "user":
        if req.headers.get(KEY_HEADER) or req.params.get(KEY_QUERY):
            log.warning(
                "refused a function key on the browser route %s: keys do not belong in a "
                "browser; sign in instead",
                urlsplit(req.url).path,
            )
        raise SignInRequired("sign in to use the dashboard", LOGIN)
    if req.method.upper() not in READS:
        _from_the_dashboard(req)
    return who


def _from_the_dashboard(req: func.HttpRequest) -> None:
    """`NotAllowed` unless the request carries `X-Arcwave-Request: 1` and, when it names an
    `Origin`, that origin is this host."""
    path = urlsplit(req.url).path
    if (req.headers.get(REQUEST_HEADER) or "").strip() != "1":
        log.warning("refused %s %s: no %s header (cross-site?)", req.method, path, REQUEST_HEADER)
        raise NotAllowed(
            f"this request changes something and must come from the dashboard: it needs the "
            f"header {REQUEST_HEADER}: 1"
        )
    origin = req.headers.get("Origin")
    if origin is None:
        return
    host = (req.headers.get("Host") or urlsplit(req.url).netloc).strip().lower()
    sent = urlsplit(origin.strip()).netloc.lower() if "://" in origin else ""
    if not host or sent != host:
        log.warning("refused %s %s: sent from another origin", req.method, path)
        raise NotAllowed(
            "this request changes something and was sent from another site: its Origin is "
            "not this host"
        )


async def me(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    """Who is signed in, with their arcwave roles."""
    return answer(
        {
            "name": caller.name,
            "roles": sorted(caller.roles),
            "may": {
                "read": caller.may(Role.READER),
                "operate": caller.may(Role.OPERATOR),
                "approve": caller.may(Role.APPROVER),
                "administer": caller.may(Role.ADMIN),
            },
            "logout": "/.auth/logout?post_logout_redirect_uri=/api/ui",
        }
    )


async def overview(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    """Every track with its revisions, its active and latest rollouts, and its fleet: by state
    (in the cluster's latest rollout) and by the revision Flux last reported applied ("":
    none yet)."""
    require(req, caller, Role.READER, "reading tracks")
    records = runtime().records
    found = await asyncio.to_thread(records.tracks.list)
    shown: list[dict[str, Any]] = []
    for track in found:
        clusters = await asyncio.to_thread(records.clusters.list, track.id)
        active = await tracks.active_rollout(track)
        latest = await asyncio.to_thread(records.rollouts.list, track.id, limit=1)
        view = track_view(track)
        view.pop("spec")
        shown.append(
            {
                **view,
                "activeRollout": rollout_summary(active) if active else None,
                "latestRollout": rollout_summary(latest[0]) if latest else None,
                "fleet": {
                    "clusters": len(clusters),
                    "byState": dict(sorted(Counter(c.state.value for c in clusters).items())),
                    "byAppliedRevision": dict(
                        Counter(c.applied_revision or "" for c in clusters).most_common()
                    ),
                },
            }
        )
    return answer({"tracks": shown})


MIRRORS: list[tuple[str, list[str], str, Operation]] = [
    ("ui/api/me", ["GET"], "ui_me", me),
    ("ui/api/tracks", ["GET"], "ui_tracks", overview),
    ("ui/api/tracks/{name}/plan", ["POST"], "ui_preview_plan", tracks.preview_plan),
    ("ui/api/rollouts", ["GET"], "ui_list_rollouts", rollouts.list_rollouts),
    ("ui/api/rollouts/{id}", ["GET"], "ui_get_rollout", rollouts.get_rollout),
    ("ui/api/rollouts/{id}/timeline", ["GET"], "ui_rollout_timeline", rollouts.rollout_timeline),
    ("ui/api/rollouts/{id}/{command:alpha}", ["POST"], "ui_command", rollouts.rollout_command),
    ("ui/api/fleet", ["GET"], "ui_fleet", rollouts.fleet),
]
"""The browser routes: (route, methods, function name, operation). Each but `me` and
`overview` runs the operator API's operation of the same path under `/api`."""

for _route, _methods, _name, _operation in MIRRORS:
    operation_route(
        bp,
        _route,
        _methods,
        name=_name,
        caller=signed_in_user,
        anonymous=True,
        headers=HEADERS,
    )(_operation)
