"""``dialogue-gym study serve | export | report``: the command-line side of a user study."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from .access import JOINS_PER_HOUR, SESSION_HOURS, EntryRules, check_admin_token

ADMIN_TOKEN_VAR = "DIALOGUE_GYM_STUDY_ADMIN_TOKEN"
"""Environment variable holding the admin token (never a flag: flags show in process lists)."""


def split_agent_specs(text: str) -> list[str]:
    """Split ``--agents`` on the commas between specs, keeping each spec's own ``k=v`` options:
    ``"scripted,prompting:llm=local:smollm2,max_tokens=60,random"`` ->
    ``["scripted", "prompting:llm=local:smollm2,max_tokens=60", "random"]`` (a piece whose first
    ``=`` comes before any ``:`` continues the previous spec)."""
    specs: list[str] = []
    for piece in (x.strip() for x in text.split(",")):
        if not piece:
            continue
        eq, colon = piece.find("="), piece.find(":")
        option = eq > 0 and (colon < 0 or eq < colon)
        if option and specs:
            specs[-1] += "," + piece
        elif option:
            raise InvalidInput(f"--agents starts with an option {piece!r}; give an agent first")
        else:
            specs.append(piece)
    return specs


def add_parser(sub: Any, env_choices: tuple[str, ...]) -> None:
    """Add ``study`` and its subcommands to the top-level subparsers."""
    s = sub.add_parser("study", help="a user study in the browser: serve, export, report")
    ssub = s.add_subparsers(dest="study_command", required=True)
    _add_serve(ssub, env_choices)
    _add_files(ssub)
    s.set_defaults(func=cmd_study)


def _add_serve(ssub: Any, env_choices: tuple[str, ...]) -> None:
    """``study serve`` and its options."""
    sv = ssub.add_parser(
        "serve",
        help="run the study web app",
        description=f"Run the study web app. The admin pages (/admin: progress, downloads) open "
        f"only when {ADMIN_TOKEN_VAR} is set in the environment.",
    )
    sv.add_argument("--env", required=True, choices=env_choices)
    sv.add_argument(
        "--agents",
        required=True,
        help="agent specs separated by commas, e.g. scripted,random,my_pkg.mod:Agent",
    )
    sv.add_argument("--db", type=Path, required=True, help="SQLite file (created if missing)")
    sv.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--max-turns", type=int, default=5, help="agent turns per conversation")
    sv.add_argument("--seed", type=int, default=0, help="persona seed of participant 0")
    sv.add_argument(
        "--root-path",
        default="",
        help="URL prefix when served behind a reverse proxy (e.g. /study)",
    )
    sv.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-* headers are trusted",
    )
    sv.add_argument(
        "--public-url",
        default=None,
        help="the origin participants reach (e.g. https://study.example.org, no path: the "
        "prefix is --root-path); their links use it (default: the bound address), and no URL "
        "is ever built from a request's Host header",
    )
    sv.add_argument(
        "--max-participants",
        type=int,
        default=None,
        help="places: once this many have finished a chat (or started within the hour), the "
        "start page says the study is full",
    )
    sv.add_argument(
        "--invite-only",
        action="store_true",
        help="start a visit only from a single-use invite link (study invite)",
    )
    sv.add_argument(
        "--joins-per-hour",
        type=int,
        default=JOINS_PER_HOUR,
        help=f"visits one address may start per hour (default {JOINS_PER_HOUR})",
    )
    sv.add_argument(
        "--admin-session-hours",
        type=float,
        default=SESSION_HOURS,
        help=f"how long an admin login lasts (default {SESSION_HOURS:g})",
    )


def _add_files(ssub: Any) -> None:
    """``study export``, ``study invite`` and ``study report``: the commands on a database."""
    ex = ssub.add_parser("export", help="conversations as Episode JSONL, answers as CSV or XLSX")
    ex.add_argument("--db", type=Path, required=True)
    ex.add_argument("--out", type=Path, required=True, help="folder to write into")
    ex.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default="csv",
        help="the answers' format (xlsx: every cell a string, for spreadsheet users)",
    )
    iv = ssub.add_parser(
        "invite",
        help="print single-use invite links (for serve --invite-only)",
        description="Create N single-use invite links and print them, one per line (only "
        "their hashes are stored: keep the printed links).",
    )
    iv.add_argument("--db", type=Path, required=True)
    iv.add_argument("--n", type=int, required=True, help="how many links")
    iv.add_argument(
        "--public-url",
        default="http://127.0.0.1:8000",
        help="the origin (and --root-path prefix, if any) the links start with",
    )
    rp = ssub.add_parser("report", help="means, within-participant tests, power, chart")
    rp.add_argument("--db", type=Path, required=True)
    rp.add_argument("--out", type=Path, required=True, help="folder to write into")
    rp.add_argument(
        "--exclude-fast",
        action="store_true",
        help="leave out participants whose median reply came implausibly fast",
    )
    rp.add_argument(
        "--fast-seconds",
        type=float,
        default=3.0,
        help="the median reply time under which a participant counts as too fast (default 3)",
    )


def cmd_study(args: argparse.Namespace) -> int:
    """Run one ``study`` subcommand."""
    from .store import StudyConfig, StudyStore

    if args.study_command != "serve":
        if not args.db.is_file():
            raise InvalidInput(f"no study database at {args.db}")
        store = StudyStore(args.db)
        if args.study_command == "invite":
            base = args.public_url.rstrip("/")
            for code in store.add_invites(args.n):
                print(f"{base}/?invite={code}")
            return 0
        if args.study_command == "export":
            from .export import export_study

            s = export_study(store, args.out, args.format)
            print(
                f"wrote {s['episodes']} conversations to {args.out / 'episodes.jsonl'} and "
                f"{s['answers']} answer rows to {s['answers_file']} "
                f"({s['participants']} participants; {s['left_out']} conversations not yet "
                "answered left out)"
            )
            return 0
        from .report import report_study

        result = report_study(store, args.out, args.exclude_fast, args.fast_seconds)
        print((args.out / "report.md").read_text(encoding="utf-8"))
        print(
            f"wrote {args.out}/report.md, report.json, report.png "
            f"({result['participants']} participants)"
        )
        return 0
    if args.max_turns < 1:
        raise InvalidInput(f"--max-turns must be at least 1, got {args.max_turns}")
    if not 0 < args.port < 65536:
        raise InvalidInput(f"--port must be 1-65535, got {args.port}")
    from .app import create_app

    agents = split_agent_specs(args.agents)
    if not agents:
        raise InvalidInput("--agents names no agent")
    if args.db.is_dir():
        raise InvalidInput(f"--db {args.db} is a folder; give a file path")
    config = StudyConfig(args.env, tuple(agents), args.max_turns, args.seed)
    admin = os.environ.get(ADMIN_TOKEN_VAR) or None
    if admin is not None:
        check_admin_token(admin)
    origin = (
        public_origin(args.public_url) if args.public_url else bound_origin(args.host, args.port)
    )
    if args.admin_session_hours <= 0:
        raise InvalidInput(f"--admin-session-hours must be > 0, got {args.admin_session_hours}")
    existed = args.db.exists()
    try:
        entry = EntryRules(args.max_participants, args.invite_only, args.joins_per_hour)
        app = create_app(
            StudyStore(args.db, config), admin, origin, args.admin_session_hours, entry
        )
    except BaseException:  # a bad agent: leave no database behind that is tied to it
        if not existed:
            for suffix in ("", "-wal", "-shm"):
                Path(str(args.db) + suffix).unlink(missing_ok=True)
        raise
    serve(app, args.host, args.port, args.root_path, args.forwarded_allow_ips)
    return 0


def public_origin(url: str) -> str:
    """``--public-url`` checked: ``http(s)://host[:port]`` and nothing else."""
    parts = urllib.parse.urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise InvalidInput(
            f"--public-url must be an origin like https://study.example.org (scheme, host, "
            f"optional port; the path prefix goes in --root-path), got {url!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def bound_origin(host: str, port: int) -> str:
    """The address the server binds, as an origin (IPv6 in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Any, host: str, port: int, root_path: str = "", forwarded: str = "") -> None:
    """Run ``app`` under uvicorn, with participant tokens redacted from every log line."""
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        print(
            f"warning: serving on {host}, reachable from other machines; put it behind a "
            "reverse proxy with TLS (README: running a study)",
            file=sys.stderr,
        )
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["filters"] = {"redact": {"()": "dialogue_gym.study.app.RedactTokens"}}
    for handler in log_config["handlers"].values():  # the access log and uvicorn's errors
        handler["filters"] = ["redact"]
    where = f"http://{host}:{port}/"
    if root_path:
        where += f" (behind your proxy: {root_path}/; admin: {root_path}/admin)"
    else:
        where += f" (admin: http://{host}:{port}/admin)"
    print(f"study: open {where}", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        root_path=root_path,
        proxy_headers=True,
        forwarded_allow_ips=forwarded or None,
        log_config=log_config,
    )
