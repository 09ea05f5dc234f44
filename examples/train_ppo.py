"""Train PPO (stable-baselines3) over strategy actions on Persuasion-v0 and evaluate it.

Usage: ``python examples/train_ppo.py [--env Persuasion-v0] [--steps 20000] [--episodes 300]``
(about a minute on one core at the defaults).
Prints the PPO agent's result beside the random agent's on the same held-out seeds.
"""

from __future__ import annotations

import argparse

from stable_baselines3 import PPO

import dialogue_gym
from dialogue_gym.agents.sb3 import SB3Agent
from dialogue_gym.evaluation import compare, env_domain, format_table
from dialogue_gym.wrappers import make_vector_env


def main(argv: list[str] | None = None) -> dict:
    """Train, evaluate, print; returns the summaries (used by the tests)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", default="Persuasion-v0")
    p.add_argument("--steps", type=int, default=20_000, help="PPO environment steps")
    p.add_argument("--episodes", type=int, default=300, help="evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    env = make_vector_env(args.env)
    # Episodes are short (<= 10 steps) with one terminal reward: no discounting, a higher learning
    # rate than SB3's default, and a little entropy to keep exploring strategies.
    model = PPO(
        "MlpPolicy", env, n_steps=512, batch_size=128, gamma=1.0, learning_rate=1e-3,
        ent_coef=0.01, seed=args.seed, verbose=0,
    )  # fmt: skip
    model.learn(total_timesteps=args.steps)
    agent = SB3Agent(model, env_domain(args.env), label="ppo")
    held_out = 1_000_000  # seeds never used in training (PPO's resets draw from its own seed)
    ppo = dialogue_gym.evaluate(agent, args.env, args.episodes, seed=held_out)
    rnd = dialogue_gym.evaluate("random", args.env, args.episodes, seed=held_out)
    ppo.summary["train_env_steps"] = args.steps
    print(format_table([rnd, ppo]))
    c = compare(ppo, rnd)
    print(
        f"PPO ({args.steps} env steps) - random: {c.diff:+.3f} [{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}]"
        f", p = {c.p_value:.3g} ({c.test})"
    )
    return {"ppo": ppo.summary, "random": rnd.summary, "diff": c.diff, "p": c.p_value}


if __name__ == "__main__":
    main()
