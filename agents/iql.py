"""Implicit Q-learning (IQL; Kostrikov et al. 2021) with advantage-weighted policy extraction,
over strategy actions, in one readable function.

- V: expectile regression on Q_target(s,a):  L_V = E[ |tau - 1(u < 0)| u^2 ],  u = Q_t(s,a) - V(s)
- Q: L_Q = E[ (r + gamma (1 - done) V(s') - Q(s,a))^2 ]
- policy (AWR, Peng et al. 2019): L_pi = -E[ exp(beta (Q_t(s,a) - V(s))) log pi(a|s) ], with the
  weights clipped at ``max_weight``. The agent says the policy's argmax.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import numpy as np

from ..simulators.strategies import get_domain
from .learned import LearnedAgent, PolicyConfig, expectile_loss, mlp, polyak_update
from .offline_data import OfflineData


@dataclass
class IQLArgs:
    """IQL hyperparameters."""

    steps: int = 3000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per step."""
    lr: float = 3e-4
    """Adam learning rate (all three networks)."""
    gamma: float = 0.99
    """Discount."""
    expectile: float = 0.7
    """tau of the expectile loss of V."""
    beta: float = 3.0
    """Inverse temperature of the advantage weights."""
    max_weight: float = 100.0
    """Clip of the advantage weights."""
    tau: float = 0.005
    """Polyak rate of the target Q."""
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    """MLP hidden sizes."""
    seed: int = 0
    """Torch and sampling seed."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("steps, batch_size must be >= 1 and lr > 0")
        if not 0 < self.expectile < 1:
            raise ValueError(f"expectile must be in (0, 1), got {self.expectile}")


def train_iql(data: OfflineData, domain: str, args: IQLArgs | None = None) -> LearnedAgent:
    """Fit Q, V and an advantage-weighted policy to the dataset."""
    import torch
    import torch.nn.functional as F

    args = args or IQLArgs()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t = data.tensors()
    dim, n_actions = t["obs"].shape[1], len(get_domain(domain).strategies)
    q, v, pi = (
        mlp(dim, args.hidden, n_actions),
        mlp(dim, args.hidden, 1),
        mlp(dim, args.hidden, n_actions),
    )
    q_target = copy.deepcopy(q).requires_grad_(False)
    opt_q = torch.optim.Adam(q.parameters(), lr=args.lr)
    opt_v = torch.optim.Adam(v.parameters(), lr=args.lr)
    opt_pi = torch.optim.Adam(pi.parameters(), lr=args.lr)
    logs = {"q": [], "v": [], "pi": []}
    for _ in range(args.steps):
        idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
        obs, act, rew = t["obs"][idx], t["act"][idx], t["rew"][idx]
        nxt, done = t["next_obs"][idx], t["done"][idx]
        with torch.no_grad():
            q_t = q_target(obs).gather(1, act[:, None]).squeeze(1)
        u = q_t - v(obs).squeeze(1)
        loss_v = expectile_loss(u, args.expectile)
        opt_v.zero_grad()
        loss_v.backward()
        opt_v.step()
        with torch.no_grad():
            y = rew + args.gamma * (1 - done) * v(nxt).squeeze(1)
        loss_q = F.mse_loss(q(obs).gather(1, act[:, None]).squeeze(1), y)
        opt_q.zero_grad()
        loss_q.backward()
        opt_q.step()
        with torch.no_grad():
            adv = q_t - v(obs).squeeze(1)
            w = torch.clamp(torch.exp(args.beta * adv), max=args.max_weight)
        loss_pi = -(w * F.log_softmax(pi(obs), dim=1).gather(1, act[:, None]).squeeze(1)).mean()
        opt_pi.zero_grad()
        loss_pi.backward()
        opt_pi.step()
        polyak_update(q, q_target, args.tau)
        logs["q"].append(loss_q.item())
        logs["v"].append(loss_v.item())
        logs["pi"].append(loss_pi.item())
    figures = {
        "transitions": len(data),
        **{f"last_{k}": float(np.mean(x[-50:])) for k, x in logs.items()},
    }
    cfg = PolicyConfig("iql", domain, dim, n_actions, args.hidden, head="logits",
                       train={**asdict(args), **figures})  # fmt: skip
    return LearnedAgent(pi, cfg)
