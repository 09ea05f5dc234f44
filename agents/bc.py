"""Behaviour cloning (and filtered BC) over strategy actions, in one readable function.

BC: cross-entropy of the logged strategy given the featurized history (Pomerleau 1991).
Filtered BC: the same on the top ``top_share`` of episodes by return (e.g. Chen et al. 2021's
"%BC" baseline).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..simulators.strategies import get_domain
from .learned import LearnedAgent, PolicyConfig, mlp
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
    """Keep the episodes in this top share by return (1.0: plain BC)."""
    seed: int = 0
    """Torch and sampling seed."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("steps, batch_size must be >= 1 and lr > 0")
        if not 0 < self.top_share <= 1:
            raise ValueError(f"top_share must be in (0, 1], got {self.top_share}")


def train_bc(data: OfflineData, domain: str, args: BCArgs | None = None) -> LearnedAgent:
    """Fit a policy to the dataset's actions (on its top share of episodes)."""
    import torch
    import torch.nn.functional as F

    args = args or BCArgs()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.top_share < 1.0:
        data = data.top_share(args.top_share)
    t = data.tensors()
    n_actions = len(get_domain(domain).strategies)
    net = mlp(t["obs"].shape[1], args.hidden, n_actions)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    losses = []
    for _ in range(args.steps):
        idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
        loss = F.cross_entropy(net(t["obs"][idx]), t["act"][idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    algo = "bc" if args.top_share >= 1.0 else "filtered-bc"
    figures = {"transitions": len(data), "first_loss": losses[0],
               "last_loss": float(np.mean(losses[-50:]))}  # fmt: skip
    cfg = PolicyConfig(algo, domain, t["obs"].shape[1], n_actions, args.hidden, head="logits",
                       train={**asdict(args), **figures})  # fmt: skip
    return LearnedAgent(net, cfg)
