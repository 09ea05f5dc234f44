"""The admin pages: progress, login, and the exports (answers CSV, episodes JSONL)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from .design import partner_label
from .flow import same
from .web import Web, WebDep

router = APIRouter()
"""The admin pages (each checks the admin token)."""

# -- admin -----------------------------------------------------------------------------------

CLOSED = (
    "The admin pages are closed: start the server with DIALOGUE_GYM_STUDY_ADMIN_TOKEN "
    "set to open them."
)


@router.get("/admin", response_class=HTMLResponse)
async def admin(request: Request, web: WebDep) -> Response:
    if web.admin_cookie is None:
        return web.error(request, CLOSED, 403)
    if not web.is_admin(request):
        nonce = request.cookies.get("dg_csrf") or secrets.token_urlsafe(16)
        response = web.page(request, "admin_login.html", csrf=nonce)
        response.set_cookie(
            "dg_csrf", nonce, httponly=True, samesite="strict", path=web.base(request) or "/"
        )
        return response
    rows = await run_in_threadpool(progress_rows, web)
    return web.page(
        request,
        "admin.html",
        rows=rows,
        counts=web.store.counts(),
        cfg=web.cfg,
        csrf=request.cookies.get("dg_csrf", ""),
    )


def progress_rows(web: Web) -> list[dict[str, Any]]:
    """A row per participant: their agent order, step and answers so far."""
    rows = []
    for p in web.store.participants():
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
    if web.admin_cookie is None or web.admin_token is None:
        return web.error(request, CLOSED, 403)
    form = await web.form_of(request)
    cookie = request.cookies.get("dg_csrf", "")
    if not cookie or not same(cookie, form.get("csrf", "")):
        return web.error(request, "This form expired. Reload the page and try again.", 403)
    if not same(form.get("token", ""), web.admin_token):
        return web.error(request, "Wrong admin token.", 403)
    response = web.go(request, "/admin")
    response.set_cookie(
        "dg_admin",
        web.admin_cookie,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=(web.base(request) or "") + "/admin",
    )
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
