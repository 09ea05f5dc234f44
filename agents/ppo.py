"""Online PPO (stable-baselines3) over strategy actions, with a checkpoint like the offline ones.

It trains on :func:`dialogue_gym.wrappers.make_vector_env`, which reports the turn limit as
termination (:class:`~dialogue_gym.wrappers.FinalOutcomeIsTerminal`): the outcome paid on the last
turn is final, and stable-baselines3 would otherwise add ``gamma * V(last observation)`` to it.
It counts the environment episodes it consumed (a Monitor wrapper), which the benchmark reports
beside the offline methods' dataset sizes.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InvalidInput
from .learned import DEFAULT_THREADS, torch_threads
from .sb3 import SB3Agent


@dataclass
class PPOArgs:
    """PPO hyperparameters (short, sparse-reward episodes: no discount, some entropy)."""

    steps: int = 20_000
    """Environment steps (agent turns)."""
    n_steps: int = 512
    """Rollout length per update."""
    batch_size: int = 128
    """Minibatch size."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    gamma: float = 1.0
    """Discount."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    seed: int = 0
    """Seed of PPO and of its environment resets."""
    threads: int | None = DEFAULT_THREADS
    """torch threads while training (None: leave torch's setting)."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.n_steps < 2 or self.batch_size < 1 or self.learning_rate <= 0:
            raise InvalidInput(
                "need steps >= 1, n_steps >= 2, batch_size >= 1 and learning_rate > 0; got "
                f"{self.steps}, {self.n_steps}, {self.batch_size}, {self.learning_rate}"
            )
        if not 0 <= self.gamma <= 1:
            raise InvalidInput(f"gamma must be in [0, 1], got {self.gamma}")


def train_ppo(env_id: str, args: PPOArgs | None = None, n_hash: int = 256, last_k: int = 2):
    """Train PPO on ``env_id``; returns (agent, environment episodes consumed)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor

    from ..domains import env_domain
    from ..wrappers import make_vector_env

    args = args or PPOArgs()
    env = Monitor(make_vector_env(env_id, n_hash, last_k))
    with torch_threads(args.threads):
        model = PPO(
            "MlpPolicy",
            env,
            n_steps=args.n_steps,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            gamma=args.gamma,
            ent_coef=args.ent_coef,
            seed=args.seed,
            verbose=0,
            device="cpu",
        )
        model.learn(total_timesteps=args.steps)
    episodes = len(env.get_episode_rewards())
    agent = SB3Agent(model, env_domain(env_id), n_hash, last_k, label="ppo")
    agent.train_info = {**asdict(args), "env_episodes": episodes, "env_id": env_id}
    return agent, episodes


def save_ppo(path: str | Path, agent: SB3Agent) -> Path:
    """Write ``model.zip`` and ``config.json`` into the folder ``path`` (atomically)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    agent.model.save(str(tmp / "model.zip"))
    cfg = {
        "algo": "ppo",
        "domain": agent.domain.name,
        "n_hash": agent.featurizer.n_hash,
        "last_k": agent.featurizer.last_k,
        "train": getattr(agent, "train_info", {}),
    }
    (tmp / "config.json").write_text(json.dumps(cfg, indent=1))
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)
    return path
