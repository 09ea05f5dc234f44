"""Discrete conservative Q-learning (CQL; Kumar et al. 2020, Eq. 4 with the CQL(H) regularizer)
over strategy actions, in one readable function.

Loss per batch:  (Q(s,a) - y)^2 / 2  +  alpha * (logsumexp_a' Q(s,a') - Q(s,a)),
with the double-DQN target  y = r + gamma * (1 - done) * Q_target(s', argmax_a' Q(s',a'))
and a Polyak-averaged target network. The agent says argmax_a Q(s,a).

d3rlpy has a DiscreteCQL, but d3rlpy 2.8 pins gymnasium==1.0.0 and pulls the legacy gym
package, which conflicts with this project's gymnasium 1.x; this ~60-line version avoids it.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import numpy as np

from ..simulators.strategies import get_domain
from .learned import LearnedAgent, PolicyConfig, mlp, polyak_update
from .offline_data import OfflineData


@dataclass
class CQLArgs:
    """Discrete CQL hyperparameters."""

    steps: int = 3000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per step."""
    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount."""
    alpha: float = 1.0
    """Weight of the conservative (CQL) term."""
    tau: float = 0.005
    """Polyak rate of the target network."""
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    """MLP hidden sizes."""
    seed: int = 0
    """Torch and sampling seed."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("steps, batch_size must be >= 1 and lr > 0")
        if not 0 <= self.gamma <= 1 or self.alpha < 0 or not 0 < self.tau <= 1:
            raise ValueError("need 0 <= gamma <= 1, alpha >= 0 and 0 < tau <= 1")


def train_cql(data: OfflineData, domain: str, args: CQLArgs | None = None) -> LearnedAgent:
    """Fit a conservative Q-function to the dataset."""
    import torch
    import torch.nn.functional as F

    args = args or CQLArgs()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t = data.tensors()
    n_actions = len(get_domain(domain).strategies)
    q = mlp(t["obs"].shape[1], args.hidden, n_actions)
    q_target = copy.deepcopy(q).requires_grad_(False)
    opt = torch.optim.Adam(q.parameters(), lr=args.lr)
    td_losses, cql_losses = [], []
    for _ in range(args.steps):
        idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
        obs, act, rew = t["obs"][idx], t["act"][idx], t["rew"][idx]
        nxt, done = t["next_obs"][idx], t["done"][idx]
        with torch.no_grad():
            best = q(nxt).argmax(dim=1, keepdim=True)
            y = rew + args.gamma * (1 - done) * q_target(nxt).gather(1, best).squeeze(1)
        qs = q(obs)
        q_sa = qs.gather(1, act[:, None]).squeeze(1)
        td = 0.5 * F.mse_loss(q_sa, y)
        conservative = (torch.logsumexp(qs, dim=1) - q_sa).mean()
        loss = td + args.alpha * conservative
        opt.zero_grad()
        loss.backward()
        opt.step()
        polyak_update(q, q_target, args.tau)
        td_losses.append(td.item())
        cql_losses.append(conservative.item())
    figures = {"transitions": len(data), "last_td": float(np.mean(td_losses[-50:])),
               "last_cql": float(np.mean(cql_losses[-50:]))}  # fmt: skip
    cfg = PolicyConfig("cql", domain, t["obs"].shape[1], n_actions, args.hidden, head="q",
                       train={**asdict(args), **figures})  # fmt: skip
    return LearnedAgent(q, cfg)
