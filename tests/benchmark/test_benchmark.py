"""The benchmark run end to end at a reduced size: every row, the added agent's Holm family, the
imagination gap, the LLM pair and the sweep."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from tiny_benchmark import tiny

import dialogue_gym
from dialogue_gym.benchmark import HEADLINE_METHOD, BenchmarkConfig, run_benchmark
from dialogue_gym.benchmark.add import add_agents
from dialogue_gym.benchmark.compare import compare_runs
from dialogue_gym.benchmark.config import ABLATION_METHODS, EVAL_SEED
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.fake_server import FakeChatServer


def _is_holm_family(tests: list[dict]) -> bool:
    """Each adjusted p is Holm's over exactly this family: the k-th smallest p times (m - k),
    made monotone and capped at 1 (written out here, apart from ``stats.holm``)."""
    ps = sorted((t["p"], i) for i, t in enumerate(tests))
    expected, running = {}, 0.0
    for k, (p, i) in enumerate(ps):
        running = max(running, min(1.0, (len(ps) - k) * p))
        expected[i] = running
    return all(abs(t["p_holm"] - expected[i]) < 1e-12 for i, t in enumerate(tests))


def _llm_pair_responder(body: dict) -> str:
    """A fake chat model for the hindsight LLM pair: a fixed continuation and judgement."""
    last = body["messages"][-1]["content"]
    if "Continue this conversation" in last:
        return json.dumps(
            {
                "turns": [
                    {"role": "user", "text": "I guess that helps a little."},
                    {"role": "agent", "text": "What would help most now?"},
                    {"role": "user", "text": "Talking, I think."},
                ]
            }
        )
    return '{"reduction": 1.5}'


def test_llm_pair_records_unusable_answers(tmp_path):
    from dialogue_gym.benchmark import llm_pair
    from dialogue_gym.hindsight import CriticController

    path = tmp_path / "c.jsonl"
    generate("Counseling-v0", "human-like", 60, path, progress=False)
    episodes = read_episodes(path)[0]
    cfg = BenchmarkConfig(encoder="hash:512", llm_episodes=2)
    with FakeChatServer(lambda body: "I cannot answer in JSON.") as server:
        cfg.llm = f"{server.url}#fake"
        regen, errors = llm_pair(episodes, cfg, CriticController(episodes, "hash:512"))
    assert regen == [] and len(errors) == 2
    assert all(e.startswith("ParseFailure: ") for e in errors)


@pytest.mark.slow
def test_benchmark_quick_path_reduced(tmp_path, monkeypatch):
    from dialogue_gym.agents.learned import LearnedAgent
    from dialogue_gym.agents.sb3 import SB3Agent

    seen: list[bool] = []  # did a learned agent ever get the hidden persona?
    for cls in (LearnedAgent, SB3Agent):
        original = cls.act
        monkeypatch.setattr(
            cls,
            "act",
            lambda self, o, info, f=original: (seen.append("privileged" in info), f(self, o, info))[
                1
            ],
        )
    # a user's own agent, by file path, that records whether it was ever given the hidden persona
    mine = tmp_path / "mine.py"
    mine.write_text(
        "from dialogue_gym.agents.base import Agent\n"
        "SEEN = []\n"
        "class Mine(Agent):\n"
        "    name = 'mine'\n"
        "    def __init__(self, domain):\n"
        "        self.domain = domain\n"
        "    def act(self, observation, info):\n"
        "        SEEN.append('privileged' in info)\n"
        "        return 'That sounds really hard. How are you feeling about it?'\n"
    )
    with FakeChatServer(_llm_pair_responder) as server:  # the LLM forward/reward pair
        sizes = dict(dataset_episodes=80, eval_episodes=15, offline_steps=60, ppo_steps=256)
        cfg = tiny(
            **sizes,
            model_based_samples=2,
            added_agents=(f"{mine}:Mine",),
            sweep_sizes=(40,),
            llm=f"{server.url}#fake",
            llm_episodes=3,
        )
        results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    assert seen and not any(seen)
    import sys

    user_module = next(m for n, m in sys.modules.items() if n.startswith("dialogue_gym_user_mine"))
    assert user_module.SEEN and not any(user_module.SEEN)
    rows = {r["method"]: r for r in results[0]["rows"]}
    assert rows["mine"]["added"] and rows["mine"]["n_episodes"] == 15
    added_tests = results[0]["added_tests"]["mine"]
    assert {t["versus"] for t in added_tests} == set(rows) - {"mine"}
    assert _is_holm_family(added_tests) and "| mine (added) vs |" in md
    assert {
        "random",
        "oracle",
        "model-based",
        "bc",
        "filtered-bc",
        "cql",
        HEADLINE_METHOD,
        "ppo",
        "cql+hindsight(oracle-fwd)",
        "cql+hindsight(privileged)",
        "cql+hindsight(2 rounds)",
        "cql+hindsight(penalized)",
        "cql+hindsight(anchored)",
        "cql+hindsight(ensembles)",
    } <= set(rows)
    bc = rows["bc"]
    assert bc["n_episodes"] == 30 and len(bc["run_means"]) == 2 and bc["n_runs"] == 2
    assert bc["ci95"][0] <= bc["mean_return"] <= bc["ci95"][1]
    rand, orc = rows["random"]["mean_return"], rows["oracle"]["mean_return"]
    expected = (bc["mean_return"] - rand) / (orc - rand)  # bc's place between random and oracle
    assert bc["normalized_score"] == pytest.approx(expected, abs=1e-9)
    assert bc["env_episodes"] == 80 and rows["ppo"]["env_episodes"] > 0
    # a fresh behaviour dataset per training seed; the ablation pays for every true-env episode
    data = results[0]["datasets"]
    assert [d["data_seed"] for d in data] == [0, 80]
    oracle_cost = np.mean([80 + d["oracle_env_episodes"] for d in data])
    assert rows["cql+hindsight(oracle-fwd)"]["env_episodes"] == int(oracle_cost)
    assert all(d["oracle_env_episodes"] == 2 * d["regenerated"]["true-env"] for d in data)
    gap = data[0]["imagination_gap"]["learned"]
    assert gap["n"] == data[0]["regenerated"]["learned"] and "true_mean" in gap
    pooled = results[0]["imagination_gap"]
    assert set(pooled) == {
        "learned",
        "learned (penalized)",
        "learned (anchored)",
        "learned (forward + reward ensembles)",
        "round 2",
        "privileged",
        "true-env",
        "llm",
    }
    # the penalized ensemble rescores the learned pipeline's own rewrites: same rewrites, same truth
    penalized = pooled["learned (penalized)"]
    assert penalized["n"] == pooled["learned"]["n"] > 0
    for key in ("true_mean", "truly_improve"):
        assert penalized[key] == pooled["learned"][key]
    assert all(d["penalized_reward"]["penalty"] >= 0 for d in data)
    assert data[0]["penalized_reward"]["penalty_rule"] == "oof-84th-percentile"
    assert "*learned (penalized)*" in md and "| learned (penalized) |" in md
    # anchoring relabels the same rewrites too: same rewrites, same truth
    anchored = pooled["learned (anchored)"]
    assert anchored["n"] == pooled["learned"]["n"]
    assert anchored["true_mean"] == pooled["learned"]["true_mean"]
    assert all(d["anchored_reward"]["draws"] == 4 for d in data)
    assert "*learned (anchored)*" in md and "| learned (anchored) |" in md
    # so does the imagination of both ensembles, with lambda by its own out-of-fold rule
    both = pooled["learned (forward + reward ensembles)"]
    assert (
        both["n"] == pooled["learned"]["n"] and both["true_mean"] == pooled["learned"]["true_mean"]
    )
    assert all(d["imagination_ensembles"]["penalty"] >= 0 for d in data)
    assert data[0]["imagination_ensembles"]["penalty_rule"] == "oof-imagination-84th-percentile"
    assert "*learned (forward + reward ensembles)*" in md
    # every CQL + hindsight row against CQL, one Holm family, and one lead line per env
    variants = [t["method"] for t in results[0]["hindsight_tests"]]
    assert variants == [n for n in rows if n.startswith(HEADLINE_METHOD)] and len(variants) == 7
    assert _is_holm_family(results[0]["hindsight_tests"])
    lead = md.split("\nConfig:")[0]
    assert lead.count("- **") == len(results) and "(human-like data): hindsight " in lead
    assert "| vs cql |" in md
    # the LLM pair: 3 rewrites per run, each judged 1.5 and replayed in the true env
    assert pooled["llm"]["n"] == 6 and pooled["llm"]["imagined_mean"] == 1.5
    assert all(d["llm_errors"] == [] for d in data)
    assert "The llm pair (" in md and "regenerated 6 of the 6 unsuccessful episodes" in md
    if pooled["true-env"]["n"]:
        assert pooled["true-env"]["gap"] == 0.0  # the true env scored its own regenerations
    sweep = results[0]["sweep"]
    assert [w["episodes"] for w in sweep] == [40, 80]
    assert _is_holm_family(sweep)
    tests = results[0]["tests"]
    assert {t["versus"] for t in tests} == set(rows) - {
        HEADLINE_METHOD,
        "mine",
    }  # its own family only
    assert _is_holm_family(tests)
    # what reproduces a row: version, seeds, and the added agent's file by its hash
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    source = saved["provenance"]["added_agents"][0]
    assert source["sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert saved["provenance"]["eval_seeds"] == [EVAL_SEED, EVAL_SEED + 14]
    assert saved["provenance"]["data_seeds"] == [0, 80] and saved["provenance"]["version"]
    assert "behaviour data" in results[0]["stage_seconds"]
    for name in ("benchmark.md", "benchmark.json", "benchmark.png"):
        assert (tmp_path / name).exists()
    assert "| cql+hindsight (learned from the data) |" in md and "p (Holm)" in md
    assert "Imagination gap" in md and "Data-size sweep" in md
    assert "these tests are underpowered for it" in md  # 2 runs x 15 seeds


@pytest.mark.slow
def test_benchmark_can_keep_one_dataset_for_every_seed(tmp_path):
    cfg = tiny(resample_data=False)
    results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    assert [d["data_seed"] for d in results[0]["datasets"]] == [0]
    assert "one dataset for all runs" in md
    with pytest.raises(ValueError, match="below the evaluation seeds"):
        BenchmarkConfig(dataset_episodes=600_000, train_seeds=2)


@pytest.mark.slow
def test_agents_added_to_a_finished_run_leave_every_other_figure_as_it_was(tmp_path):
    cfg = tiny(envs=("Persuasion-v0",), eval_episodes=8)
    results, md = run_benchmark(cfg, tmp_path, log=lambda m: None)
    before = json.loads((tmp_path / "benchmark.json").read_text())
    with pytest.raises(ValueError, match="eval_episodes=8, this command asks eval_episodes=9"):
        add_agents(
            tmp_path, ("scripted:noise=0.5",), tiny(envs=("Persuasion-v0",), eval_episodes=9)
        )
    again, md2 = add_agents(tmp_path, ("scripted:noise=0.5",), cfg, log=lambda m: None)
    rows = {r["method"]: r for r in again[0]["rows"]}
    new = rows["scripted:noise=0.5"]
    assert new["added"] and new["n_episodes"] == 8 and "(added)" in new["label"]
    # the same agent evaluated on its own: the same episodes, so the same mean
    alone = dialogue_gym.evaluate(
        "scripted:noise=0.5", "Persuasion-v0", 8, EVAL_SEED, progress=False, oracle=False
    )
    assert new["mean_return"] == pytest.approx(alone.summary["mean_return"])
    # every old row and test unchanged, and every old line of the table still there, in order
    assert [r for r in again[0]["rows"] if not r["added"]] == before["results"][0]["rows"]
    assert again[0]["tests"] == before["results"][0]["tests"]
    lines = iter(md2.splitlines())  # the config line lists the added agent; the rest stays
    assert all(
        any(old == line for line in lines) for old in md.splitlines() if "Config:" not in old
    )
    assert '"added_agents": ["scripted:noise=0.5"]' in md2
    assert _is_holm_family(again[0]["added_tests"]["scripted:noise=0.5"])
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["config"]["added_agents"] == ["scripted:noise=0.5"]
    report = compare_runs(tmp_path, tmp_path)  # a run against itself: paired, no difference
    assert "the same evaluation seeds: paired tests below" in report
    cql = next(line for line in report.splitlines() if line.startswith("| cql |"))
    assert cql.endswith("| +0.000 [+0.000, +0.000] | 1 | 1 |"), cql
    with pytest.raises(ValueError, match="already has a row"):
        add_agents(tmp_path, ("scripted:noise=0.5",), log=lambda m: None)
    saved["provenance"]["version"] = "0.0.1"
    (tmp_path / "benchmark.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="made with dialogue-gym 0.0.1"):
        add_agents(tmp_path, ("random",), log=lambda m: None)


@pytest.mark.slow
def test_two_processes_write_the_same_tables_as_one(tmp_path):
    cfg = tiny(eval_episodes=6, sweep_sizes=(20,))
    _, one = run_benchmark(cfg, tmp_path / "one", log=lambda m: None)
    _, two = run_benchmark(cfg, tmp_path / "two", log=lambda m: None, workers=2)
    assert one == two
    for name in ("behaviour-seed1.jsonl", "regenerated-learned2-seed1.jsonl"):
        a, b = (read_episodes(tmp_path / run / "Counseling-v0" / name)[0] for run in ("one", "two"))
        assert len(a) == len(b) > 0
        for x, y in zip(a, b, strict=True):  # the same episodes, apart from when they were played
            for t in (*x.turns, *y.turns):
                t.timestamp = 0.0
            assert x.to_dict() == y.to_dict()


def test_without_ablations_the_headline_rows_and_the_learned_gap_remain(tmp_path, capsys):
    results, md = run_benchmark(tiny(ablations=False), tmp_path, log=lambda m: None, progress=True)
    bars = capsys.readouterr().err  # off a terminal: plain lines, each phase's final count
    assert "\r" not in bars and "\x1b" not in bars
    for phase, n in (("baselines, data and hindsight", 5 + 2), ("train and evaluate", 14)):
        assert f"\n{phase}: 100%" in "\n" + bars and f" {n}/{n} " in bars
    r = results[0]
    methods = {row["method"] for row in r["rows"]}
    assert methods.isdisjoint(ABLATION_METHODS)
    assert {"cql", "iql", HEADLINE_METHOD, "iql+hindsight", "ppo", "oracle"} <= methods
    assert set(r["imagination_gap"]) == {"learned"}
    assert all(set(d["regenerated"]) == {"learned"} for d in r["datasets"])
    files = sorted(p.name for p in (tmp_path / "Counseling-v0").glob("regenerated-*"))
    assert files == ["regenerated-learned-seed0.jsonl", "regenerated-learned-seed1.jsonl"]
    assert "leaves out the ablation rows" in md
    assert "(privileged)" not in md.split("## Counseling-v0")[1]


def test_report_says_whether_the_tests_can_detect_a_tenth_of_the_oracle_gap():
    from dialogue_gym.benchmark.report import _power_line

    rows = [{"method": "random", "mean_return": 1.0}, {"method": "oracle", "mean_return": 3.0}]
    tests = [{"versus": "cql", "mde80": 0.15}, {"versus": "ppo", "mde80": 0.3}]
    line = _power_line({"rows": rows, "tests": tests})[1]
    assert "(0.200 in return units)" in line and "in 1 of 2 tests" in line
    assert "vs ppo, detects 0.15 normalized" in line and "underpowered" in line
    tests[1]["mde80"] = 0.19
    assert "every test has the power" in _power_line({"rows": rows, "tests": tests})[1]


def test_the_lead_line_says_where_hindsight_helped_and_where_it_hurt():
    from dialogue_gym.benchmark.report import lead_sentence

    def t(method, diff, p_holm):
        return {"method": method, "diff": diff, "ci95": [0, 0], "p": p_holm, "p_holm": p_holm}

    r = {
        "env_id": "Counseling-v0",
        "hindsight_tests": [
            t(HEADLINE_METHOD, -0.5, 0.01),
            t("cql+hindsight(anchored)", 0.2, 0.04),
            t("cql+hindsight(penalized)", 0.3, 0.2),
        ],
    }
    (line,) = lead_sentence(r, "narrow")
    assert line.startswith("- **Counseling-v0** (narrow data): hindsight helped: anchored (+0.200)")
    assert "; it hurt: learned (-0.500)" in line and "penalized +0.300 (0.2)" in line
    r["hindsight_tests"] = [t(HEADLINE_METHOD, 0.1, 0.3)]
    assert "hindsight did not help (" in lead_sentence(r, "real")[0]
    assert lead_sentence({"env_id": "Persuasion-v0", "tests": []}, "narrow") == []
