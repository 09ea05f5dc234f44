"""The domain table: one row per env id, read by everything; a third env is one registration."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from dialogue_gym import domains
from dialogue_gym.cli import main as cli_main
from dialogue_gym.domains import Domain, domain_named, domain_of, env_ids
from dialogue_gym.evaluation import evaluate, is_success
from dialogue_gym.generate import generate
from dialogue_gym.hindsight.base import clip_reward
from dialogue_gym.jsonl import read_episodes

TOY = Path(__file__).with_name("toy_env.py")


@pytest.fixture
def toy_env():
    """Toy-v0 registered for one test, then removed (other tests see only the two envs)."""
    domains.register(
        Domain(
            env_id="Toy-v0",
            name="toy",
            entry_point="toy_env:ToyEnv",
            agent_role="Counter",
            user_role="Asker",
            reward_range=(0.0, 1.0),
            units="share of polite turns",
            success=lambda reward, info: reward >= 0.5,
        )
    )
    yield domain_of("Toy-v0")
    domains.unregister("Toy-v0")


def test_builtin_rows():
    assert env_ids() == ("Persuasion-v0", "Counseling-v0")
    assert domain_of("dialogue_gym:Counseling-v0").name == "counseling"
    assert domain_named("persuasion").reward_range == (0.0, 2.0)
    assert clip_reward("Persuasion-v0", 3.5) == 2.0 and clip_reward("Counseling-v0", -9) == -4.0
    env = gym.make("Counseling-v0").unwrapped
    assert (env.agent_role, env.user_role) == ("Supporter", "Seeker")


def test_success_rules_and_harm():
    assert is_success("counseling", 2.0, {"final_intensity": 3})
    assert is_success("counseling", 1.0, {"final_intensity": 2})
    assert not is_success("counseling", 1.0, {"final_intensity": 3})
    assert is_success("persuasion", 0.01, {}) and not is_success("persuasion", 0.0, {})
    assert not is_success("counseling", 3.0, {"end_reason": "harmed", "final_intensity": 1})


def test_unknown_ids_and_clashes_are_refused():
    with pytest.raises(ValueError, match="allowed: Persuasion-v0, Counseling-v0"):
        domain_of("Tutoring-v0")
    with pytest.raises(ValueError, match="unknown domain 'tutoring'"):
        domain_named("tutoring")
    clash = Domain("Persuasion-v0", "other", "x:Y", "A", "B", (0, 1), "u", lambda r, i: True)
    with pytest.raises(ValueError, match="already registered"):
        domains.register(clash)
    assert domain_of("Persuasion-v0").name == "persuasion"


def test_a_third_env_is_one_registration(toy_env, tmp_path):
    """evaluate, generate and the CLI's --env work on an env the package has never heard of."""
    assert "Toy-v0" in env_ids() and "Toy-v0" in gym.registry
    agent = f"{TOY}:PoliteCounter"
    result = evaluate(agent, "Toy-v0", episodes=6, oracle=False, progress=False)
    assert [e.reward for e in result.episodes] == [1.0, 0.0] * 3
    assert [e.success for e in result.episodes] == [True, False] * 3
    summary = generate("Toy-v0", agent, 4, tmp_path / "toy.jsonl", progress=False)
    assert summary.written == 4
    episodes, _ = read_episodes(tmp_path / "toy.jsonl")
    assert {e.env_id for e in episodes} == {"Toy-v0"}
    assert [e.reward for e in episodes] == [1.0, 0.0, 1.0, 0.0]
    assert episodes[0].messages[1]["content"] == "1, please."
    assert clip_reward("Toy-v0", 7.0) == 1.0
    out = tmp_path / "cli.jsonl"
    rc = cli_main(
        ["generate", "--env", "Toy-v0", "--agent", agent, "--episodes", "2", "--out", str(out)]
    )
    assert rc == 0 and len(read_episodes(out)[0]) == 2


def test_unregistered_toy_is_gone(toy_env):
    domains.unregister("Toy-v0")
    assert "Toy-v0" not in env_ids() and "Toy-v0" not in gym.registry
    domains.register(toy_env)  # the fixture removes it again
