"""Behaviour cloning (and filtered BC) over strategy actions, in one readable function.

BC: cross-entropy of the logged strategy given the featurized history (Pomerleau 1991).
Filtered BC: the same on exactly the top ``top_share`` of episodes by return, ties broken at
random with the seed (e.g. Chen et al. 2021's "%BC" baseline); the share kept is recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InvalidInput
from ..simulators.strategies import get_domain
from .learned import (
    DEFAULT_THREADS,
    LearnedAgent,
    PolicyConfig,
    check_common,
    mlp,
    seeded_training,
    weighted_mean,
)
from .offline_data import OfflineData


@dataclass
class BCArgs:
    """Behaviour-cloning hyperparameters."""

    steps: int = 2000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per step."""
    lr: float = 1e-3
    """Adam learning rate."""
    weight_decay: float = 1e-4
    """Adam weight decay."""
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    """MLP hidden sizes."""
    top_share: float = 1.0
    """Keep exactly this top share of episodes by return (1.0: plain BC)."""
    imagined_weight: float = 1.0
    """Loss weight of transitions whose episode reward was imagined by a hindsight model."""
    seed: int = 0
    """Torch, sampling and tie-breaking seed."""
    threads: int | None = DEFAULT_THREADS
    """torch threads while training (None: leave torch's setting)."""

    def __post_init__(self) -> None:
        check_common(self.steps, self.batch_size, self.lr, self.threads, self.imagined_weight)
        if not 0 < self.top_share <= 1:
            raise InvalidInput(f"top_share must be in (0, 1], got {self.top_share}")


def train_bc(data: OfflineData, domain: str, args: BCArgs | None = None) -> LearnedAgent:
    """Fit a policy to the dataset's actions (on its top share of episodes)."""
    import torch
    import torch.nn.functional as F

    args = args or BCArgs()
    n_offered = data.n_episodes
    if args.top_share < 1.0:
        data = data.top_share(args.top_share, args.seed)
    with seeded_training(args.seed, args.threads) as rng:
        t = data.tensors(args.imagined_weight)
        n_actions = len(get_domain(domain).strategies)
        net = mlp(t["obs"].shape[1], args.hidden, n_actions)
        opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
        losses = []
        for _ in range(args.steps):
            idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
            ce = F.cross_entropy(net(t["obs"][idx]), t["act"][idx], reduction="none")
            loss = weighted_mean(ce, t["w"][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    algo = "bc" if args.top_share >= 1.0 else "filtered-bc"
    figures = {
        "transitions": len(data),
        "episodes_kept": data.n_episodes,
        "kept_share": data.n_episodes / n_offered,
        "reward_sources": data.source_counts(),
        "first_loss": losses[0],
        "last_loss": float(np.mean(losses[-50:])),
    }
    cfg = PolicyConfig(
        algo,
        domain,
        t["obs"].shape[1],
        n_actions,
        args.hidden,
        head="logits",
        train={**asdict(args), **figures},
    )
    return LearnedAgent(net, cfg)
