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

from ..errors import InvalidInput
from ..simulators.strategies import get_domain
from .learned import (
    DEFAULT_THREADS,
    LearnedAgent,
    PolicyConfig,
    check_common,
    expectile_loss,
    mlp,
    polyak_update,
    seeded_training,
    weighted_mean,
)
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
    gamma: float = 1.0
    """Discount (1: episodes are at most ``max_turns`` long and evaluation is undiscounted)."""
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
    imagined_weight: float = 1.0
    """Loss weight of transitions whose episode reward was imagined by a hindsight model."""
    seed: int = 0
    """Torch and sampling seed."""
    threads: int | None = DEFAULT_THREADS
    """torch threads while training (None: leave torch's setting)."""

    def __post_init__(self) -> None:
        check_common(self.steps, self.batch_size, self.lr, self.threads, self.imagined_weight)
        if not 0 < self.expectile < 1:
            raise InvalidInput(f"expectile must be in (0, 1), got {self.expectile}")
        if not 0 <= self.gamma <= 1:
            raise InvalidInput(f"gamma must be in [0, 1], got {self.gamma}")


def train_iql(data: OfflineData, domain: str, args: IQLArgs | None = None) -> LearnedAgent:
    """Fit Q, V and an advantage-weighted policy to the dataset."""
    import torch
    import torch.nn.functional as F

    args = args or IQLArgs()
    with seeded_training(args.seed, args.threads) as rng:
        t = data.tensors(args.imagined_weight)
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
        logs: dict[str, list[float]] = {"q": [], "v": [], "pi": []}
        for _ in range(args.steps):
            idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
            obs, act, rew, w = t["obs"][idx], t["act"][idx], t["rew"][idx], t["w"][idx]
            nxt, done = t["next_obs"][idx], t["done"][idx]
            with torch.no_grad():
                q_t = q_target(obs).gather(1, act[:, None]).squeeze(1)
            loss_v = expectile_loss(q_t - v(obs).squeeze(1), args.expectile, w)
            opt_v.zero_grad()
            loss_v.backward()
            opt_v.step()
            with torch.no_grad():
                y = rew + args.gamma * (1 - done) * v(nxt).squeeze(1)
            q_sa = q(obs).gather(1, act[:, None]).squeeze(1)
            loss_q = weighted_mean((q_sa - y) ** 2, w)
            opt_q.zero_grad()
            loss_q.backward()
            opt_q.step()
            with torch.no_grad():
                adv = q_t - v(obs).squeeze(1)
                aw = torch.clamp(torch.exp(args.beta * adv), max=args.max_weight)
            log_pi = F.log_softmax(pi(obs), dim=1).gather(1, act[:, None]).squeeze(1)
            loss_pi = -weighted_mean(aw * log_pi, w)
            opt_pi.zero_grad()
            loss_pi.backward()
            opt_pi.step()
            polyak_update(q, q_target, args.tau)
            logs["q"].append(loss_q.item())
            logs["v"].append(loss_v.item())
            logs["pi"].append(loss_pi.item())
    figures = {
        "transitions": len(data),
        "reward_sources": data.source_counts(),
        **{f"last_{k}": float(np.mean(x[-50:])) for k, x in logs.items()},
    }
    cfg = PolicyConfig(
        "iql", domain, dim, n_actions, args.hidden, head="logits", train={**asdict(args), **figures}
    )
    return LearnedAgent(pi, cfg)
