"""The dashboard's files: `GET /api/ui` and `GET /api/ui/{*path}` (docs/dashboard.md).

The files in `dashboard/` (HTML, JavaScript modules, CSS: no build step, nothing from another
site) hold no data, so they are served without a key or a sign-in; the data comes from the
browser routes (`triggers.browser`), which require a signed-in user. Every file is read once,
answered with its content type, an ETag (`If-None-Match` gets a 304), `Cache-Control:
no-cache` (the browser checks back, so a deployment is seen at once) and a strict
Content-Security-Policy: scripts, styles and requests only from this site, no inline script,
no framing.
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()

ROOT = Path(__file__).resolve().parents[1] / "dashboard"
INDEX = "index.html"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
"""The files served, by extension; any other file in the folder is not."""
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class File:
    body: bytes
    content_type: str
    etag: str


@functools.cache
def files() -> dict[str, File]:
    """Every file the dashboard serves, by its path under `dashboard/` (read once)."""
    found: dict[str, File] = {}
    if not ROOT.is_dir():
        return found
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.is_file() and not hidden and path.suffix in TYPES:
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:32]
            found[relative.as_posix()] = File(body, TYPES[path.suffix], f'"{digest}"')
    return found


def serve(req: func.HttpRequest, name: str) -> func.HttpResponse:
    """The file `name` of the dashboard (its index for an empty name); 404 for anything else."""
    found = files().get(name or INDEX)
    if found is None:
        return func.HttpResponse(
            "no such file in the dashboard",
            status_code=404,
            mimetype="text/plain",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )
    headers = {**HEADERS, "ETag": found.etag}
    wanted = req.headers.get("If-None-Match") or ""
    if found.etag in [tag.strip().removeprefix("W/") for tag in wanted.split(",")]:
        return func.HttpResponse(status_code=304, headers=headers)
    headers["Content-Type"] = found.content_type
    return func.HttpResponse(found.body, status_code=200, headers=headers)


@bp.route(route="ui", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def dashboard_index(req: func.HttpRequest) -> func.HttpResponse:
    """The dashboard's page."""
    return serve(req, INDEX)


@bp.route(route="ui/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def dashboard_file(req: func.HttpRequest) -> func.HttpResponse:
    """A file of the dashboard: its scripts, styles and images."""
    return serve(req, req.route_params.get("path", ""))
