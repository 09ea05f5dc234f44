"""Chat backends against a local fake endpoint and a tiny local model: retries, cache, parsing."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import pickle
import sqlite3

import pytest
from tiny_lm import play, save_tiny

from dialogue_gym.llm import (
    BackendError,
    CachedBackend,
    ParseFailure,
    SamplingParams,
    ask_json,
    extract_json,
    make_backend,
    number_field,
)
from dialogue_gym.llm.fake_server import FakeChatServer, Fault
from dialogue_gym.llm.openai_backend import OpenAIBackend
from dialogue_gym.llm.retry import RetryPolicy

MSG = [{"role": "user", "content": "hello"}]
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.5)


@pytest.fixture
def server():
    with FakeChatServer() as s:
        yield s


def _backend(server, timeout=5.0, retry=FAST):
    return OpenAIBackend("fake-model", base_url=server.url, timeout=timeout, retry=retry)


def test_plain_completion(server):
    r = _backend(server).chat(MSG, SamplingParams(temperature=0.2, max_tokens=20), seed=7)
    assert r.text == "You said: hello" and r.finish_reason == "stop" and not r.cached
    body = server.bodies[-1]
    assert body["seed"] == 7 and body["max_tokens"] == 20 and body["model"] == "fake-model"


def test_retries_on_429_and_5xx_then_succeed(server):
    server.inject(
        Fault("status", 429, retry_after=0.05), Fault("status", 500), Fault("status", 502)
    )
    b = _backend(server)
    assert b.chat(MSG).text == "You said: hello"
    assert server.requests == 4 and b.retries == 3


def test_retries_stop_and_raise(server):
    server.inject(*[Fault("status", 503)] * 10)
    with pytest.raises(BackendError, match="gave up after 3 retries"):
        _backend(server).chat(MSG)
    assert server.requests == 4  # one try + 3 retries, nothing stacked from the SDK


def test_no_retry_on_client_errors(server):
    server.inject(Fault("status", 400))
    with pytest.raises(BackendError, match="BadRequest"):
        _backend(server).chat(MSG)
    assert server.requests == 1


def test_timeout_and_malformed_body_are_retried(server):
    server.inject(Fault("slow", delay=2.0), Fault("malformed"))
    b = _backend(server, timeout=0.5)
    assert b.chat(MSG).text == "You said: hello"
    assert server.requests == 3


def test_async_chat(server):
    server.inject(Fault("status", 500))
    b = _backend(server)

    async def many():
        return await asyncio.gather(
            *(b.achat([{"role": "user", "content": str(i)}]) for i in range(5))
        )

    out = asyncio.run(many())
    assert [r.text for r in out] == [f"You said: {i}" for i in range(5)]


def test_api_key_only_from_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="set OPENAI_API_KEY"):
        OpenAIBackend("gpt-4o-mini")


def test_cache_makes_a_second_run_free_and_never_stores_the_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-should-not-leak")
    b = make_backend(f"{server.url}#fake", cache_dir=tmp_path)
    first = [b.chat([{"role": "user", "content": f"q{i}"}], seed=i).text for i in range(5)]
    n = server.requests
    again = [b.chat([{"role": "user", "content": f"q{i}"}], seed=i) for i in range(5)]
    assert server.requests == n == 5
    assert [r.text for r in again] == first and all(r.cached for r in again)
    b.chat([{"role": "user", "content": "q0"}], seed=99)  # another seed is another request
    assert server.requests == 6
    assert b"sk-secret" not in (tmp_path / "completions.sqlite").read_bytes()


def test_cut_answers_are_cached_as_cut_errors_and_rejected_answers_are_not(server, tmp_path):
    b = CachedBackend(_backend(server), tmp_path)
    server.inject(Fault("truncated", text="I might give a little, but"))
    first = b.chat(MSG)
    again = b.chat(MSG)  # a cut reply that a run used replays, still marked as cut
    assert first.truncated and again.truncated and again.cached and again.text == first.text
    assert server.requests == 1
    server.inject(*[Fault("status", 500)] * 5)
    with pytest.raises(BackendError):
        b.chat([{"role": "user", "content": "boom"}])
    server.faults.clear()
    assert b.chat([{"role": "user", "content": "boom"}]).text == "You said: boom"
    # an answer ask_json rejects is removed: only the accepted one stays
    replies = iter(['{"donation": "a lot"}', '{"donation": 1}', '{"donation": 2}'])
    with FakeChatServer(lambda body: next(replies)) as s:
        b = CachedBackend(_backend(s), tmp_path / "c2")
        assert ask_json(b, MSG, number_field("donation", 0, 2), seed=1)[:2] == (1.0, 2)
        rows = (
            sqlite3.connect(tmp_path / "c2" / "completions.sqlite")
            .execute("SELECT text FROM completions")
            .fetchall()
        )
        assert rows == [('{"donation": 1}',)]
        assert ask_json(b, MSG, number_field("donation", 0, 2), seed=1)[:2] == (2.0, 1)
        assert s.requests == 3  # the rejected first attempt was asked again


def _hammer(args):
    url, cache_dir, worker = args
    b = make_backend(f"{url}#fake", cache_dir=cache_dir)
    return [b.chat([{"role": "user", "content": f"shared {i}"}], seed=i).text for i in range(30)]


@pytest.mark.slow
def test_concurrent_processes_share_one_cache(server, tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        outs = pool.map(_hammer, [(server.url, str(tmp_path), w) for w in range(4)])
    assert all(o == outs[0] for o in outs)
    assert outs[0] == [f"You said: shared {i}" for i in range(30)]
    conn = sqlite3.connect(tmp_path / "completions.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 30
    assert server.requests < 4 * 30  # the processes served each other from the cache


def test_backend_specs():
    with pytest.raises(ValueError, match="forms:"):
        make_backend("gpt4")
    with pytest.raises(ValueError, match="#MODEL"):
        make_backend("http://127.0.0.1:1/v1")
    b = make_backend("http://127.0.0.1:1/v1#m", cache=False)
    assert b.describe() == {"kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}


def test_a_backend_travels_to_other_processes_as_its_spec(server, tmp_path):
    """Pickled as the spec it was built from (each Ray worker opens its own connection); one
    built by hand is refused with a message that says how to build it."""
    b = make_backend(f"{server.url}#fake-model", cache_dir=tmp_path)
    copy = pickle.loads(pickle.dumps(b))
    assert copy is not b and copy.describe() == b.describe()
    assert copy.chat(MSG, SamplingParams(max_tokens=5)).text == "You said: hello"
    with pytest.raises(TypeError, match="build it from a spec string"):
        pickle.dumps(_backend(server))


def test_extract_json_and_validators():
    assert extract_json('Sure! {"donation": 1.5} thanks') == {"donation": 1.5}
    assert extract_json('x {"a": "}"} y') == {"a": "}"}
    with pytest.raises(ValueError):
        extract_json("no json here")
    v = number_field("donation", 0, 2)
    assert (
        v({"donation": 500}) == 2 and v({"donation": "$0.50"}) == 0.5 and v({"donation": -1}) == 0
    )
    with pytest.raises(ValueError, match="must be a number"):
        v({"donation": "lots"})


def test_ask_json_reasks_then_fails_with_the_raw_text():
    replies = iter(['{"donation": "a lot"}', "I give one dollar", '{"donation": 1}'])
    with FakeChatServer(lambda body: next(replies)) as s:
        b = _backend(s)
        value, attempts, raw = ask_json(b, MSG, number_field("donation", 0, 2), seed=1)
        assert (value, attempts, raw) == (1.0, 3, '{"donation": 1}')
        assert "could not be used" in s.bodies[-1]["messages"][-1]["content"]
    with FakeChatServer(lambda body: "no idea") as s:
        with pytest.raises(ParseFailure) as e:
            ask_json(_backend(s), MSG, number_field("donation", 0, 2), max_attempts=2)
        assert e.value.raw == "no idea" and e.value.attempts == 2


def test_transformers_backend_with_a_tiny_model():
    from tiny_lm import tiny_model, tiny_tokenizer

    from dialogue_gym.llm.transformers_backend import TransformersBackend

    tok = tiny_tokenizer()
    b = TransformersBackend(tiny_model(tok), tok, name="tiny-test")
    params = SamplingParams(temperature=1.0, max_tokens=8)
    a1 = b.chat(MSG, params, seed=3)
    a2 = b.chat(MSG, params, seed=3)
    assert a1.text == a2.text and a1.finish_reason in ("stop", "length")
    greedy = b.chat(MSG, SamplingParams(temperature=0.0, max_tokens=5))
    assert isinstance(greedy.text, str)
    assert b.describe() == {"kind": "transformers", "model": "tiny-test"}


def test_schema_regex_accepts_exactly_the_numbers_in_range():
    import regex

    from dialogue_gym.llm.constrained import number_schema, schema_regex

    pattern = regex.compile(schema_regex(number_schema("reduction", -4, 4)))
    for ok in (
        '{"reduction": 1.5}',
        '{"reduction":-4}',
        ' { "reduction" : -0.25 }',
        '{"reduction": 4.0}',
    ):
        assert pattern.fullmatch(ok), ok
    for bad in (
        '{"reduction": 4.5}',
        '{"reduction": -5}',
        '{"reduction": "2"}',
        '{"x": 1}',
        '```json {"reduction": 1}',
        '{"reduction": 1, "why": "x"}',
    ):
        assert not pattern.fullmatch(bad), bad
    assert pattern.fullmatch('{"reduction": -3.', partial=True)  # a prefix of a valid answer
    untranslated = {"type": "object", "properties": {"n": {"type": "number"}}}  # no bounds
    assert schema_regex(untranslated) is None
    assert schema_regex(number_schema("x", 0, 2.5)) is None  # not translated: decoded freely


def test_structured_schemas_constrain_strings_enums_and_lists():
    """The hindsight controller's and forward model's answers, and the processor's shortcut
    inside a free string (every plain token allowed, a quote only where it closes validly)."""
    import regex
    from tiny_lm import tiny_bpe_tokenizer

    from dialogue_gym.hindsight.llm import CONTINUATION, continuation_schema
    from dialogue_gym.llm.constrained import RegexLogitsProcessor, TokenTable, schema_regex

    cont = regex.compile(schema_regex(CONTINUATION))
    assert cont.fullmatch('{"turns": [{"role": "user", "text": "Oh, \\"fine\\"."}]}')
    for bad in (
        '{"turns": []}',
        '{"turns": [{"role": "bot", "text": "x"}]}',
        '{"turns": [{"text": "x", "role": "user"}]}',
    ):
        assert not cont.fullmatch(bad), bad
    tok = tiny_bpe_tokenizer()
    table = TokenTable(tok)
    proc = RegexLogitsProcessor(table, schema_regex(CONTINUATION), 0)
    inside = proc.allowed('{"turns": [{"role": "user", "text": "I see')
    assert set(table.plain) <= set(inside) and not set(table.eos) & set(inside)
    quotes = {i for i in inside if '"' in table.texts[i]}  # a quote may only close the string
    reopen = {i for i in table.other if regex.search(r'"\s*[A-Za-z:]', table.texts[i])}
    assert quotes and reopen and not quotes & reopen
    done = '{"turns": [{"role": "user", "text": "I see"}]}'
    one = '{"role": "user", "text": "a"}'
    bounded = regex.compile(schema_regex(continuation_schema(2)))  # at most 2 turns
    assert bounded.fullmatch(f'{{"turns": [{one}, {one}]}}')
    assert not bounded.fullmatch(f'{{"turns": [{one}, {one}, {one}]}}')
    assert proc.allowed(done) == sorted(table.eos)  # a complete answer may only end


def test_constrained_decoding_makes_a_random_model_answer_in_range():
    """A tiny model with random weights never writes the JSON by itself; under the schema every
    sampled answer is valid at the first attempt, and the answers differ."""
    from tiny_lm import tiny_bpe_tokenizer, tiny_model

    from dialogue_gym.llm.constrained import number_schema
    from dialogue_gym.llm.transformers_backend import TransformersBackend

    tok = tiny_bpe_tokenizer()
    b = TransformersBackend(tiny_model(tok), tok, name="tiny-bpe")
    params = SamplingParams(temperature=1.0, max_tokens=24)
    validate = number_field("donation", 0, 2)
    values = [
        ask_json(
            b, MSG, validate, params, seed=s, max_attempts=1, schema=number_schema("donation", 0, 2)
        )
        for s in range(12)
    ]
    assert all(attempts == 1 and 0 <= v <= 2 for v, attempts, _ in values)
    assert len({v for v, _, _ in values}) >= 3
    free = 0
    for s in range(12):
        try:
            ask_json(b, MSG, validate, params, seed=s, max_attempts=1)
            free += 1
        except ParseFailure:
            pass
    assert free <= 2


def test_endpoint_gets_the_schema_and_falls_back_when_refused():
    from dialogue_gym.llm.constrained import number_schema

    schema = number_schema("donation", 0, 2)
    validate = number_field("donation", 0, 2)
    with FakeChatServer(lambda body: '{"donation": 1}') as s:
        b = _backend(s)
        assert ask_json(b, MSG, validate, seed=1, schema=schema)[0] == 1.0
        sent = s.bodies[-1]["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == schema
        assert b.schema_supported is True
    with FakeChatServer(lambda body: '{"donation": 2}') as s:
        s.inject(Fault("status", 400))  # refuses OpenAI's form: llama-cpp-python's form next
        b = _backend(s)
        assert ask_json(b, MSG, validate, seed=1, schema=schema)[0] == 2.0
        assert s.bodies[1]["response_format"] == {"type": "json_object", "schema": schema}
        ask_json(b, MSG, validate, seed=2, schema=schema)
        assert s.bodies[2]["response_format"]["type"] == "json_object" and b.schema_supported
    with FakeChatServer(lambda body: '{"donation": 2}') as s:
        s.inject(Fault("status", 400), Fault("status", 422))  # knows no response_format
        b = _backend(s)
        assert ask_json(b, MSG, validate, seed=1, schema=schema)[0] == 2.0
        assert "response_format" not in s.bodies[2] and b.schema_supported is False
        ask_json(b, MSG, validate, seed=2, schema=schema)
        assert s.requests == 4 and "response_format" not in s.bodies[3]  # not sent again
        assert asyncio.run(b.achat(MSG, SamplingParams(json_schema=schema))).text


def test_requests_without_a_schema_keep_their_cache_keys():
    import hashlib
    import json

    from dialogue_gym.llm.cache import cache_key

    params = SamplingParams(temperature=0.0, max_tokens=40)
    old = {"temperature": 0.0, "max_tokens": 40, "top_p": 1.0, "stop": []}
    blob = json.dumps(
        {"backend": {"kind": "x"}, "messages": MSG, "params": old, "seed": 3},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert cache_key({"kind": "x"}, MSG, params, 3) == hashlib.sha256(blob.encode()).hexdigest()
    with_schema = SamplingParams(temperature=0.0, max_tokens=40, json_schema={"type": "object"})
    assert cache_key({"kind": "x"}, MSG, with_schema, 3) != cache_key({"kind": "x"}, MSG, params, 3)


def test_lm_agent_by_name_and_path_plays_an_episode(tmp_path):

    from dialogue_gym.agents.registry import make_agent

    save_tiny(tmp_path / "tiny")
    agent = make_agent(f"lm:path={tmp_path / 'tiny'},max_tokens=6", "persuasion")
    r = play(agent, 2, max_turns=2)
    again = play(agent, 2, max_turns=2)
    assert all(e.status == "ok" and e.turns == 2 for e in r.episodes)
    assert [e.messages for e in r.episodes] == [e.messages for e in again.episodes]
