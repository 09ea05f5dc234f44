"""Train d3rlpy's DiscreteCQL on dialogue-gym's exported transitions and play it in the env.

d3rlpy is not a dependency of dialogue-gym: d3rlpy 2.8.1 installs beside it, but moves gymnasium
to 1.0.0 and adds the legacy ``gym`` package, so give it its own virtual environment::

    python3 -m venv .venv-d3rlpy && .venv-d3rlpy/bin/pip install "torch==2.13.0" \\
        "d3rlpy==2.8.1" -e .
    .venv-d3rlpy/bin/python examples/d3rlpy_cql.py [--env Persuasion-v0] [--data data.jsonl]

The transitions are :func:`dialogue_gym.export.strategy_transitions` (what ``dialogue-gym data
export --to transitions-strategy`` writes as ``.npz``): featurized history, strategy index,
reward on the last agent turn, terminal flag. An episode cut by the turn limit is terminal — the
outcome paid there is final. The trained Q-function plays through the same featurizer and
realizer as the project's own learners; its result is printed beside the project's CQL trained
on the same data, with each one's Q of the logged actions against the data's returns.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import dialogue_gym
from dialogue_gym.agents.base import Agent
from dialogue_gym.agents.cql import CQLArgs, logged_q_vs_returns, train_cql
from dialogue_gym.agents.offline_data import OfflineData
from dialogue_gym.comparison import compare, format_table
from dialogue_gym.domains import env_domain
from dialogue_gym.generate import generate
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.simulators.realizer import say
from dialogue_gym.simulators.strategies import get_domain
from dialogue_gym.wrappers import HistoryFeaturizer


class D3rlpyAgent(Agent):
    """Says the strategy a d3rlpy Q-learning algorithm picks for the featurized conversation."""

    name = "d3rlpy-discrete-cql"

    def __init__(self, algo: Any, domain: str) -> None:
        self.algo = algo
        self.domain = get_domain(domain)
        self.featurizer = HistoryFeaturizer(domain)
        self.rng = np.random.default_rng(0)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the wording."""
        self.rng = np.random.default_rng(seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The greedy strategy, worded."""
        x = self.featurizer(info["messages"], info["turn"], info["max_turns"])
        action = int(self.algo.predict(x[None])[0])
        return say(self.domain.name, self.domain.strategies[action], self.rng, info)


def main(argv: list[str] | None = None) -> dict:
    """Export, train both, evaluate, print."""
    import d3rlpy

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", default="Persuasion-v0")
    p.add_argument("--data", type=Path, default=None, help="episodes (default: generate)")
    p.add_argument("--episodes", type=int, default=1500, help="behaviour episodes to generate")
    p.add_argument("--steps", type=int, default=2000, help="gradient steps of both learners")
    p.add_argument("--eval", type=int, default=200, help="held-out evaluation episodes")
    p.add_argument("--gamma", type=float, default=1.0)
    args = p.parse_args(argv)
    domain = env_domain(args.env)

    if args.data is None:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "data.jsonl"
            generate(args.env, "human-like", args.episodes, path, progress=False)
            episodes = read_episodes(path)[0]
    else:
        episodes = read_episodes(args.data)[0]
    data = OfflineData.from_episodes(episodes)
    dataset = d3rlpy.dataset.MDPDataset(
        observations=data.observations,
        actions=data.actions,
        rewards=data.rewards[:, None],
        terminals=data.terminals.astype(np.float32),
        action_space=d3rlpy.constants.ActionSpace.DISCRETE,
        action_size=len(get_domain(domain).strategies),
    )
    config = d3rlpy.algos.DiscreteCQLConfig(gamma=args.gamma)  # d3rlpy's other defaults
    cql = config.create(device="cpu")
    cql.fit(
        dataset,
        n_steps=args.steps,
        n_steps_per_epoch=args.steps,
        show_progress=False,
        logger_adapter=d3rlpy.logging.NoopAdapterFactory(),
    )
    ours = train_cql(data, domain, CQLArgs(steps=args.steps, gamma=args.gamma))

    q_d3 = cql.predict_value(data.observations, data.actions)
    ours_q = logged_q_vs_returns(ours, data)
    print(
        f"{data.n_episodes} episodes, {len(data)} transitions; data mean return-to-go "
        f"{ours_q['mean_return_to_go']:.3f}; mean Q of logged actions: d3rlpy "
        f"{float(np.mean(q_d3)):.3f}, dialogue-gym {ours_q['mean_q_logged']:.3f}"
    )
    held_out = 1_000_000
    kw = {"progress": False}
    r_d3 = dialogue_gym.evaluate(D3rlpyAgent(cql, domain), args.env, args.eval, held_out, **kw)
    r_ours = dialogue_gym.evaluate(ours, args.env, args.eval, held_out, **kw)
    print(format_table([r_d3, r_ours]))
    c = compare(r_d3, r_ours)
    print(
        f"d3rlpy - dialogue-gym CQL: {c.diff:+.3f} [{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}], "
        f"p = {c.p_value:.3g} ({c.test})"
    )
    return {"d3rlpy": r_d3.summary, "dialogue_gym": r_ours.summary, "diff": c.diff}


if __name__ == "__main__":
    main()
