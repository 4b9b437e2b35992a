"""The flow page (docs/decisions/0011-flow-page.md): ``GET /ui`` and its static files.

Not part of the API: the page is a client of the public API like any other, so these are plain
Chalice routes, absent from /openapi.json. The files live in ``static/`` beside this module
(chalice packages chalicelib/, so they deploy with the code); nothing is built.
"""

from __future__ import annotations

import re
from pathlib import Path

from chalice.app import Blueprint, Response

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# One plain name with a served extension: no dots in front, no slashes, nothing hidden.
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css)$")
# Self only, no inline script or style: the page is its files and the API, nothing else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The files change with the code; a browser asks again rather than run a stale page.
    "Cache-Control": "no-cache",
}

ui = Blueprint(__name__)


def _read(name: str) -> str | None:
    # Read on every request (a few kB from local disk): an edited file shows on reload.
    path = STATIC / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _not_found() -> Response:
    return Response(
        body="Not Found", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"}
    )


def _file(name: str, headers: dict[str, str] | None = None) -> Response:
    body = _read(name)
    if body is None:
        return _not_found()
    content_type = CONTENT_TYPES[Path(name).suffix]
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, **COMMON_HEADERS, **(headers or {})},
    )


def page() -> Response:
    """The page itself: a shell that loads ``ui/app.js``."""
    return _file("index.html", {"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def asset(asset: str) -> Response:
    """A script or style sheet of the page, by its plain file name."""
    return _file(asset) if ASSET_NAME.match(asset) else _not_found()


# Registered by call rather than by decorator: chalice's decorators carry no types (mypy strict).
ui.route("/ui", methods=["GET"])(page)
ui.route("/ui/{asset}", methods=["GET"])(asset)
