"""The study web app: consent, persona card, blinded conversations, questions, admin pages.

Server-rendered pages (FastAPI + Jinja2, autoescaped), plain HTML forms and no script, so it runs
in any browser and behind any reverse proxy (``root_path``). Each page a participant sees is
computed from the database alone: a reload, a lost connection or a server restart resumes at the
same step. Agents speak from the stored transcript; an agent with memory is rebuilt after a
restart by replaying its earlier turns (deterministic agents say the same again; an LLM agent's
answers come from the completion cache).

Security: participant tokens are unguessable and stored hashed; a participant sees only their own
pages; the admin token is read from the environment by the CLI and is never stored or logged
(admin pages take it as ``Authorization: Bearer`` or from a login form that sets a derived
cookie); every form carries a CSRF token; inputs have length limits; every page sets a strict
Content-Security-Policy and ``Referrer-Policy: no-referrer`` (links carry tokens).
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from . import admin_routes, participant_routes
from .access import SESSION_HOURS, AdminSessions, EntryRules
from .store import StudyStore
from .web import MAX_BODY_BYTES, Web

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class RedactTokens(logging.Filter):
    """Hide participant tokens in log lines: every string argument is percent-decoded as often
    as it decodes (the router serves ``/%70/<token>`` and ``/p%2F<token>`` as ``/p/<token>``,
    and uvicorn logs the raw path), its repeated slashes collapsed, then ``/p/<token>`` becomes
    ``/p/<redacted>``, an ``invite=`` value and any other token-shaped run (32 URL-safe
    characters) ``<redacted>``."""

    _participant_path = re.compile(r"/p/[^/?#\s\"]+")
    _invite = re.compile(r"(invite=)[^&#\s\"]+")
    _token_shaped = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")

    @classmethod
    def redact(cls, text: str) -> str:
        """``text`` decoded and with every token hidden."""
        for _ in range(8):  # %2570 -> %70 -> p; a bound, as each round must shorten the text
            decoded = urllib.parse.unquote(text, errors="replace")
            if decoded == text:
                break
            text = decoded
        text = re.sub(r"/{2,}", "/", text)
        text = cls._participant_path.sub("/p/<redacted>", text)
        text = cls._invite.sub(r"\1<redacted>", text)
        return cls._token_shaped.sub("<redacted>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments (or its message) in place; never drops a line."""
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = self.redact(record.msg)
        return True


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413, counted as it arrives, so a
    chunked body without ``Content-Length`` is stopped too."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Pass the request on with a ``receive`` that counts the body's bytes."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = HTTPException(413, f"request body over {self.limit} bytes")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await PlainTextResponse(too_large.detail, 413)(scope, receive, send)
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise too_large  # turned into a 413 by Starlette's exception middleware
            return message

        await self.app(scope, counted, send)


def create_app(
    store: StudyStore,
    admin_token: str | None = None,
    origin: str = "",
    session_hours: float = SESSION_HOURS,
    entry: EntryRules | None = None,
) -> FastAPI:
    """The FastAPI app serving ``store``'s study. ``admin_token`` (from the environment) opens
    the admin pages; without it they answer 403. ``origin`` (``https://study.example.org``):
    where participants' links point (the CLI passes ``--public-url`` or the bound address);
    redirects are relative, and no URL is built from the request's Host header. ``entry``: who
    may start a visit (places, invites, the per-address limit)."""
    web = Web(store, admin_token, origin, AdminSessions(session_hours), entry)  # builds agents
    app = FastAPI(
        title="dialogue-gym study",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,  # Starlette's slash redirect is absolute, from the Host header
    )
    app.state.web = web
    app.state.study = web.study
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        path, base = request.scope["path"], web.base(request)
        own = path[len(base) :] if base and path.startswith(base + "/") else path
        if len(own) > 1 and own.endswith("/"):  # /p/TOKEN/ -> /p/TOKEN, relative
            # one leading slash: "//evil.example/" must not become a protocol-relative URL
            target = "/" + own.strip("/")
            query = request.scope.get("query_string", b"").decode("latin-1")
            response: Response = web.go(request, target + (f"?{query}" if query else ""))
            response.status_code = 308
        else:
            response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    app.include_router(participant_routes.router)
    app.include_router(admin_routes.router)
    return app
