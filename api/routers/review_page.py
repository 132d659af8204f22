"""``GET /review``: the review page, and its script and style sheet, all shipped inside the package.

The page itself holds no data (so it needs no key to load): the reviewer enters the API key once per
browser session (kept in ``sessionStorage``, sent as a header, never in a URL), and the page's script
reads the queue and records from the ``/v1/`` API with it. No build step, no CDN.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.errors import not_found
from schemas.vocabulary import Organ, Side

router = APIRouter(tags=["review page"], include_in_schema=False)

ASSETS: Final[dict[str, str]] = {
    "review.js": "text/javascript; charset=utf-8",
    "review.css": "text/css; charset=utf-8",
}
"""The files the page loads from ``/review/assets/`` (nothing else is served from there)."""

SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
"""Everything the page uses comes from this server; it may not be framed."""


@cache
def asset(name: str) -> str:
    """The text of one packaged file under ``api/static``."""
    return files("api").joinpath("static", name).read_text(encoding="utf-8")


def _options(values: list[str]) -> str:
    return "".join(f"<option>{html.escape(v)}</option>" for v in values)


@cache
def page() -> str:
    """The page's HTML, with the vocabulary (organs, sides) rendered into its selects."""
    return (
        asset("review.html")
        .replace("{organ_options}", _options([o.value for o in Organ]))
        .replace("{side_options}", _options([s.value for s in Side]))
    )


@router.get("/review", response_class=HTMLResponse)
async def review_page() -> HTMLResponse:
    """The review page (a shell; its script fetches the data with the reviewer's key)."""
    return HTMLResponse(page(), headers=SECURITY_HEADERS)


@router.get("/review/assets/{name}")
async def review_asset(name: str) -> Response:
    """The page's script or style sheet (404 for any other name)."""
    if name not in ASSETS:
        raise not_found(f"no asset {name!r}")
    return Response(asset(name), media_type=ASSETS[name], headers=SECURITY_HEADERS)
