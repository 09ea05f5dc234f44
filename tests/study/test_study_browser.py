"""The study app as people meet it: a real server (``dialogue-gym study serve`` in a subprocess on
127.0.0.1), headless Chromium driven by Playwright, a restart in the middle of a visit, and 30
participants talking at once.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``); Playwright never
downloads a browser. Without Chromium these tests skip, unless ``DIALOGUE_GYM_REQUIRE_BROWSER=1``
(set by CI), where they fail. ``DIALOGUE_GYM_STUDY_SCREENSHOTS=DIR`` saves a screenshot of each
page (the README's pictures).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dialogue_gym.study.store import StudyStore

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("DIALOGUE_GYM_REQUIRE_BROWSER") == "1"
SHOTS = os.environ.get("DIALOGUE_GYM_STUDY_SCREENSHOTS")
ADMIN = "browser-test-admin-token-9f8e7d"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need(what: str, ok: bool) -> None:
    if not ok:
        if REQUIRED:
            pytest.fail(f"{what} is missing and DIALOGUE_GYM_REQUIRE_BROWSER=1")
        pytest.skip(f"{what} is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``dialogue-gym study serve`` in a subprocess; ``start``/``kill`` for restarts."""

    def __init__(self, db: Path, env_id: str, agents: str, max_turns: int) -> None:
        self.db, self.port = db, _free_port()
        self.args = [
            sys.executable,
            "-m",
            "dialogue_gym.cli",
            "study",
            "serve",
            "--env",
            env_id,
            "--agents",
            agents,
            "--db",
            str(db),
            "--port",
            str(self.port),
            "--max-turns",
            str(max_turns),
        ]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = db.with_suffix(".log")

    def start(self) -> Server:
        """Start and wait until the landing page answers (60 s at most)."""
        import httpx

        env = {**os.environ, "DIALOGUE_GYM_STUDY_ADMIN_TOKEN": ADMIN}
        self.proc = subprocess.Popen(
            self.args, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("server did not answer within 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what was committed must be all there."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def browser():
    _need("chromium", Path(CHROMIUM).exists())
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright", False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _go(page, selector: str) -> None:
    """Click a link or submit button and wait until the page it leads to has loaded.

    A bare ``click`` returns once the navigation has *started*; reading the page then can race
    the new document and see an empty one (a CI failure: ``content()`` was ``''``).
    """
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def _send(page, text: str) -> None:
    page.fill("#text", text)
    _go(page, "#send")


def _answer(page, outcome: str, rating: int, comment: str) -> None:
    page.fill("#outcome", outcome)
    for key in ("persuasive", "natural", "again"):
        page.check(f"input[name=rating_{key}][value='{rating}']")
    page.fill("#comment", comment)
    _go(page, "#submit")


def test_a_whole_visit_in_chromium_survives_a_restart(tmp_path, browser):
    server = Server(tmp_path / "study.sqlite", "Persuasion-v0", "scripted,random", 2).start()
    try:
        page = browser.new_page()
        alerts: list[str] = []
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        page.goto(server.url + "/")
        _shot(page, "1-start")
        _go(page, "#start")
        assert "/consent" in page.url
        _shot(page, "2-consent")
        _go(page, "#consent")  # without ticking the box
        assert "Please tick the box" in page.inner_text("body")
        page.check("#agree")
        _go(page, "#consent")
        assert page.url.endswith("/card")
        _shot(page, "3-card")
        _go(page, "#begin")
        assert "Chat with Partner A" in page.content()
        _send(page, 'Hi <script>window.__xss = 1</script><img src=x onerror="alert(1)">')
        _shot(page, "4-chat")
        link = page.url

        server.kill()  # mid-visit, mid-conversation
        server.start()
        page.goto(link)  # the participant comes back with their link
        assert page.locator(".msg").count() == 3  # agent, participant, agent
        _send(page, "I'd rather not, thanks.")
        assert "/survey/0" in page.url
        _shot(page, "5-questions")
        _answer(page, "0.25", 4, "<b>bold</b> <script>window.__xss = 2</script>")
        assert "Chat with Partner B" in page.content()
        _send(page, "Tell me more.")
        _send(page, "Maybe a little.")
        _answer(page, "1.00", 2, "")
        assert page.is_visible("#done")
        _shot(page, "6-done")
        assert page.evaluate("window.__xss") is None and alerts == []
        page.goto(server.url + "/admin")
        page.fill("#token", ADMIN)
        _go(page, "#login")
        assert page.is_visible("#progress")
        _shot(page, "7-admin")
        # the token percent-encoded, double-encoded or between doubled slashes (the router serves
        # some of these as the participant's page): the log must never show it
        import httpx

        token = re.search(r"/p/([A-Za-z0-9_-]{20,})", link)[1]
        for path in (
            f"/%70/{token}",
            f"/p%2F{token}/card",
            f"/p/%{ord(token[0]):02X}{token[1:]}/card",
            f"/%2570/{token}",
            f"//p//{token}/card",
        ):
            httpx.get(server.url + path, timeout=30)
    finally:
        server.kill()
    store = StudyStore(tmp_path / "study.sqlite")
    assert store.counts() == {"participants": 1, "conversations": 2, "messages": 8, "answers": 2}
    texts = [m.text for pos in range(2) for m in store.messages(0, pos) if m.role == "user"]
    assert texts[0].startswith("Hi <script>") and texts[1:] == [
        "I'd rather not, thanks.",
        "Tell me more.",
        "Maybe a little.",
    ]
    answers = store.answers()
    assert [a["outcome"] for a in answers] == [0.25, 1.0]
    assert answers[0]["comment"].startswith("<b>bold</b>")
    assert answers[1]["ratings"] == {"persuasive": 2, "natural": 2, "again": 2}
    log = (tmp_path / "study.log").read_text()
    assert "/p/<redacted>" in log and ADMIN not in log
    token = re.search(r"/p/([A-Za-z0-9_-]{20,})", link)[1]
    assert token not in log and token[1:] not in log


def _participant(url: str, index: int, n_agents: int, turns: int) -> list[str]:
    """One simulated participant over HTTP: join, consent, every conversation (each message
    sent twice at once, as a double click would), the questions. Returns the texts it sent."""
    import httpx

    sent = []
    with httpx.Client(base_url=url, timeout=60, follow_redirects=True) as c:
        page = c.get("/")
        r = c.post("/join", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page.text)[1]})
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)[1]
        token = re.search(r"/p/([^/]+)/consent", str(r.url))[1]
        c.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
        for pos in range(n_agents):
            for k in range(turns):
                html = c.get(f"/p/{token}/chat/{pos}").text
                seen = re.search(r'name="seen" value="(\d+)"', html)[1]
                text = f"participant {index} partner {pos} message {k}"
                form = {"csrf": csrf, "seen": seen, "text": text}
                with ThreadPoolExecutor(2) as twice:
                    for f in [twice.submit(c.post, f"/p/{token}/chat/{pos}", data=form)] * 2:
                        f.result()
                sent.append(text)
            r = c.post(
                f"/p/{token}/survey/{pos}",
                data={
                    "csrf": csrf,
                    "outcome": str(index % 3 * 0.5),
                    "rating_persuasive": "3",
                    "rating_natural": "4",
                    "rating_again": "5",
                },
            )
            assert r.status_code == 200
        assert "finished the study" in c.get(f"/p/{token}").text
    return sent


