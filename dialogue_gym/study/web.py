"""What every route of the study app shares: the study, its store and config, the page
helpers, links, CSRF and the admin check."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool

from .access import AdminSessions, EntryRules, RateLimit
from .flow import Study, same
from .store import Participant, StudyStore, hash_token

_TEMPLATES = Path(__file__).with_name("templates")
MAX_BODY_BYTES = 65_536
"""Largest request body accepted, counted as it arrives (chunked bodies too): a form with the
longest message and comment in any script, percent-encoded, fits."""
NOT_FOUND = "This link is not valid. Check that you copied the whole link."
STUDY_FULL = "This study is full. Thank you for your interest."


def _hmac(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


class Web:
    """The app's shared state and page helpers (one per app, in ``app.state.web``)."""

    def __init__(
        self,
        store: StudyStore,
        admin_token: str | None,
        origin: str = "",
        sessions: AdminSessions | None = None,
        entry: EntryRules | None = None,
    ) -> None:
        self.store = store
        self.cfg = store.config
        self.study = Study(store)  # builds every agent: a bad spec fails now, not later
        jinja = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True)
        self.templates = Jinja2Templates(env=jinja)
        self.admin_token = admin_token
        self.sessions = sessions or AdminSessions()
        self.origin = origin.rstrip("/")
        self.entry = entry or EntryRules()
        self.joins = RateLimit(self.entry.joins_per_hour)

    def base(self, request: Request) -> str:
        """The path prefix the app is mounted under (``root_path``), without a trailing slash."""
        return request.scope.get("root_path", "").rstrip("/")

    def link(self, request: Request, path: str) -> str:
        """The full URL of ``path`` to show a participant: the origin the server was given
        (``--public-url``, else the address it binds), never the request's Host header."""
        return self.origin + self.base(request) + path

    def page_with_csrf(self, request: Request, name: str, **context: Any) -> Response:
        """Template ``name`` with a CSRF nonce in its form (the request's, else a new one), also
        set as an HttpOnly, SameSite cookie (``Secure`` behind https)."""
        nonce = request.cookies.get("dg_csrf") or secrets.token_urlsafe(16)
        response = self.page(request, name, csrf=nonce, **context)
        response.set_cookie(
            "dg_csrf",
            nonce,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=self.base(request) or "/",
        )
        return response

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """Render template ``name`` with the study's common context."""
        context.update(base=self.base(request), env_id=self.cfg.env_id, domain=self.study.domain)
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def go(self, request: Request, path: str) -> RedirectResponse:
        """A 303 redirect to ``path`` under the app's prefix."""
        return RedirectResponse(self.base(request) + path, status_code=303)

    def error(self, request: Request, message: str, status: int) -> Response:
        """The error page with ``message``."""
        return self.page(request, "error.html", status, message=message)

    async def form_of(self, request: Request) -> dict[str, str]:
        """The request's form fields (text only; files refused, fields and parts bounded)."""
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_BODY_BYTES)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def participant_csrf(self, p_token: str) -> str:
        """The CSRF token of a participant's forms (derived from their token)."""
        return _hmac(self.store.secret, "csrf", hash_token(p_token))

    async def lookup(self, request: Request, token: str) -> Participant | None:
        """The participant holding ``token``, or None."""
        if len(token) > 64:
            return None
        return await run_in_threadpool(self.store.participant, token)

    @staticmethod
    def step_path(token: str, step: tuple[str, int]) -> str:
        """The path of a participant's step."""
        name, pos = step
        return f"/p/{token}/{name}" + (f"/{pos}" if pos >= 0 else "")

    async def checked_post(
        self, request: Request, token: str, step: tuple[str, int] | None = None
    ) -> tuple[Participant | None, dict[str, str], Response | None]:
        """A participant's form: their record and fields, or the response that ends the request
        (unknown link 404, bad CSRF token 403, a form for a step they are no longer at: the
        redirect to where they are)."""
        p = await self.lookup(request, token)
        if p is None:
            return None, {}, self.error(request, NOT_FOUND, 404)
        places = self.entry.max_participants
        if places is not None and not await run_in_threadpool(self.store.keep_place, p.id, places):
            return p, {}, self.error(request, STUDY_FULL, 403)
        form = await self.form_of(request)
        if not same(form.get("csrf", ""), self.participant_csrf(token)):
            return (
                p,
                form,
                self.error(request, "This form expired. Reload the page and try again.", 403),
            )
        if step is not None:
            now = await run_in_threadpool(self.study.step_of, p)
            if now != step:  # a repeated form after the visit moved on
                return p, form, self.go(request, self.step_path(token, now))
        return p, form, None

    def is_admin(self, request: Request) -> bool:
        """Whether the request carries the admin token as a bearer token (wrong ones count
        towards the client's back-off) or a live login session's cookie."""
        if self.admin_token is None:
            return False
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return self.check_admin_token(request, auth[7:])
        return self.sessions.valid(request.cookies.get("dg_admin", ""))

    def check_admin_token(self, request: Request, token: str) -> bool:
        """Whether ``token`` is the admin token; a client in its back-off is refused unchecked,
        and a wrong token extends it."""
        client = client_of(request)
        if self.admin_token is None or self.sessions.wait(client) > 0:
            return False
        ok = same(token, self.admin_token)
        (self.sessions.succeeded if ok else self.sessions.failed)(client)
        return ok


def client_of(request: Request) -> str:
    """The client's address (behind a trusted proxy: the one it forwarded)."""
    return request.client.host if request.client else "unknown"


def web_of(request: Request) -> Web:
    """The app's :class:`Web` (a FastAPI dependency of every route)."""
    return request.app.state.web


WebDep = Annotated[Web, Depends(web_of)]
"""A route's parameter type for the app's :class:`Web`."""
