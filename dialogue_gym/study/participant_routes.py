"""The participant's pages: landing, joining, consent, persona card, conversations, survey."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from .design import LIKERT, partner_label
from .flow import MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS, clean_text, same
from .store import Participant
from .web import NOT_FOUND, STUDY_FULL, Web, WebDep, client_of

_CSS = (Path(__file__).with_name("static") / "study.css").read_text(encoding="utf-8")

router = APIRouter()
"""Every page a participant sees."""

# -- landing and joining ---------------------------------------------------------------------


BY_INVITATION = "This study is by invitation: open the link you were given."
INVITE_USED = "This invitation has been used or is not valid. Each link starts one visit."


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, web: WebDep) -> Response:
    invite = request.query_params.get("invite", "")[:64]
    rules = web.entry
    if rules.max_participants is not None:
        taken = await run_in_threadpool(web.store.places_taken)
        if taken >= rules.max_participants:
            return web.page(request, "index.html", closed=STUDY_FULL)
    if rules.invite_only:
        if not invite:
            return web.page(request, "index.html", closed=BY_INVITATION)
        if not await run_in_threadpool(web.store.invite_open, invite):
            return web.page(request, "index.html", closed=INVITE_USED)
    return web.page_with_csrf(request, "index.html", invite=invite)


@router.post("/join")
async def join(request: Request, web: WebDep) -> Response:
    form = await web.form_of(request)
    cookie = request.cookies.get("dg_csrf", "")
    if not cookie or not same(cookie, form.get("csrf", "")):
        return web.error(
            request, "This form expired. Go back to the start page and try again.", 403
        )
    rules, invite = web.entry, form.get("invite", "")[:64] or None
    if rules.invite_only and invite is None:
        return web.error(request, BY_INVITATION, 403)
    wait = web.joins.take(client_of(request))
    if wait > 0:
        response = web.error(
            request, "Too many visits started from your address: try again later.", 429
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    joined = await run_in_threadpool(
        web.study.join, invite if rules.invite_only else None, rules.max_participants
    )
    if joined is None:
        full = rules.max_participants is not None and (
            await run_in_threadpool(web.store.places_taken) >= rules.max_participants
        )
        return web.error(request, STUDY_FULL if full or not rules.invite_only else INVITE_USED, 403)
    return web.go(request, f"/p/{joined[0]}")


@router.get("/static/study.css")
async def css() -> Response:
    return Response(_CSS, media_type="text/css")


# -- a participant's pages -------------------------------------------------------------------


@router.get("/p/{token}")
async def resume(request: Request, token: str, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    step = await run_in_threadpool(web.study.step_of, p)
    return web.go(request, web.step_path(token, step))


@router.get("/p/{token}/consent", response_class=HTMLResponse)
async def consent_page(request: Request, token: str, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    if p.consented is not None:
        return web.go(request, f"/p/{token}")
    return web.page(
        request,
        "consent.html",
        token=token,
        csrf=web.participant_csrf(token),
        link=web.link(request, f"/p/{token}"),
        n_agents=web.study.n_agents,
        max_turns=web.cfg.max_turns,
    )


@router.post("/p/{token}/consent")
async def consent(request: Request, token: str, web: WebDep) -> Response:
    p, form, stop = await web.checked_post(request, token)
    if stop is not None:
        return stop
    if form.get("agree") != "yes":
        return web.page(
            request,
            "consent.html",
            400,
            token=token,
            csrf=web.participant_csrf(token),
            link=web.link(request, f"/p/{token}"),
            n_agents=web.study.n_agents,
            max_turns=web.cfg.max_turns,
            problem="Please tick the box to agree, or close this page to leave.",
        )
    await run_in_threadpool(web.study.consent, p)
    return web.go(request, f"/p/{token}/card")


@router.get("/p/{token}/card", response_class=HTMLResponse)
async def card(request: Request, token: str, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    step = await run_in_threadpool(web.study.step_of, p)
    if step[0] == "consent":
        return web.go(request, web.step_path(token, step))
    return web.page(
        request, "card.html", token=token, card=p.card, next_path=web.step_path(token, step)
    )


@router.get("/p/{token}/chat/{position}", response_class=HTMLResponse)
async def chat_page(request: Request, token: str, position: int, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    step = await run_in_threadpool(web.study.step_of, p)
    if step != ("chat", position):
        return web.go(request, web.step_path(token, step))
    try:
        await run_in_threadpool(web.study.ensure_agent_turn, p, position)
    except Exception as e:  # a backend down, an agent's bug: nothing stored, retry on reload
        logging.getLogger("dialogue_gym.study").warning("agent failed: %s", e)
        return web.error(
            request,
            "Your partner could not answer just now. Wait a moment and reload this page.",
            503,
        )
    return await chat_view(web, request, token, p, position)


async def chat_view(
    web: Web,
    request: Request,
    token: str,
    p: Participant,
    position: int,
    problem: str = "",
    draft: str = "",
    status: int = 200,
) -> Response:
    messages = await run_in_threadpool(web.store.messages, p.id, position)
    return web.page(
        request,
        "chat.html",
        status,
        token=token,
        csrf=web.participant_csrf(token),
        card=p.card,
        label=partner_label(position),
        position=position,
        n_agents=web.study.n_agents,
        messages=messages,
        seen=len(messages),
        max_chars=MAX_MESSAGE_CHARS,
        turns_left=web.cfg.max_turns - sum(m.role == "assistant" for m in messages),
        problem=problem,
        draft=draft,
    )


@router.post("/p/{token}/chat/{position}")
async def chat(request: Request, token: str, position: int, web: WebDep) -> Response:
    p, form, stop = await web.checked_post(request, token, ("chat", position))
    if stop is not None:
        return stop
    if form.get("action") == "end":
        if await run_in_threadpool(web.study.end, p, position):
            return web.go(request, f"/p/{token}/survey/{position}")
        return await chat_view(
            web,
            request,
            token,
            p,
            position,
            "Please write at least one message before ending this chat.",
            status=400,
        )
    text = clean_text(form.get("text"))
    if not text:
        return await chat_view(
            web, request, token, p, position, "Please write a message.", status=400
        )
    if len(text) > MAX_MESSAGE_CHARS:
        return await chat_view(
            web,
            request,
            token,
            p,
            position,
            f"Your message is {len(text)} characters; at most {MAX_MESSAGE_CHARS} are allowed.",
            text[:MAX_MESSAGE_CHARS],
            400,
        )
    try:
        seen = int(form.get("seen", ""))
    except ValueError:
        return web.error(request, "This form is incomplete. Reload the page.", 400)
    log = logging.getLogger("dialogue_gym.study")
    try:
        due = await run_in_threadpool(web.study.say, p, position, seen, text)
    except Exception as e:  # the database failed: nothing was stored
        log.error("could not web.store a message: %s", e)
        return await chat_view(
            web,
            request,
            token,
            p,
            position,
            "Your message could not be saved. Please send it again.",
            text,
            503,
        )
    if due:
        try:
            await run_in_threadpool(web.study.ensure_agent_turn, p, position)
        except Exception as e:  # the message is stored; the agent's answer comes on reload
            log.warning("agent failed: %s", e)
            return web.error(
                request,
                "Your message was saved, but your partner could not "
                "answer just now. Wait a moment and reload this page.",
                503,
            )
    return web.go(request, f"/p/{token}")


@router.get("/p/{token}/survey/{position}", response_class=HTMLResponse)
async def survey_page(request: Request, token: str, position: int, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    step = await run_in_threadpool(web.study.step_of, p)
    if step != ("survey", position):
        return web.go(request, web.step_path(token, step))
    return survey_view(web, request, token, p, position, {})


def survey_view(
    web: Web,
    request: Request,
    token: str,
    p: Participant,
    position: int,
    form: dict[str, str],
    problem: str = "",
    status: int = 200,
) -> Response:
    return web.page(
        request,
        "survey.html",
        status,
        token=token,
        csrf=web.participant_csrf(token),
        label=partner_label(position),
        position=position,
        q=web.study.questions,
        likert=LIKERT,
        card=p.card,
        form=form,
        problem=problem,
        max_comment=MAX_COMMENT_CHARS,
    )


@router.post("/p/{token}/survey/{position}")
async def survey(request: Request, token: str, position: int, web: WebDep) -> Response:
    p, form, stop = await web.checked_post(request, token, ("survey", position))
    if stop is not None:
        return stop
    try:
        outcome, ratings, comment = web.study.parse_answers(form, p)
    except ValueError as e:
        return survey_view(web, request, token, p, position, form, str(e), 400)
    await run_in_threadpool(web.store.save_answer, p.id, position, outcome, ratings, comment)
    return web.go(request, f"/p/{token}")


@router.get("/p/{token}/done", response_class=HTMLResponse)
async def done(request: Request, token: str, web: WebDep) -> Response:
    p = await web.lookup(request, token)
    if p is None:
        return web.error(request, NOT_FOUND, 404)
    step = await run_in_threadpool(web.study.step_of, p)
    if step[0] != "done":
        return web.go(request, web.step_path(token, step))
    return web.page(request, "done.html")
