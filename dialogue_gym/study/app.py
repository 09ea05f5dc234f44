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

import copy
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool

from ..agents.base import Agent
from ..agents.registry import is_privileged, make_agent
from ..domains import env_domain
from ..errors import InvalidInput
from ..play import agent_view
from .design import LIKERT, MAX_AGENTS, QUESTIONS, draw_card, order_for, partner_label
from .store import Participant, StudyStore, hash_token

MAX_MESSAGE_CHARS = 1000
"""Longest message a participant may send (the env's utterance limit is similar)."""
MAX_COMMENT_CHARS = 2000
"""Longest free-text comment."""
MAX_BODY_BYTES = 65_536
"""Largest request body accepted, counted as it arrives (chunked bodies too): a form with the
longest message and comment in any script, percent-encoded, fits."""
AGENT_CACHE = 256
"""Agents kept in memory between turns (least recently used dropped; rebuilt on demand)."""

_TEMPLATES = Path(__file__).with_name("templates")
_CSS = (Path(__file__).with_name("static") / "study.css").read_text(encoding="utf-8")
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class RedactTokens(logging.Filter):
    """Hide participant tokens in access-log lines (``/p/<token>/...`` -> ``/p/<redacted>``)."""

    _pattern = re.compile(r"/p/[A-Za-z0-9_-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments in place; never drops a line."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._pattern.sub("/p/<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
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


class Study:
    """The study's logic, independent of HTTP: steps, agent turns, answers."""

    def __init__(self, store: StudyStore) -> None:
        cfg = store.config
        self.store = store
        self.domain = env_domain(cfg.env_id)
        self.questions = QUESTIONS[self.domain]
        self.n_agents = len(cfg.agents)
        # one loaded agent per spec: a conversation's agent is a shallow copy, reset for it (the
        # Agent contract: per-episode memory lives in attributes that reset() assigns), so a
        # model is loaded once, not once per conversation
        self._prototypes = {spec: make_agent(spec, self.domain) for spec in check_agents(cfg)}
        self._agents: OrderedDict[tuple[int, int], tuple[Agent, int]] = OrderedDict()
        self._locks: dict[tuple[int, int], threading.Lock] = {}
        self._guard = threading.Lock()

    # -- steps -----------------------------------------------------------------------------------

    def join(self) -> tuple[str, Participant]:
        """A new participant (token, record) with their persona card."""
        cfg = self.store.config
        return self.store.add_participant(lambda seed: draw_card(cfg.env_id, seed))

    def consent(self, p: Participant) -> None:
        """Record consent; the participant gets the next Latin-square row."""
        self.store.consent(p.id, lambda k: order_for(k, self.n_agents))

    def step_of(self, p: Participant) -> tuple[str, int]:
        """Where this participant is: ``("consent", -1)``, ``("chat", k)``, ``("survey", k)`` or
        ``("done", -1)``."""
        if p.consented is None:
            return "consent", -1
        ended, answered = self.store.ended(p.id), self.store.answered(p.id)
        for pos in range(self.n_agents):
            if pos not in answered:
                return ("survey", pos) if pos in ended else ("chat", pos)
        return "done", -1

    # -- conversations ---------------------------------------------------------------------------

    def _lock(self, key: tuple[int, int]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def agent_spec(self, p: Participant, position: int) -> str:
        """The spec of the agent this participant meets at ``position``."""
        return self.store.config.agents[p.order[position]]

    def agent_due(self, messages: list[Any]) -> bool:
        """Whether the agent speaks next: after a user message, or first in persuasion."""
        if not messages:
            return self.domain == "persuasion"
        return messages[-1].role == "user"

    def ensure_agent_turn(self, p: Participant, position: int) -> None:
        """If the agent is due to speak, compute its turn and store it (once: under a lock per
        conversation, re-reading the transcript first)."""
        key = (p.id, position)
        with self._lock(key):
            messages = self.store.messages(p.id, position)
            if not self.agent_due(messages) or position in self.store.ended(p.id):
                return
            if sum(m.role == "assistant" for m in messages) >= self.store.config.max_turns:
                self.store.end_conversation(p.id, position, "max_turns")
                return
            text = self._agent_says(
                p, position, [{"role": m.role, "content": m.text} for m in messages]
            )
            self.store.add_message(p.id, position, len(messages), "assistant", text)

    def _agent_says(self, p: Participant, position: int, messages: list[dict[str, str]]) -> str:
        turn = sum(m["role"] == "assistant" for m in messages)
        key = (p.id, position)
        max_turns = self.store.config.max_turns
        with self._guard:
            agent, done = self._agents.pop(key, (None, -1))
        if agent is None or done != turn:  # new, or lost (restart, eviction): rebuild its memory
            agent = copy.copy(self._prototypes[self.agent_spec(p, position)])
            agent.reset(seed=p.seed)
            starts = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
            for j, i in enumerate(starts):
                agent.act(*agent_view(self.domain, messages[:i], j, max_turns))
        text = agent.act(*agent_view(self.domain, messages, turn, max_turns))
        if not isinstance(text, str) or not text.strip():
            raise RuntimeError(f"agent {self.agent_spec(p, position)!r} said nothing")
        with self._guard:
            self._agents[key] = (agent, turn + 1)
            while len(self._agents) > AGENT_CACHE:
                self._agents.popitem(last=False)
        return text.strip()[:MAX_MESSAGE_CHARS]

    def say(self, p: Participant, position: int, seen: int, text: str) -> bool:
        """Store the participant's message (``seen``: how many messages their page showed, so a
        repeated form stores nothing) and end the conversation after the last turn. True if the
        agent is now due to answer (:meth:`ensure_agent_turn`)."""
        with self._lock((p.id, position)):
            if position in self.store.ended(p.id):
                return False  # "End" won the race: nothing is added after the end
            messages = self.store.messages(p.id, position)
            if seen != len(messages) or self.agent_due(messages):
                return False  # a repeated or stale form: already stored
            self.store.add_message(p.id, position, seen, "user", text)
            if sum(m.role == "assistant" for m in messages) >= self.store.config.max_turns:
                self.store.end_conversation(p.id, position, "max_turns")
                return False
        return True

    def end(self, p: Participant, position: int) -> bool:
        """The participant ended the conversation: accepted once they have written at least one
        message (``False`` otherwise: an empty conversation is not a result)."""
        with self._lock((p.id, position)):
            if not any(m.role == "user" for m in self.store.messages(p.id, position)):
                return False
            self.store.end_conversation(p.id, position, "ended by participant")
        return True

    def parse_answers(self, form: dict[str, str], p: Participant) -> tuple[float, dict, str]:
        """Validate the questionnaire; ``ValueError`` says which answer is wrong and what is
        allowed."""
        q = self.questions
        raw = (form.get("outcome") or "").strip().lstrip("$")
        try:
            outcome = float(raw)
        except ValueError:
            raise InvalidInput(
                f"Please answer the first question with a number from {q.outcome_low:g} to "
                f"{q.outcome_high:g}."
            ) from None
        if not q.outcome_low <= outcome <= q.outcome_high or outcome != outcome:
            raise InvalidInput(
                f"{outcome:g} is outside the allowed range, {q.outcome_low:g} to "
                f"{q.outcome_high:g}."
            )
        if q.outcome_step == 1 and outcome != int(outcome):
            raise InvalidInput(
                f"Please answer the first question with a whole number, not {outcome:g}."
            )
        ratings = {}
        for r in q.ratings:
            value = form.get(f"rating_{r.key}", "")
            if value not in {str(k) for k, _ in LIKERT}:
                raise InvalidInput(f'Please rate "{r.statement}" from 1 to 5.')
            ratings[r.key] = int(value)
        comment = clean_text(form.get("comment"))
        if len(comment) > MAX_COMMENT_CHARS:
            raise InvalidInput(
                f"The comment is {len(comment)} characters; at most "
                f"{MAX_COMMENT_CHARS} are allowed."
            )
        return round(outcome, 2), ratings, comment


def check_agents(cfg: Any) -> tuple[str, ...]:
    """``cfg.agents`` if a study can use them: 1 to :data:`MAX_AGENTS`, none privileged (a
    person has no simulated persona) and not the terminal ``human`` agent; else ``ValueError``.
    (Buildable specs are checked by building them.)"""
    bad = [s for s in cfg.agents if is_privileged(s)]
    if bad:
        raise InvalidInput(f"agent(s) {bad} read a simulated persona; a person has none")
    if any(s.partition(":")[0] == "human" for s in cfg.agents):
        raise InvalidInput(
            "the 'human' agent types in a terminal; in a study the person is the user"
        )
    if not 1 <= len(cfg.agents) <= MAX_AGENTS:
        raise InvalidInput(f"a study needs 1 to {MAX_AGENTS} agents, got {len(cfg.agents)}")
    return tuple(cfg.agents)


def _same(a: str, b: str) -> bool:
    """Timing-safe equality of two strings (any characters: compared as UTF-8 bytes)."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def clean_text(text: str | None) -> str:
    """A form's text as typed: line breaks as ``\n`` (browsers send ``\r\n``, which their own
    ``maxlength`` counts as one character), outer whitespace removed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _hmac(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def create_app(store: StudyStore, admin_token: str | None = None) -> FastAPI:
    """The FastAPI app serving ``store``'s study. ``admin_token`` (from the environment) opens
    the admin pages; without it they answer 403."""
    cfg = store.config
    study = Study(store)  # builds every agent: a bad spec fails now, not before a participant
    jinja = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True)
    templates = Jinja2Templates(env=jinja)
    admin_cookie = (
        _hmac(store.secret, "admin", hashlib.sha256(admin_token.encode()).hexdigest())
        if admin_token
        else None
    )
    app = FastAPI(title="dialogue-gym study", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.study = study

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    def base(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(base=base(request), env_id=cfg.env_id, domain=study.domain)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def go(request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(base(request) + path, status_code=303)

    def error(request: Request, message: str, status: int) -> Response:
        return page(request, "error.html", status, message=message)

    async def form_of(request: Request) -> dict[str, str]:
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_BODY_BYTES)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def participant_csrf(p_token: str) -> str:
        return _hmac(store.secret, "csrf", hash_token(p_token))

    async def lookup(request: Request, token: str) -> Participant | None:
        if len(token) > 64:
            return None
        return await run_in_threadpool(store.participant, token)

    def step_path(token: str, step: tuple[str, int]) -> str:
        name, pos = step
        return f"/p/{token}/{name}" + (f"/{pos}" if pos >= 0 else "")

    # -- landing and joining ---------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        nonce = request.cookies.get("dg_csrf") or secrets.token_urlsafe(16)
        response = page(request, "index.html", csrf=nonce)
        response.set_cookie(
            "dg_csrf", nonce, httponly=True, samesite="strict", path=base(request) or "/"
        )
        return response

    @app.post("/join")
    async def join(request: Request) -> Response:
        form = await form_of(request)
        cookie = request.cookies.get("dg_csrf", "")
        if not cookie or not _same(cookie, form.get("csrf", "")):
            return error(
                request, "This form expired. Go back to the start page and try again.", 403
            )
        token, _ = await run_in_threadpool(study.join)
        return go(request, f"/p/{token}")

    @app.get("/static/study.css")
    async def css() -> Response:
        return Response(_CSS, media_type="text/css")

    # -- a participant's pages -------------------------------------------------------------------

    not_found = "This link is not valid. Check that you copied the whole link."

    @app.get("/p/{token}")
    async def resume(request: Request, token: str) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        step = await run_in_threadpool(study.step_of, p)
        return go(request, step_path(token, step))

    @app.get("/p/{token}/consent", response_class=HTMLResponse)
    async def consent_page(request: Request, token: str) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        if p.consented is not None:
            return go(request, f"/p/{token}")
        return page(
            request,
            "consent.html",
            token=token,
            csrf=participant_csrf(token),
            link=str(request.base_url).rstrip("/") + f"/p/{token}",
            n_agents=study.n_agents,
            max_turns=cfg.max_turns,
        )

    async def checked_post(
        request: Request, token: str, step: tuple[str, int] | None = None
    ) -> tuple[Participant | None, dict[str, str], Response | None]:
        """A participant's form: their record and fields, or the response that ends the request
        (unknown link 404, bad CSRF token 403, a form for a step they are no longer at: the
        redirect to where they are)."""
        p = await lookup(request, token)
        if p is None:
            return None, {}, error(request, not_found, 404)
        form = await form_of(request)
        if not _same(form.get("csrf", ""), participant_csrf(token)):
            return p, form, error(request, "This form expired. Reload the page and try again.", 403)
        if step is not None:
            now = await run_in_threadpool(study.step_of, p)
            if now != step:  # a repeated form after the visit moved on
                return p, form, go(request, step_path(token, now))
        return p, form, None

    @app.post("/p/{token}/consent")
    async def consent(request: Request, token: str) -> Response:
        p, form, stop = await checked_post(request, token)
        if stop is not None:
            return stop
        if form.get("agree") != "yes":
            return page(
                request,
                "consent.html",
                400,
                token=token,
                csrf=participant_csrf(token),
                link=str(request.base_url).rstrip("/") + f"/p/{token}",
                n_agents=study.n_agents,
                max_turns=cfg.max_turns,
                problem="Please tick the box to agree, or close this page to leave.",
            )
        await run_in_threadpool(study.consent, p)
        return go(request, f"/p/{token}/card")

    @app.get("/p/{token}/card", response_class=HTMLResponse)
    async def card(request: Request, token: str) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        step = await run_in_threadpool(study.step_of, p)
        if step[0] == "consent":
            return go(request, step_path(token, step))
        return page(
            request, "card.html", token=token, card=p.card, next_path=step_path(token, step)
        )

    @app.get("/p/{token}/chat/{position}", response_class=HTMLResponse)
    async def chat_page(request: Request, token: str, position: int) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        step = await run_in_threadpool(study.step_of, p)
        if step != ("chat", position):
            return go(request, step_path(token, step))
        try:
            await run_in_threadpool(study.ensure_agent_turn, p, position)
        except Exception as e:  # a backend down, an agent's bug: nothing stored, retry on reload
            logging.getLogger("dialogue_gym.study").warning("agent failed: %s", e)
            return error(
                request,
                "Your partner could not answer just now. Wait a moment and reload this page.",
                503,
            )
        return await chat_view(request, token, p, position)

    async def chat_view(
        request: Request,
        token: str,
        p: Participant,
        position: int,
        problem: str = "",
        draft: str = "",
        status: int = 200,
    ) -> Response:
        messages = await run_in_threadpool(store.messages, p.id, position)
        return page(
            request,
            "chat.html",
            status,
            token=token,
            csrf=participant_csrf(token),
            card=p.card,
            label=partner_label(position),
            position=position,
            n_agents=study.n_agents,
            messages=messages,
            seen=len(messages),
            max_chars=MAX_MESSAGE_CHARS,
            turns_left=cfg.max_turns - sum(m.role == "assistant" for m in messages),
            problem=problem,
            draft=draft,
        )

    @app.post("/p/{token}/chat/{position}")
    async def chat(request: Request, token: str, position: int) -> Response:
        p, form, stop = await checked_post(request, token, ("chat", position))
        if stop is not None:
            return stop
        if form.get("action") == "end":
            if await run_in_threadpool(study.end, p, position):
                return go(request, f"/p/{token}/survey/{position}")
            return await chat_view(request, token, p, position,
                                   "Please write at least one message before ending this chat.",
                                   status=400)  # fmt: skip
        text = clean_text(form.get("text"))
        if not text:
            return await chat_view(request, token, p, position, "Please write a message.",
                                   status=400)  # fmt: skip
        if len(text) > MAX_MESSAGE_CHARS:
            return await chat_view(request, token, p, position,
                                   f"Your message is {len(text)} characters; at most "
                                   f"{MAX_MESSAGE_CHARS} are allowed.", text[:MAX_MESSAGE_CHARS],
                                   400)  # fmt: skip
        try:
            seen = int(form.get("seen", ""))
        except ValueError:
            return error(request, "This form is incomplete. Reload the page.", 400)
        log = logging.getLogger("dialogue_gym.study")
        try:
            due = await run_in_threadpool(study.say, p, position, seen, text)
        except Exception as e:  # the database failed: nothing was stored
            log.error("could not store a message: %s", e)
            return await chat_view(request, token, p, position, "Your message could not be "
                                   "saved. Please send it again.", text, 503)  # fmt: skip
        if due:
            try:
                await run_in_threadpool(study.ensure_agent_turn, p, position)
            except Exception as e:  # the message is stored; the agent's answer comes on reload
                log.warning("agent failed: %s", e)
                return error(
                    request,
                    "Your message was saved, but your partner could not "
                    "answer just now. Wait a moment and reload this page.",
                    503,
                )
        return go(request, f"/p/{token}")

    @app.get("/p/{token}/survey/{position}", response_class=HTMLResponse)
    async def survey_page(request: Request, token: str, position: int) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        step = await run_in_threadpool(study.step_of, p)
        if step != ("survey", position):
            return go(request, step_path(token, step))
        return survey_view(request, token, p, position, {})

    def survey_view(
        request: Request,
        token: str,
        p: Participant,
        position: int,
        form: dict[str, str],
        problem: str = "",
        status: int = 200,
    ) -> Response:
        return page(
            request,
            "survey.html",
            status,
            token=token,
            csrf=participant_csrf(token),
            label=partner_label(position),
            position=position,
            q=study.questions,
            likert=LIKERT,
            card=p.card,
            form=form,
            problem=problem,
            max_comment=MAX_COMMENT_CHARS,
        )

    @app.post("/p/{token}/survey/{position}")
    async def survey(request: Request, token: str, position: int) -> Response:
        p, form, stop = await checked_post(request, token, ("survey", position))
        if stop is not None:
            return stop
        try:
            outcome, ratings, comment = study.parse_answers(form, p)
        except ValueError as e:
            return survey_view(request, token, p, position, form, str(e), 400)
        await run_in_threadpool(store.save_answer, p.id, position, outcome, ratings, comment)
        return go(request, f"/p/{token}")

    @app.get("/p/{token}/done", response_class=HTMLResponse)
    async def done(request: Request, token: str) -> Response:
        p = await lookup(request, token)
        if p is None:
            return error(request, not_found, 404)
        step = await run_in_threadpool(study.step_of, p)
        if step[0] != "done":
            return go(request, step_path(token, step))
        return page(request, "done.html")

    # -- admin -----------------------------------------------------------------------------------

    def is_admin(request: Request) -> bool:
        if admin_cookie is None:
            return False
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer ") and admin_token:
            return _same(auth[7:], admin_token)
        return _same(request.cookies.get("dg_admin", ""), admin_cookie)

    closed = (
        "The admin pages are closed: start the server with DIALOGUE_GYM_STUDY_ADMIN_TOKEN "
        "set to open them."
    )

    @app.get("/admin", response_class=HTMLResponse)
    async def admin(request: Request) -> Response:
        if admin_cookie is None:
            return error(request, closed, 403)
        if not is_admin(request):
            nonce = request.cookies.get("dg_csrf") or secrets.token_urlsafe(16)
            response = page(request, "admin_login.html", csrf=nonce)
            response.set_cookie(
                "dg_csrf", nonce, httponly=True, samesite="strict", path=base(request) or "/"
            )
            return response
        rows = await run_in_threadpool(progress_rows)
        return page(
            request,
            "admin.html",
            rows=rows,
            counts=store.counts(),
            cfg=cfg,
            csrf=request.cookies.get("dg_csrf", ""),
        )

    def progress_rows() -> list[dict[str, Any]]:
        rows = []
        for p in store.participants():
            step = study.step_of(p)
            rows.append(
                {
                    "id": p.id,
                    "order": [
                        partner_label(i) + " = agent " + str(a) for i, a in enumerate(p.order)
                    ],
                    "step": step[0] + (f" {partner_label(step[1])}" if step[1] >= 0 else ""),
                    "answered": len(store.answered(p.id)),
                }
            )
        return rows

    @app.post("/admin/login")
    async def admin_login(request: Request) -> Response:
        if admin_cookie is None or admin_token is None:
            return error(request, closed, 403)
        form = await form_of(request)
        cookie = request.cookies.get("dg_csrf", "")
        if not cookie or not _same(cookie, form.get("csrf", "")):
            return error(request, "This form expired. Reload the page and try again.", 403)
        if not _same(form.get("token", ""), admin_token):
            return error(request, "Wrong admin token.", 403)
        response = go(request, "/admin")
        response.set_cookie(
            "dg_admin",
            admin_cookie,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=(base(request) or "") + "/admin",
        )
        return response

    @app.get("/admin/answers.csv")
    async def answers_csv(request: Request) -> Response:
        if not is_admin(request):
            return PlainTextResponse("admin token required", 403)
        from .export import answers_csv_text

        text = await run_in_threadpool(answers_csv_text, store)
        return Response(
            text,
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=answers.csv"},
        )

    @app.get("/admin/episodes.jsonl")
    async def episodes_jsonl(request: Request) -> Response:
        if not is_admin(request):
            return PlainTextResponse("admin token required", 403)
        import json

        from .export import study_episodes

        episodes = await run_in_threadpool(study_episodes, store)
        text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in episodes)
        return Response(
            text,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": "attachment; filename=episodes.jsonl"},
        )

    return app
