"""The registered environments: Gymnasium API, determinism, bad input, episode ends."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from dialogue_gym.agents.scripted import RandomAgent, ScriptedAgent
from dialogue_gym.domains import env_domain
from dialogue_gym.rollout import play_episode

ENV_IDS = ["Persuasion-v0", "Counseling-v0"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id):
    env = gym.make(env_id, render_mode="ansi").unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=False)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_and_actions_give_identical_episodes(env_id):
    def run():
        env = gym.make(env_id)
        agent = ScriptedAgent(env_domain(env_id), noise=0.3)
        out = []
        for seed in (3, 4, 5):
            obs, info = env.reset(seed=seed)
            agent.reset(seed=seed)
            steps = [(obs, info)]
            done = False
            while not done:
                obs, r, term, trunc, info = env.step(agent.act(obs, info))
                steps.append((obs, r, term, trunc, info))
                done = term or trunc
            out.append(steps)
        return out

    assert run() == run()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_different_seeds_give_different_personas(env_id):
    env = gym.make(env_id, privileged_info=True)
    personas = [str(env.reset(seed=s)[1]["privileged"]["persona"]) for s in range(5)]
    assert len(set(personas)) == 5


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observation_and_info_messages_agree(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    obs, reward, term, trunc, info = env.step("Hello there!")
    lines = obs.split("\n")
    assert len(lines) == len(info["messages"])
    for line, msg in zip(lines, info["messages"], strict=True):
        assert msg["role"] in ("user", "assistant")
        assert line.endswith(msg["content"])
    assert info["messages"][-1]["role"] == "user"
    assert reward == 0.0 and not term and not trunc


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_max_turns_truncates_and_pays_the_outcome(env_id):
    env = gym.make(env_id, max_turns=3)
    env.reset(seed=1)
    for _ in range(3):
        obs, reward, term, trunc, info = env.step("Can you tell me more about that?")
        if term:
            break
    assert term or trunc
    assert info["turn"] <= 3
    assert reward == info["outcome"]
    assert info["end_reason"] in ("max_turns", "left", "done", "better")


def test_rewards_stay_in_the_task_ranges():
    for env_id, (lo, hi) in (("Persuasion-v0", (0.0, 2.0)), ("Counseling-v0", (-4.0, 4.0))):
        env = gym.make(env_id)
        agent = RandomAgent(env_domain(env_id))
        for seed in range(40):
            r = play_episode(env, agent, seed).reward
            assert lo <= r <= hi


def test_user_can_end_the_conversation_early():
    env = gym.make("Persuasion-v0")
    env.reset(seed=2)
    for _ in range(10):
        _, _, term, trunc, info = env.step("You are an idiot. Shut up.")
        if term:
            break
    assert term and info["end_reason"] == "left" and info["turn"] < 10
    env = gym.make("Counseling-v0")
    ends = {play_episode(env, ScriptedAgent("counseling"), s).end_reason for s in range(30)}
    assert "better" in ends


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_modes(env_id, capsys):
    env = gym.make(env_id, render_mode="ansi")
    env.reset(seed=0)
    env.step("Hi, how are you?")
    text = env.render()
    assert "Hi, how are you?" in text
    human = gym.make(env_id, render_mode="human")
    human.reset(seed=0)
    human.step("Hi, how are you?")
    assert "Hi, how are you?" in capsys.readouterr().out


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_input_errors(env_id):
    env = gym.make(env_id).unwrapped
    with pytest.raises(RuntimeError, match="before reset"):
        env.step("hello")
    env.reset(seed=0)
    with pytest.raises(TypeError, match="got int"):
        env.step(42)
    with pytest.raises(TypeError, match="got NoneType"):
        env.step(None)
    short = gym.make(env_id, max_turns=1).unwrapped
    short.reset(seed=0)
    short.step("hello")
    with pytest.raises(RuntimeError, match="after the episode ended"):
        short.step("hello again")


def test_unknown_make_kwargs_list_the_accepted_ones():
    with pytest.raises(TypeError, match="accepted: simulator, llm, llm_cache, max_turns"):
        gym.make("Persuasion-v0", max_turn=3)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_turns": 0}, "max_turns"),
        ({"simulator": "gpt"}, "simulator"),
        ({"render_mode": "rgb_array"}, "render_mode"),
        ({"max_utterance_chars": -1}, "max_utterance_chars"),
    ],
)
def test_bad_config_values_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        gym.make("Counseling-v0", **kwargs)


def test_overlong_action_is_cut_to_the_limit_and_flagged():
    env = gym.make("Persuasion-v0", max_utterance_chars=50)
    env.reset(seed=0)
    _, _, _, _, info = env.step("x" * 10_000)
    assert info["action_truncated"] is True
    assert info["messages"][0]["content"] == "x" * 50
    _, _, _, _, info = env.step("short")
    assert info["action_truncated"] is False


def test_any_unicode_is_a_valid_utterance():
    env = gym.make("Counseling-v0")
    obs, info = env.reset(seed=0)
    obs, *_ = env.step("Здравствуйте 🙏 你好")
    assert env.observation_space.contains(obs)
    assert "🙏" in obs


def test_counseling_flags_self_harm_turns():
    env = gym.make("Counseling-v0", privileged_info=True)
    flagged = 0
    for seed in range(400):
        obs, info = env.reset(seed=seed)
        if not info["privileged"]["persona"]["risk"]:
            continue
        for _ in range(4):
            obs, _, term, trunc, info = env.step("How are you feeling right now?")
            if info["safety_flag"]:
                flagged += 1
                break
            if term or trunc:
                break
    assert flagged > 0
