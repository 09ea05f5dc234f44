"""Strategy-level learned agents: an MLP over the featurized history picks a strategy each turn.

Checkpoints are folders: ``model.pt`` (the network's state dict) and ``config.json`` (the
algorithm's config dataclass, the featurizer's settings and training figures), written to a
temporary folder and moved into place. :func:`load_agent` rebuilds the agent from that folder;
the registry name ``learned`` does it by path (``learned:path=ckpt/``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..files import atomic_dir
from ..simulators.realizer import say
from ..simulators.strategies import get_domain
from .base import Agent


@dataclass
class PolicyConfig:
    """What a strategy-level checkpoint needs to be rebuilt."""

    algo: str
    domain: str
    obs_dim: int
    n_actions: int
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    n_hash: int = 256
    last_k: int = 2
    head: str = "logits"
    """"logits" (a policy: BC, IQL's actor) or "q" (Q-values: CQL); the agent takes the argmax."""
    train: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    """How it was trained, as tables show it (e.g. "cql+hindsight"); the algorithm if empty."""


def mlp(in_dim: int, hidden: list[int], out_dim: int):
    """A ReLU MLP."""
    import torch.nn as nn

    layers: list[Any] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


DEFAULT_THREADS = 1
"""torch threads of the small learners. Their networks are tiny, and a second thread helps little
alone and hurts when another process holds a core: ``benchmarks/bench_threads.py`` measured a BC
step at 5.0 / 3.7 ms alone and 5.3 / 8.4 ms beside a busy process (1 / 2 threads); a review saw
4 ms against 320 ms on a busier machine."""


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (the previous count restored after);
    ``None`` leaves torch's setting alone."""
    import torch

    if n is None:
        yield
        return
    if not isinstance(n, int) or n < 1:
        raise InvalidInput(f"threads must be a positive int or None, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def seeded_training(seed: int, threads: int | None) -> Iterator[np.random.Generator]:
    """Run a learner's training block with ``threads`` torch threads (:func:`torch_threads`) and
    torch seeded with ``seed``; yields the block's sampling generator, seeded alike."""
    import torch

    with torch_threads(threads):
        torch.manual_seed(seed)
        yield np.random.default_rng(seed)


def check_common(
    steps: int,
    batch_size: int,
    lr: float,
    threads: int | None,
    imagined_weight: float | None = None,
) -> None:
    """Validate the fields every small learner's ``Args`` shares (``ValueError`` names them):
    also the loss weight of imagined transitions, for the learners that have one."""
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise InvalidInput(
            f"need steps >= 1, batch_size >= 1 and lr > 0; got {steps}, {batch_size}, {lr}"
        )
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise InvalidInput(f"threads must be a positive int or None, got {threads!r}")
    if imagined_weight is not None and not 0 <= imagined_weight <= 1:
        raise InvalidInput(f"imagined_weight must be in [0, 1], got {imagined_weight}")


def weighted_mean(x: Any, w: Any) -> Any:
    """``sum(w * x) / sum(w)`` (the mean when every weight is 1)."""
    return (w * x).sum() / w.sum().clamp(min=1e-8)


def expectile_loss(u: Any, tau: float, w: Any = None) -> Any:
    """IQL's expectile regression loss ``E[ |tau - 1(u < 0)| u^2 ]`` of residuals ``u``
    (weighted by ``w`` when given)."""
    x = (tau - (u < 0).float()).abs() * u**2
    return x.mean() if w is None else weighted_mean(x, w)


def polyak_update(net: Any, target: Any, rate: float) -> None:
    """Move ``target``'s parameters toward ``net``'s: ``t <- (1 - rate) t + rate p``."""
    import torch

    with torch.no_grad():
        for p, pt in zip(net.parameters(), target.parameters(), strict=True):
            pt.mul_(1 - rate).add_(rate * p)


class LearnedAgent(Agent):
    """Featurize the conversation, score the strategies with the network, say the best one."""

    def __init__(self, net: Any, config: PolicyConfig, seed: int | None = None) -> None:
        from ..wrappers import HistoryFeaturizer

        self.net = net.eval()
        self.cfg = config
        self.name = config.label or config.algo
        self.domain = get_domain(config.domain)
        self.featurizer = HistoryFeaturizer(config.domain, config.n_hash, config.last_k)
        if self.featurizer.size != config.obs_dim:
            raise InvalidInput(
                f"checkpoint expects {config.obs_dim} features, the featurizer makes "
                f"{self.featurizer.size}"
            )
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the wording."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def scores(self, info: dict[str, Any]) -> np.ndarray:
        """The network's score of every strategy for the conversation in ``info``."""
        import torch

        x = self.featurizer(info["messages"], info["turn"], info["max_turns"])
        with torch.no_grad():
            return self.net(torch.from_numpy(x)[None]).numpy()[0]

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The best-scoring strategy, worded."""
        a = int(np.argmax(self.scores(info)))
        return say(self.domain.name, self.domain.strategies[a], self.rng, info)

    def config(self) -> dict[str, Any]:
        """The checkpoint's config."""
        return {"name": self.name, **asdict(self.cfg)}


def save_checkpoint(path: str | Path, net: Any, config: PolicyConfig) -> Path:
    """Write ``model.pt`` and ``config.json`` into the folder ``path`` (atomically)."""
    import torch

    with atomic_dir(path) as tmp:
        torch.save(net.state_dict(), tmp / "model.pt")
        (tmp / "config.json").write_text(json.dumps(asdict(config), indent=1))
    return Path(path)


def load_agent(path: str | Path, domain: str | None = None, seed: int | None = None) -> Agent:
    """The agent saved at ``path`` (a strategy-level checkpoint or an SB3 PPO folder)."""
    import torch

    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.exists():
        raise InvalidInput(f"{path} is not a checkpoint folder (no config.json)")
    raw = json.loads(cfg_file.read_text())
    if domain is not None and raw["domain"] != domain:
        raise InvalidInput(f"checkpoint {path} is for {raw['domain']!r}, not {domain!r}")
    if raw["algo"] == "ppo":
        from .sb3 import SB3Agent

        return SB3Agent.load(
            path / "model.zip",
            raw["domain"],
            n_hash=raw["n_hash"],
            last_k=raw["last_k"],
            seed=seed,
            label="ppo",
        )
    cfg = PolicyConfig(**raw)
    net = mlp(cfg.obs_dim, cfg.hidden, cfg.n_actions)
    net.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    return LearnedAgent(net, cfg, seed)
