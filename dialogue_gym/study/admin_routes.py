"""The admin pages: progress, login and logout, and the exports (answers CSV, episodes
JSONL)."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from .design import partner_label
from .flow import same
from .web import Web, WebDep, client_of

router = APIRouter()
"""The admin pages (each checks the admin token)."""

# -- admin -----------------------------------------------------------------------------------

CLOSED = (
    "The admin pages are closed: start the server with DIALOGUE_GYM_STUDY_ADMIN_TOKEN "
    "set to open them."
)


@router.get("/admin", response_class=HTMLResponse)
async def admin(request: Request, web: WebDep) -> Response:
    if web.admin_token is None:
        return web.error(request, CLOSED, 403)
    if not web.is_admin(request):
        return web.page_with_csrf(request, "admin_login.html")
    counts = await run_in_threadpool(web.store.counts)
    pages = max(1, math.ceil(counts["participants"] / ADMIN_PAGE_ROWS))
    raw = request.query_params.get("page", "1")
    page = min(max(int(raw), 1), pages) if raw.isascii() and raw.isdigit() else 1
    rows = await run_in_threadpool(progress_rows, web, (page - 1) * ADMIN_PAGE_ROWS)
    return web.page_with_csrf(
        request, "admin.html", rows=rows, counts=counts, cfg=web.cfg, page=page, pages=pages
    )


ADMIN_PAGE_ROWS = 50
"""Participants per page of the admin progress table."""


def progress_rows(web: Web, offset: int = 0) -> list[dict[str, Any]]:
    """A row per participant on one page (from the ``offset``-th): their agent order, step and
    answers so far."""
    rows = []
    for p in web.store.participants(offset, ADMIN_PAGE_ROWS):
        step = web.study.step_of(p)
        rows.append(
            {
                "id": p.id,
                "order": [partner_label(i) + " = agent " + str(a) for i, a in enumerate(p.order)],
                "step": step[0] + (f" {partner_label(step[1])}" if step[1] >= 0 else ""),
                "answered": len(web.store.answered(p.id)),
            }
        )
    return rows


@router.post("/admin/login")
async def admin_login(request: Request, web: WebDep) -> Response:
    if web.admin_token is None:
        return web.error(request, CLOSED, 403)
    form = await web.form_of(request)
    cookie = request.cookies.get("dg_csrf", "")
    if not cookie or not same(cookie, form.get("csrf", "")):
        return web.error(request, "This form expired. Reload the page and try again.", 403)
    wait = web.sessions.wait(client_of(request))
    if wait > 0:
        response = web.error(
            request, f"Too many wrong tokens: try again in {math.ceil(wait)} seconds.", 429
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    if not web.check_admin_token(request, form.get("token", "")):
        return web.error(request, "Wrong admin token.", 403)
    response = web.go(request, "/admin")
    response.set_cookie(
        "dg_admin",
        web.sessions.start(),
        max_age=int(web.sessions.seconds),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=(web.base(request) or "") + "/admin",
    )
    return response


@router.post("/admin/logout")
async def admin_logout(request: Request, web: WebDep) -> Response:
    form = await web.form_of(request)
    cookie = request.cookies.get("dg_csrf", "")
    if not cookie or not same(cookie, form.get("csrf", "")):
        return web.error(request, "This form expired. Reload the page and try again.", 403)
    web.sessions.end(request.cookies.get("dg_admin", ""))
    response = web.go(request, "/admin")
    response.delete_cookie("dg_admin", path=(web.base(request) or "") + "/admin")
    return response


@router.get("/admin/answers.csv")
async def answers_csv(request: Request, web: WebDep) -> Response:
    if not web.is_admin(request):
        return PlainTextResponse("admin token required", 403)
    from .export import answers_csv_text

    text = await run_in_threadpool(answers_csv_text, web.store)
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=answers.csv"},
    )


@router.get("/admin/episodes.jsonl")
async def episodes_jsonl(request: Request, web: WebDep) -> Response:
    if not web.is_admin(request):
        return PlainTextResponse("admin token required", 403)
    import json

    from .export import study_episodes

    episodes = await run_in_threadpool(study_episodes, web.store)
    text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in episodes)
    return Response(
        text,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": "attachment; filename=episodes.jsonl"},
    )
