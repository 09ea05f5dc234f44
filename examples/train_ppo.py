"""Train PPO (stable-baselines3) over strategy actions on Persuasion-v0 and evaluate it.

Usage: ``python examples/train_ppo.py [--env Persuasion-v0] [--steps 20000] [--episodes 300]``
(about a minute on one core at the defaults).
Prints the PPO agent's result beside the random agent's on the same held-out seeds.
The training env reports the turn limit as termination (the outcome is final), so PPO's returns
are the outcomes themselves; see ``dialogue_gym.wrappers.FinalOutcomeIsTerminal``.
"""

from __future__ import annotations

import argparse

import dialogue_gym
from dialogue_gym.agents.ppo import PPOArgs, train_ppo
from dialogue_gym.comparison import compare, format_table


def main(argv: list[str] | None = None) -> dict:
    """Train, evaluate, print; returns the summaries (used by the tests)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", default="Persuasion-v0")
    p.add_argument("--steps", type=int, default=20_000, help="PPO environment steps")
    p.add_argument("--episodes", type=int, default=300, help="evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    # Episodes are short (<= 10 steps) with one terminal reward: PPOArgs' defaults use no
    # discounting, a higher learning rate than SB3's default and a little entropy.
    agent, train_episodes = train_ppo(args.env, PPOArgs(steps=args.steps, seed=args.seed))
    held_out = 1_000_000  # seeds never used in training (PPO's resets draw from its own seed)
    ppo = dialogue_gym.evaluate(agent, args.env, args.episodes, seed=held_out)
    rnd = dialogue_gym.evaluate("random", args.env, args.episodes, seed=held_out)
    ppo.summary.update(train_env_steps=args.steps, train_env_episodes=train_episodes)
    print(format_table([rnd, ppo]))
    c = compare(ppo, rnd)
    print(
        f"PPO ({args.steps} env steps, {train_episodes} episodes) - random: {c.diff:+.3f} "
        f"[{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}], p = {c.p_value:.3g} ({c.test})"
    )
    return {"ppo": ppo.summary, "random": rnd.summary, "diff": c.diff, "p": c.p_value}


if __name__ == "__main__":
    main()
