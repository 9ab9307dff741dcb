"""App Service authentication for a browser, as devhost emulates it (docs/devhost.md):
`/.auth/login/aad` (devhost's stand-in for the Entra sign-in: a form to pick a name and roles),
`/.auth/logout` and `/.auth/me`. The session is a devhost token (`devhost.easyauth`) in the
`AppServiceAuthSession` cookie, which the middleware of `devhost.easyauth` reads.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from devhost.easyauth import (
    EASY_AUTH,
    LOGIN_PATH,
    LOGIN_ROLES,
    LOGOUT_PATH,
    MAX_NAME,
    MAX_REDIRECT,
    MAX_ROLE,
    MAX_ROLES,
    ME_PATH,
    SESSION_COOKIE,
    SESSION_TTL,
    EasyAuth,
    FieldError,
    InvalidToken,
    Principal,
    client_principal,
    expires_on,
    signed_in,
    text_field,
)
from devhost.state import CONFIG

log = logging.getLogger("devhost.easyauth")


def safe_redirect(value: str | None) -> str:
    """`value` when it is a path on this site (`/…`), else `/`: no scheme, no `//host` (nor
    `/\\host`, which browsers read the same), no control characters or spaces, ASCII only."""
    if (
        not value
        or len(value) > MAX_REDIRECT
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or "\\" in value
        or not all(33 <= ord(c) <= 126 for c in value)
    ):
        return "/"
    return value


def _off() -> web.Response:
    return web.json_response(
        {
            "error": "App Service authentication is off: set DEVHOST_EASY_AUTH=1 (and restart "
            "devhost) to sign in"
        },
        status=404,
    )


def _easy_auth(request: web.Request) -> EasyAuth | None:
    auth = request.app.get(EASY_AUTH)
    return auth if request.app[CONFIG].easy_auth else None


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem;
  line-height: 1.5; color: #1b1b1b; background: #fff; }
.note { border-left: 4px solid #8a6d00; background: #fff8d6; padding: .5rem .75rem; }
.error { border-left: 4px solid #b00020; background: #fdecee; padding: .5rem .75rem; }
label { display: block; }
input[type=text] { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
fieldset { margin: 1rem 0; }
fieldset label { display: flex; gap: .5rem; align-items: center; }
button { font: inherit; padding: .4rem 1.2rem; }
:focus-visible { outline: 3px solid #005fcc; outline-offset: 2px; }
"""


def login_page(
    redirect: str, *, error: str | None = None, name: str = "", roles: Sequence[str] = ()
) -> str:
    """The sign-in form: a name and one checkbox per role in LOGIN_ROLES."""
    e = html.escape
    alert = described = ""
    if error is not None:
        alert = f'<p class="error" role="alert" id="login-error">{e(error)}</p>'
        described = ' aria-describedby="login-error"'
    boxes = "\n".join(
        f'<label><input type="checkbox" name="roles" value="{e(role)}" id="role-{i}"'
        f"{' checked' if role in roles else ''}> {e(role)}</label>"
        for i, role in enumerate(LOGIN_ROLES)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (devhost)</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>Sign in</h1>
<p class="note">This is devhost's local stand-in for Microsoft Entra ID sign-in (App Service
authentication). No password is checked: pick any name and roles. In Azure, Entra ID signs you
in and your roles come from your app role assignments.</p>
{alert}
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="post_login_redirect_uri" value="{e(redirect)}">
<label for="name">Name (sign-in name, e.g. ada@contoso.com)</label>
<input type="text" id="name" name="name" value="{e(name)}" required maxlength="{MAX_NAME}"
 autocomplete="username" autofocus{described}>
<fieldset>
<legend>Roles</legend>
{boxes}
</fieldset>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
"""


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers=_PAGE_HEADERS,
    )


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /.auth/login/aad?post_login_redirect_uri=/path: the sign-in form."""
    if _easy_auth(request) is None:
        return _off()
    return _page(login_page(safe_redirect(request.query.get("post_login_redirect_uri"))))


def _same_origin(request: web.Request) -> bool:
    """False when a browser says the form was posted from another site (login CSRF); a client
    that sends no Origin (curl) is accepted."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.lower() == f"{request.scheme}://{request.host}".lower()


async def login(request: web.Request) -> web.StreamResponse:
    """POST /.auth/login/aad (form: name, roles or roles[], post_login_redirect_uri): set the
    session cookie and 302 to the (safe) redirect."""
    auth = _easy_auth(request)
    if auth is None:
        return _off()
    if not _same_origin(request):
        log.info("easy auth: sign-in posted from another origin refused")
        return web.Response(status=403, text="sign-in posted from another site")
    form = await request.post()
    redirect = safe_redirect(_form_text(form.get("post_login_redirect_uri")))
    name = _form_text(form.get("name"))
    roles = [_form_text(v) for key in ("roles", "roles[]") for v in form.getall(key, [])]
    try:
        text_field(name, "name", MAX_NAME)
        if len(roles) > MAX_ROLES:
            raise FieldError("roles", f"choose at most {MAX_ROLES} roles")
        for i, role in enumerate(roles):
            text_field(role, f"roles[{i}]", MAX_ROLE)
    except FieldError as exc:
        page = login_page(redirect, error=exc.message, name=name, roles=roles)
        return _page(page, status=400)
    unique = tuple(dict.fromkeys(roles))
    token, _ = auth.mint(name, unique, ttl=SESSION_TTL)
    log.info("easy auth: browser signed in as %r with roles %s", name, list(unique))
    response = _redirect(redirect)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=True if request.secure else None,
    )
    return response


def _form_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


async def logout(request: web.Request) -> web.StreamResponse:
    """GET /.auth/logout?post_logout_redirect_uri=/path: clear the session cookie, 302."""
    if _easy_auth(request) is None:
        return _off()
    response = _redirect(safe_redirect(request.query.get("post_logout_redirect_uri")))
    response.del_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=True if request.secure else None,
    )
    return response


def me_entry(principal: Principal) -> dict[str, Any]:
    """What App Service's /.auth/me lists for an Entra ID session."""
    return {
        "provider_name": "aad",
        "user_id": principal.name,
        "user_claims": client_principal(principal)["claims"],
        "access_token": "",
        "expires_on": expires_on(principal.exp),
        "id_token": "",
    }


async def me(request: web.Request) -> web.StreamResponse:
    """GET /.auth/me: 200 [entry] when signed in (cookie or bearer token), else 401."""
    auth = _easy_auth(request)
    if auth is None:
        return _off()
    try:
        principal = signed_in(request, auth)
    except InvalidToken:  # the middleware answers first; kept for safety
        principal = None
    if principal is None:
        return web.Response(status=401, headers={"Cache-Control": "no-store"})
    return web.json_response([me_entry(principal)], headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    """The browser's /.auth routes (each answers 404 while Easy Auth is off)."""
    app.router.add_get(LOGIN_PATH, login_form)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_get(LOGOUT_PATH, logout)
    app.router.add_get(ME_PATH, me)
