"""What the learners are fed and what agents may see: privileged information, PPO's returns at
the turn limit, exported features, action labels, reward sources, budgets, filtered BC's share,
the discount and the thread count."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dialogue_gym
from dialogue_gym.agents import registry
from dialogue_gym.agents.base import Agent
from dialogue_gym.agents.bc import BCArgs, train_bc
from dialogue_gym.agents.cql import CQLArgs, train_cql
from dialogue_gym.agents.iql import IQLArgs, train_iql
from dialogue_gym.agents.offline_data import OfflineData, concat
from dialogue_gym.agents.scripted import ScriptedAgent
from dialogue_gym.episode import ORACLE_REWARD
from dialogue_gym.evaluation import privileged_kwargs
from dialogue_gym.export import strategy_transitions
from dialogue_gym.generate import GenerateConfig, generate, play_to_episode
from dialogue_gym.hindsight import (
    PrivilegedDynamicsForwardModel,
    PrivilegedDynamicsRewardModel,
    TranscriptController,
    TrueEnvForwardModel,
    TrueEnvRewardModel,
    preference_pairs,
    regenerate,
)
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.simulators.classifier import get_classifier
from dialogue_gym.wrappers import HistoryFeaturizer


class Spy(Agent):
    """A user-written agent that looks for the hidden persona on every turn."""

    name = "spy"
    seen: list[bool] = []

    def __init__(self, domain: str = "persuasion", **_: object) -> None:
        self.inner = ScriptedAgent(domain)

    def act(self, observation, info):
        Spy.seen.append("privileged" in info)
        return self.inner.act(observation, info)


@pytest.fixture(scope="module")
def persuasion_eps(tmp_path_factory):
    path = tmp_path_factory.mktemp("protocol") / "p.jsonl"
    generate("Persuasion-v0", "human-like", 150, path, progress=False)
    return read_episodes(path)[0]


def test_privileged_information_never_reaches_a_users_agent(tmp_path, monkeypatch):
    registry.agent_entries()  # the built-ins first
    entry = registry.AgentEntry("test-spy", Spy, "looks for privileged info")
    monkeypatch.setitem(registry._REGISTRY, "test-spy", entry)
    Spy.seen = []
    dialogue_gym.evaluate(Spy(), "Persuasion-v0", 3, progress=False)
    dialogue_gym.evaluate("test-spy", "Persuasion-v0", 3, progress=False, concurrency=2)
    generate("Persuasion-v0", "test-spy", 3, tmp_path / "g.jsonl", progress=False)
    env = gym.make("Persuasion-v0")
    obs, info = env.reset(seed=0)
    Spy().act(obs, info)
    assert Spy.seen and not any(Spy.seen)
    with pytest.raises(ValueError, match="not registered as privileged"):
        dialogue_gym.evaluate(Spy(), "Persuasion-v0", 1, progress=False, privileged_info=True)
    # the oracle, registered as privileged, still gets it
    assert privileged_kwargs(registry.make_agent("oracle", "persuasion"), {})["privileged_info"]
    oracle = dialogue_gym.evaluate("oracle", "Persuasion-v0", 2, progress=False, oracle=False)
    assert oracle.summary["n_failed"] == 0


def test_ppo_rollouts_carry_the_outcome_and_nothing_more():
    """SB3 bootstraps truncated episodes with gamma * V(last obs): at the turn limit the outcome
    is final, so the rollout buffer must hold exactly the env's rewards."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from dialogue_gym.wrappers import make_vector_env

    class Record(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.rewards: list[float] = []
            self.limit_hits = 0

        def _on_step(self) -> bool:
            self.rewards.append(float(self.locals["rewards"][0]))
            self.limit_hits += int(self.locals["infos"][0].get("max_turns_reached", False))
            return True

    env = make_vector_env("Persuasion-v0", max_turns=3)
    model = PPO("MlpPolicy", env, n_steps=96, batch_size=96, n_epochs=1, gamma=1.0, seed=0)
    rec = Record()
    model.learn(total_timesteps=96, callback=rec)
    assert rec.limit_hits > 5  # most episodes reach the limit
    buffered = model.rollout_buffer.rewards.ravel()
    assert np.array_equal(buffered, np.array(rec.rewards, dtype=np.float32))


class RecordFeatures(Agent):
    """The human-like agent, recording the features it would see at play time."""

    name = "recorder"

    def __init__(self, domain: str) -> None:
        self.inner = ScriptedAgent(domain, noise=0.2)
        self.feat = HistoryFeaturizer(domain)
        self.features: list[np.ndarray] = []

    def reset(self, seed=None):
        self.inner.reset(seed)

    def act(self, observation, info):
        self.features.append(self.feat(info["messages"], info["turn"], info["max_turns"]))
        return self.inner.act(observation, info)


@pytest.mark.parametrize("max_turns", [6, 14])
def test_exported_features_equal_play_time_features(max_turns):
    env = gym.make("Counseling-v0", max_turns=max_turns)
    cfg = GenerateConfig("Counseling-v0", "human-like", 0, {"max_turns": max_turns})
    agent = RecordFeatures("counseling")
    episodes = [play_to_episode(env, agent, cfg, i) for i in range(12)]
    exported = strategy_transitions(episodes)["observations"]
    assert len(exported) == len(agent.features)
    assert np.array_equal(exported, np.stack(agent.features))
    assert max(len(e.agent_turns) for e in episodes) > 5


def test_rewritten_turns_are_labelled_like_recorded_ones(persuasion_eps):
    fwd, rwd = PrivilegedDynamicsForwardModel(), PrivilegedDynamicsRewardModel()
    regen = regenerate(persuasion_eps[:60], TranscriptController(), fwd, rwd)
    clf = get_classifier("persuasion")
    assert regen
    for r in regen:
        turn = r.turns[r.provenance["rewritten_turn"]]
        assert turn.strategies == list(clf.classify(turn.text))
        assert r.provenance["new_strategy"]  # the controller's intent is kept beside it
    for e in persuasion_eps[:20]:  # recorded turns: the env's reading, the same classifier
        for i in e.agent_turns:
            assert e.turns[i].strategies == list(clf.classify(e.turns[i].text))


def test_reward_sources_weights_and_like_for_like_pairs(persuasion_eps):
    eps = persuasion_eps[:80]
    regen = regenerate(
        eps,
        TranscriptController(),
        PrivilegedDynamicsForwardModel(),
        PrivilegedDynamicsRewardModel(),
    )
    assert {r.reward_source for r in regen} == {"imagined:privileged-dynamics"}
    assert {e.reward_source for e in eps} == {"real"}
    data = concat(OfflineData.from_episodes(eps), OfflineData.from_episodes(regen))
    counts = data.source_counts()
    assert set(counts) == {"real", "imagined:privileged-dynamics"}
    w = data.weights(0.25)
    assert set(np.unique(w)) == {0.25, 1.0}
    assert (w == 0.25).sum() == counts["imagined:privileged-dynamics"]
    by_id = {e.id: e for e in eps}
    pairs = preference_pairs(regen, by_id, min_gain=-10.0)
    assert pairs
    for p in pairs:
        r = next(x for x in regen if x.id == p["regenerated_id"])
        # the rewrite is compared with its source as scored by the same reward model
        assert p["gain"] == pytest.approx(r.reward - r.outcome["source_model_reward"])
    same_model = preference_pairs(regen, by_id)
    assert all(p["gain"] > 0 for p in same_model)


@pytest.mark.slow
def test_imagined_weight_zero_ignores_imagined_transitions(persuasion_eps):
    real = OfflineData.from_episodes(persuasion_eps[:60])
    fake = OfflineData.from_episodes(persuasion_eps[60:120])
    fake.actions[:] = 7  # imagined data that always says strategy 7
    fake.reward_sources = np.full(len(fake), "imagined:test")
    data = concat(real, fake)
    kw = {"steps": 300, "seed": 0}
    ignored = train_bc(data, "persuasion", BCArgs(imagined_weight=0.0, **kw))
    alone = train_bc(real, "persuasion", BCArgs(**kw))
    mixed = train_bc(data, "persuasion", BCArgs(imagined_weight=1.0, **kw))
    x = np.stack(
        [
            ignored.featurizer(e.messages[:i], j, 10)
            for e in persuasion_eps[:30]
            for j, i in enumerate(e.agent_turns)
        ]
    )
    import torch

    def probs(agent):
        with torch.no_grad():
            return torch.softmax(agent.net(torch.from_numpy(x)), dim=1).numpy()

    assert probs(ignored)[:, 7].mean() == pytest.approx(probs(alone)[:, 7].mean(), abs=0.05)
    assert probs(mixed)[:, 7].mean() > probs(ignored)[:, 7].mean() + 0.1


def test_oracle_ablation_counts_every_true_env_episode(persuasion_eps):
    fwd, rwd = TrueEnvForwardModel(), TrueEnvRewardModel()
    regen = regenerate(persuasion_eps[:40], TranscriptController(), fwd, rwd)
    assert regen and {r.reward_source for r in regen} == {ORACLE_REWARD}
    assert fwd.env_episodes == len(regen) and rwd.env_episodes == len(regen)


def test_filtered_bc_keeps_exactly_the_stated_share(persuasion_eps):
    data = OfflineData.from_episodes(persuasion_eps)
    n = data.n_episodes
    returns = np.array([e.reward for e in persuasion_eps])
    assert len(np.unique(returns)) < n / 3  # donations are discrete: many ties
    top = data.top_share(0.25, seed=0)
    assert top.n_episodes == round(0.25 * n)
    threshold = np.sort(returns)[::-1][round(0.25 * n) - 1]
    assert top.returns.min() >= threshold
    assert top.n_episodes == data.top_share(0.25, seed=1).n_episodes
    again = data.top_share(0.25, seed=0)
    assert np.array_equal(top.episode_index, again.episode_index)
    agent = train_bc(data, "persuasion", BCArgs(steps=20, top_share=0.25))
    assert agent.cfg.train["kept_share"] == pytest.approx(round(0.25 * n) / n)


def _chain(length: int, reward: float) -> OfflineData:
    """Deterministic episodes of ``length`` steps, one-hot step index, reward at the end."""
    dim = HistoryFeaturizer("persuasion").size
    n_ep = 40
    obs = np.zeros((n_ep * length, dim), dtype=np.float32)
    nxt = np.zeros_like(obs)
    for k in range(n_ep):
        for j in range(length):
            obs[k * length + j, j] = 1.0
            nxt[k * length + j, j + 1] = 1.0
    last = np.tile(np.arange(length) == length - 1, n_ep)
    return OfflineData(
        observations=obs,
        actions=np.zeros(n_ep * length, dtype=np.int64),
        rewards=np.where(last, reward, 0.0).astype(np.float32),
        next_observations=nxt,
        terminals=last,
        episode_index=np.repeat(np.arange(n_ep), length),
        reward_sources=np.full(n_ep * length, "real"),
    )


@pytest.mark.slow
def test_offline_learners_do_not_discount_by_default():
    """Evaluation is undiscounted: the value of the first of 9 turns is the whole return."""
    import torch

    data = _chain(9, 1.0)
    start = torch.from_numpy(data.observations[:1])
    assert CQLArgs().gamma == IQLArgs().gamma == 1.0
    cql = train_cql(data, "persuasion", CQLArgs(steps=1500, alpha=0.0, tau=0.05, lr=1e-3))
    with torch.no_grad():
        q0 = float(cql.net(start)[0, 0])
    assert q0 == pytest.approx(1.0, abs=0.05)  # 0.99 ** 8 = 0.92 with the old discount
    iql = train_iql(data, "persuasion", IQLArgs(steps=10))
    assert iql.cfg.train["gamma"] == 1.0


def test_small_learners_set_and_restore_the_thread_count(persuasion_eps, monkeypatch):
    import torch

    data = OfflineData.from_episodes(persuasion_eps[:20])
    calls: list[int] = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    before = torch.get_num_threads()
    train_bc(data, "persuasion", BCArgs(steps=2))
    assert calls[0] == 1 and torch.get_num_threads() == before
    calls.clear()
    train_cql(data, "persuasion", CQLArgs(steps=2, threads=None))
    assert calls == []
    with pytest.raises(ValueError, match="threads"):
        BCArgs(threads=0)


@pytest.mark.slow
def test_model_based_reference_needs_no_privileged_information():
    kw = {"progress": False, "oracle": False}
    seeds = {"episodes": 25, "seed": 4000}
    mb = dialogue_gym.evaluate("model-based:samples=3", "Counseling-v0", **seeds, **kw)
    again = dialogue_gym.evaluate("model-based:samples=3", "Counseling-v0", **seeds, **kw)
    rnd = dialogue_gym.evaluate("random", "Counseling-v0", **seeds, **kw)
    oracle = dialogue_gym.evaluate("oracle", "Counseling-v0", **seeds, **kw)
    assert mb.summary["n_failed"] == 0 and mb.agent["label"].startswith("model-based")
    assert [e.reward for e in mb.episodes] == [e.reward for e in again.episodes]
    assert mb.summary["mean_return"] > rnd.summary["mean_return"] + 1.0
    assert mb.summary["mean_return"] <= oracle.summary["mean_return"] + 0.2