def test_thirty_participants_at_once_each_message_stored_once(tmp_path):
    pytest.importorskip("httpx")
    n, agents, turns = 30, 2, 3
    server = Server(tmp_path / "load.sqlite", "Persuasion-v0", "scripted,random", turns).start()
    try:
        with ThreadPoolExecutor(n) as pool:  # bounded: every request times out after 60 s
            futures = [pool.submit(_participant, server.url, i, agents, turns) for i in range(n)]
            sent = [t for f in futures for t in f.result(timeout=600)]
    finally:
        server.kill()
    store = StudyStore(tmp_path / "load.sqlite")
    stored = Counter(
        m.text
        for p in store.participants()
        for pos in range(agents)
        for m in store.messages(p.id, pos)
        if m.role == "user"
    )
    assert len(sent) == n * agents * turns and set(stored) == set(sent)
    assert set(stored.values()) == {1}  # every message exactly once
    assert store.counts() == {
        "participants": n,
        "conversations": n * agents,
        "messages": 2 * n * agents * turns,
        "answers": n * agents,
    }
    orders = Counter(tuple(p.order) for p in store.participants())
    assert orders == {(0, 1): n // 2, (1, 0): n // 2}  # the Latin square's rows in turn


def test_a_thousand_character_word_stays_inside_its_bubble(tmp_path, browser):
    server = Server(tmp_path / "study.sqlite", "Persuasion-v0", "scripted", 2).start()
    try:
        page = browser.new_page(viewport={"width": 800, "height": 900})
        page.goto(server.url + "/")
        _go(page, "#start")
        page.check("#agree")
        _go(page, "#consent")
        _go(page, "#begin")
        _send(page, "x" * 1000)
        shot = Path(SHOTS or tmp_path) / "long-word.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 0
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('.msg.user')].map(m => {
                const r = m.getBoundingClientRect();
                return [m.scrollWidth, m.clientWidth, r.right];
            })"""
        )
        assert sizes, "the participant's message is on the page"
        for scroll, client, right in sizes:
            assert scroll <= client and right <= page.viewport_size["width"], sizes
        assert page.evaluate("document.documentElement.scrollWidth") <= 800  # no sideways scroll
    finally:
        server.kill()
