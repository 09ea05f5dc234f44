"""Behaviour-data regimes: the corpus-mix behaviour policy, real dialogues as data, coverage."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import dialogue_gym  # noqa: F401
from dialogue_gym.agents.corpus_mix import CorpusMixAgent, strategy_mix
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.benchmark.over_regimes import default_regimes, parse_regimes
from dialogue_gym.benchmark.regimes import (
    REGIMES,
    check_regime,
    coverage,
    joined_turns,
    real_episodes,
)
from dialogue_gym.benchmark.report import coverage_text
from dialogue_gym.episode import Episode, Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.rollout import play_episodes
from dialogue_gym.simulators.strategies import get_domain


@pytest.mark.parametrize("domain", ["persuasion", "counseling"])
def test_corpus_mix_draws_each_turns_strategy_with_the_corpus_share(domain):
    names, shares = strategy_mix(domain)
    assert names == get_domain(domain).strategies and shares.shape == (10, len(names))
    assert np.allclose(shares.sum(1), 1, atol=1e-3)
    agent = CorpusMixAgent(domain, seed=0)
    for turn in (0, 4, 15):  # turns past the table draw from its last row
        drawn = [agent.draw(turn) for _ in range(4000)]
        freq = np.array([drawn.count(n) for n in names]) / len(drawn)
        row = shares[min(turn, 9)] / shares[min(turn, 9)].sum()
        assert np.abs(freq - row).max() < 0.03, (turn, freq, row)
        assert all(freq[row == 0] == 0)  # a move people never make there is never drawn
    assert not np.allclose(shares[0], shares[4])  # openings differ from the middle


def test_corpus_mix_draws_for_the_turn_the_conversation_is_at():
    agent, turns = CorpusMixAgent("counseling", seed=0), []
    agent.draw = lambda t: turns.append(t) or "Question"
    for n in (0, 3, 12):
        agent.act(
            "",
            {
                "messages": [
                    {"role": "assistant", "content": "x"},
                    {"role": "user", "content": "y"},
                ]
                * n
            },
        )
    assert turns == [0, 3, 12]


def test_corpus_mix_plays_reproducible_episodes_and_is_registered():
    env = gym.make("Persuasion-v0")
    agent = make_agent("corpus-mix", "persuasion")
    a = [e.messages for e in play_episodes(env, agent, range(3))]
    b = [e.messages for e in play_episodes(env, agent, range(3))]
    assert a == b and all(len(m) >= 2 for m in a)


def _episode(texts: list[str]) -> Episode:
    turns = [Turn(role, t) for text in texts for role, t in (("assistant", text), ("user", "ok"))]
    return Episode(id="x", env_id="Persuasion-v0", turns=turns, reward=0.0)


def test_coverage_counts_the_cells_a_dataset_shows():
    one = "Would you like to donate some of your payment to Save the Children?"
    c = coverage([_episode([one] * 12)] * 5, "persuasion")
    n = len(get_domain("persuasion").strategies)
    assert c["agent_turns"] == 60 and c["entropy_nats"] == 0.0
    assert c["cells_seen"] == pytest.approx(1 / n)  # one strategy at every turn
    assert c["cells_supported"] == pytest.approx(1 / n)  # 5 uses per turn, 15 at the last
    env = gym.make("Persuasion-v0")
    varied = coverage(
        list(play_episodes(env, make_agent("random", "persuasion"), range(40))), "persuasion"
    )
    assert varied["cells_seen"] > 0.8 and varied["entropy_nats"] > 0.9 * varied["max_entropy_nats"]
    with pytest.raises(InvalidInput, match="no agent turns"):
        coverage([], "persuasion")


def test_turns_of_one_speaker_are_joined_and_regimes_are_checked():
    turns = [Turn("assistant", "Hi.", ["Others"]), Turn("assistant", "How are you?", ["Question"])]
    turns += [Turn("user", "  Sad."), Turn("user", " "), Turn("user", "Very.\n")]
    joined = joined_turns(turns)
    assert [(t.role, t.text) for t in joined] == [
        ("assistant", "Hi. How are you?"),
        ("user", "Sad. Very."),
    ]
    assert joined[0].strategies == ["Others", "Question"]
    assert check_regime("narrow") == "narrow"
    with pytest.raises(InvalidInput, match="allowed: human-like, narrow, real"):
        check_regime("expert")


def test_real_regime_is_the_train_dialogues_with_their_outcomes(shared_data):
    p4g = real_episodes("Persuasion-v0", shared_data)
    assert len(p4g) == 817 and all(0 <= e.reward <= 2 for e in p4g)
    esconv = real_episodes("Counseling-v0", shared_data)
    assert len(esconv) > 500 and all(e.reward is not None for e in esconv)
    for e in (*p4g[:50], *esconv[:50]):  # the roles alternate, as in the envs
        roles = [t.role for t in e.turns]
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))


def test_the_benchmark_runs_over_regimes_and_learns_from_the_narrow_one(tmp_path):
    from tiny_benchmark import tiny

    from dialogue_gym.benchmark.over_regimes import run_regimes

    cfg = tiny(envs=("Persuasion-v0",), ablations=False)
    results, md = run_regimes(cfg, ("human-like", "narrow"), tmp_path, log=lambda m: None)
    behaviour = (tmp_path / "narrow" / "Persuasion-v0" / "behaviour-seed0.jsonl").read_text()
    assert (
        '"corpus-mix"' in behaviour
        and '"regime": "narrow"' in (tmp_path / "narrow" / "benchmark.md").read_text()
    )
    assert (
        '"human-like"'
        in (tmp_path / "human-like" / "Persuasion-v0" / "behaviour-seed0.jsonl").read_text()
    )
    rows = {row["method"]: row for row in results["narrow"][0]["rows"]}
    assert len(rows["cql"]["run_means"]) == 2 and len(rows["cql+hindsight"]["run_means"]) == 2
    # the page over the regimes: a lead line and a row each, with the data's coverage, which
    # says the narrow data show fewer (turn, strategy) cells than the human-like data
    assert md == (tmp_path / "benchmark.md").read_text()
    assert "(human-like data)" in md and "(narrow data)" in md
    summary = json.loads((tmp_path / "regimes.json").read_text())
    cover = {r: s[0]["coverage"] for r, s in summary.items()}
    assert cover["narrow"]["entropy_nats"] < cover["human-like"]["entropy_nats"]
    for regime, s in summary.items():
        assert f"| {regime} | Persuasion-v0 | {coverage_text(s[0]['coverage'])} |" in md
        assert s[0]["cql"] == pytest.approx(
            next(r["mean_return"] for r in results[regime][0]["rows"] if r["method"] == "cql")
        )
    with pytest.raises(InvalidInput, match="allowed: human-like, narrow, real"):
        run_regimes(cfg, ("human-like", "expert"), tmp_path / "bad", log=lambda m: None)
    assert not (tmp_path / "bad" / "human-like").exists()  # checked before any run


def test_regimes_are_parsed_and_the_default_runs_those_that_matter():
    assert parse_regimes("narrow, real") == ("narrow", "real") and parse_regimes("all") == REGIMES
    for bad, match in (("", "wants names"), ("narrow,narrow", "twice"), ("expert", "allowed")):
        with pytest.raises(InvalidInput, match=match):
            parse_regimes(bad)
    assert default_regimes(quick=True, corpora_found=True) == (("human-like",), None)
    assert default_regimes(False, True) == (("human-like", "narrow", "real"), None)
    regimes, note = default_regimes(False, False)
    assert regimes == ("human-like", "narrow") and "corpora were not found" in note


def test_the_regimes_of_a_benchmark_come_from_its_flags(tmp_path):
    from dialogue_gym.cli import build_parser
    from dialogue_gym.commands.benchmark import regimes_of

    parse = build_parser().parse_args
    empty = ["--data", str(tmp_path)]  # no corpora there
    assert regimes_of(parse(["benchmark", "--quick"]))[0] == ("human-like",)
    assert regimes_of(parse(["benchmark", *empty]))[0] == ("human-like", "narrow")
    assert regimes_of(parse(["benchmark", "--regime", "narrow"]))[0] == ("narrow",)
    assert regimes_of(parse(["benchmark", "--quick", "--regimes", "all"]))[0] == REGIMES
    with pytest.raises(InvalidInput, match="not both"):
        regimes_of(parse(["benchmark", "--regime", "narrow", "--regimes", "real"]))


def test_the_narrow_and_real_configs_make_the_rows_they_can():
    from tiny_benchmark import tiny

    with pytest.raises(InvalidInput, match="real regime needs the corpora"):
        tiny(regime="real", ablations=False)
    # real people: the ablations that need no simulator (a second round, the relabellings),
    # none that needs the simulator's dynamics or the true env
    real = tiny(regime="real", data_dir="/data", ablations=True)
    assert real.pipelines() == ("learned",)
    assert real.relabellings() == ("learned2", "penalized", "anchored", "imagination")
    assert {"cql+hindsight(anchored)", "cql+hindsight(2 rounds)"} <= set(real.offline_methods())
    assert not {"cql+hindsight(privileged)", "cql+hindsight(oracle-fwd)"} & set(
        real.offline_methods()
    )
    assert "cql+hindsight(oracle-fwd)" in tiny(regime="narrow").offline_methods()


def test_the_benchmark_learns_from_real_dialogues(shared_data, tmp_path):
    from tiny_benchmark import tiny

    from dialogue_gym.benchmark import run_benchmark

    real = dict(regime="real", data_dir=str(shared_data), ablations=False, dataset_episodes=30)
    cfg = tiny(envs=("Persuasion-v0",), **real)
    results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    data = results[0]["datasets"]
    assert [d["episodes"] for d in data] == [30]  # one corpus: the same data for every run
    assert "here one dataset for all runs" in md and not cfg.resample_data
    rows = {row["method"]: row for row in results[0]["rows"]}
    assert len(rows["cql"]["run_means"]) == 2  # two training runs on it
    assert data[0]["imagination_gap"]["learned"] == {"n": 0}  # no true env for real people
    from dialogue_gym.jsonl import read_episodes

    kept, _ = read_episodes(tmp_path / "Persuasion-v0" / "behaviour-seed0.jsonl")
    agent_turns = [sum(t.role == "assistant" for t in e.turns) for e in kept]
    assert max(agent_turns) == 10 and all(e.env_kwargs["max_turns"] == 10 for e in kept)
    full = {e.id: e for e in real_episodes("Persuasion-v0", shared_data)}
    cut = [e for e in kept if sum(t.role == "assistant" for t in full[e.id].turns) > 10]
    assert cut and all(e.turns[-1].role == "user" for e in cut)  # the reply to the 10th is kept
    assert all(e.turns == full[e.id].turns[: len(e.turns)] for e in cut)
    assert "cql+hindsight" in rows
