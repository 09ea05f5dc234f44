"""Agent turns per second of each environment with the embedded simulator and a scripted agent.

Single process, one BLAS thread (one core). Three figures per env:
- scripted agent, caches warm (its templates repeat): target >= 1,000 agent turns/s;
- text never seen before (every utterance made unique, so the reader's cache never hits):
  target >= 50 agent turns/s;
- the same in the several-sentence style of LLM agents (an acknowledgement, the turn, a
  question: the reader reads each sentence and the whole), reported without a target.
Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_env_speed.py [--episodes 2000]``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import dialogue_gym  # noqa: F401  (registers the envs)
from dialogue_gym.agents.scripted import HUMAN_LIKE_NOISE, ScriptedAgent

ENVS = {"Persuasion-v0": "persuasion", "Counseling-v0": "counseling"}


def bench(
    env_id: str, episodes: int, unseen: bool = False, llm_style: bool = False
) -> tuple[float, float, int]:
    """(turns/s including the agent, turns/s of env.step alone, turns) over ``episodes``.

    ``unseen`` makes every utterance new text (a numbered clause in front) so nothing is cached;
    ``llm_style`` also wraps it in an acknowledgement and a closing question.
    """
    env = gym.make(env_id).unwrapped  # no wrappers: the env's own cost
    agent = ScriptedAgent(ENVS[env_id], noise=HUMAN_LIKE_NOISE)
    turns, step_time = 0, 0.0
    t0 = time.perf_counter()
    for seed in range(episodes):
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed)
        done = False
        while not done:
            action = agent.act(obs, info)
            if unseen:
                action = f"Point {turns + 1}: {action}"
            if llm_style:
                action = f"I hear you. {action} What do you think about that?"
            t = time.perf_counter()
            obs, _, term, trunc, info = env.step(action)
            step_time += time.perf_counter() - t
            turns += 1
            done = term or trunc
    total = time.perf_counter() - t0
    return turns / total, turns / step_time, turns


def main() -> None:
    """Print turns/s for each env."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--unseen-episodes", type=int, default=100)
    args = parser.parse_args()
    for env_id in ENVS:
        bench(env_id, 50)  # warm caches
        rate, step_rate, turns = bench(env_id, args.episodes)
        print(
            f"{env_id}: {rate:,.0f} agent turns/s with the scripted agent, caches warm "
            f"({step_rate:,.0f}/s in env.step alone; {turns} turns, {args.episodes} episodes)"
        )
        rate, step_rate, turns = bench(env_id, args.unseen_episodes, unseen=True)
        print(
            f"{env_id}: {rate:,.0f} agent turns/s with text never seen before "
            f"({step_rate:,.0f}/s in env.step alone; {turns} turns)"
        )
        rate, step_rate, turns = bench(env_id, args.unseen_episodes, unseen=True, llm_style=True)
        print(
            f"{env_id}: {rate:,.0f} agent turns/s with unseen three-sentence turns "
            f"({step_rate:,.0f}/s in env.step alone; {turns} turns)"
        )


if __name__ == "__main__":
    main()
