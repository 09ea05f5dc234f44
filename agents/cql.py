"""Discrete conservative Q-learning (CQL; Kumar et al. 2020, Eq. 4 with the CQL(H) regularizer)
over strategy actions, in one readable function.

Loss per batch:  TD(Q(s,a), y)  +  alpha * (logsumexp_a' Q(s,a') - Q(s,a)),
with the double-DQN target  y = r + gamma * (1 - done) * Q_target(s', argmax_a' Q(s',a'))
and a Polyak-averaged target network. ``TD`` is ``(Q - y)^2 / 2`` (the paper's Eq. 4) or the
Huber loss (d3rlpy's DiscreteCQL and the paper's Atari code). The agent says argmax_a Q(s,a).

What the regularizer guarantees: a lower bound on the *policy's* value, not on the Q of each
logged action. At the fixed point Q(s,a) = B Q(s,a) + alpha * (1 - pi(a|s) / pi_beta(a|s)) with
pi = softmax Q (the paper's Thm. 3.2 derivation): a logged action that the softmax undervalues
is pushed *above* its Bellman target, and with gamma near 1 that excess adds up over the turns
of an episode. ``benchmarks/bench_cql_q.py`` measures it (``docs/results.md``, "CQL's value
estimates"): the default alpha of 0.1 keeps the start value close to the return the policy
achieves, alpha 1 predicts several times what it achieves, and alpha 0 leaves the data's support.

d3rlpy's DiscreteCQL is the same algorithm; d3rlpy 2.8.1 installs beside this project but moves
gymnasium to 1.0.0 and adds the legacy ``gym`` package, so it is not a dependency here.
``examples/d3rlpy_cql.py`` trains it on our exported transitions.
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
    mlp,
    polyak_update,
    seeded_training,
    weighted_mean,
)
from .offline_data import OfflineData

TD_LOSSES = ("mse", "huber")


@dataclass
class CQLArgs:
    """Discrete CQL hyperparameters."""

    steps: int = 3000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per step."""
    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 1.0
    """Discount (1: episodes are at most ``max_turns`` long and evaluation is undiscounted)."""
    alpha: float = 0.1
    """Weight of the conservative (CQL) term. The paper's and d3rlpy's 1.0 was tuned for Atari
    (rewards clipped to [-1, 1], gamma 0.99); here, undiscounted over up to 10 turns, it lifts
    the greedy policy's predicted return far above the achieved one, and 0.1 keeps it close, at
    some cost in Persuasion's return (``docs/results.md`` has the figures of
    ``benchmarks/bench_cql_q.py``)."""
    td_loss: str = "mse"
    """"mse" (``(Q - y)^2 / 2``, the paper's Eq. 4) or "huber" (d3rlpy's)."""
    tau: float = 0.005
    """Polyak rate of the target network."""
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
        if not 0 <= self.gamma <= 1 or self.alpha < 0 or not 0 < self.tau <= 1:
            raise InvalidInput(
                f"need 0 <= gamma <= 1, alpha >= 0 and 0 < tau <= 1; got gamma={self.gamma}, "
                f"alpha={self.alpha}, tau={self.tau}"
            )
        if self.td_loss not in TD_LOSSES:
            raise InvalidInput(f"td_loss must be one of {TD_LOSSES}, got {self.td_loss!r}")


def train_cql(data: OfflineData, domain: str, args: CQLArgs | None = None) -> LearnedAgent:
    """Fit a conservative Q-function to the dataset."""
    import torch
    import torch.nn.functional as F

    args = args or CQLArgs()
    with seeded_training(args.seed, args.threads) as rng:
        t = data.tensors(args.imagined_weight)
        n_actions = len(get_domain(domain).strategies)
        q = mlp(t["obs"].shape[1], args.hidden, n_actions)
        q_target = copy.deepcopy(q).requires_grad_(False)
        opt = torch.optim.Adam(q.parameters(), lr=args.lr)
        td_losses, cql_losses = [], []
        for _ in range(args.steps):
            idx = torch.from_numpy(rng.integers(0, len(data), size=args.batch_size))
            obs, act, rew, w = t["obs"][idx], t["act"][idx], t["rew"][idx], t["w"][idx]
            nxt, done = t["next_obs"][idx], t["done"][idx]
            with torch.no_grad():
                best = q(nxt).argmax(dim=1, keepdim=True)
                y = rew + args.gamma * (1 - done) * q_target(nxt).gather(1, best).squeeze(1)
            qs = q(obs)
            q_sa = qs.gather(1, act[:, None]).squeeze(1)
            if args.td_loss == "mse":
                td_each = 0.5 * (q_sa - y) ** 2
            else:
                td_each = F.huber_loss(q_sa, y, reduction="none", delta=1.0)
            td = weighted_mean(td_each, w)
            conservative = weighted_mean(torch.logsumexp(qs, dim=1) - q_sa, w)
            loss = td + args.alpha * conservative
            opt.zero_grad()
            loss.backward()
            opt.step()
            polyak_update(q, q_target, args.tau)
            td_losses.append(td.item())
            cql_losses.append(conservative.item())
    figures = {
        "transitions": len(data),
        "reward_sources": data.source_counts(),
        "last_td": float(np.mean(td_losses[-50:])),
        "last_cql": float(np.mean(cql_losses[-50:])),
    }
    cfg = PolicyConfig(
        "cql",
        domain,
        t["obs"].shape[1],
        n_actions,
        args.hidden,
        head="q",
        train={**asdict(args), **figures},
    )
    return LearnedAgent(q, cfg)


def logged_q_vs_returns(agent: LearnedAgent, data: OfflineData) -> dict[str, float]:
    """How far the Q-function is above what it estimates, over the dataset's transitions:

    - ``mean_q_logged``: Q of the logged actions, against ``mean_return_to_go``, the data's
      (undiscounted) return from each transition on;
    - ``mean_v_start``: ``max_a Q`` at the first turn of each episode — the greedy policy's
      predicted return, to set against that policy's return when it plays (evaluation)."""
    import torch

    with torch.no_grad():
        q = agent.net(torch.from_numpy(data.observations))
    q_logged = q.gather(1, torch.from_numpy(data.actions)[:, None]).squeeze(1).numpy()
    to_go = np.zeros(len(data))
    running: dict[int, float] = {}
    for i in range(len(data) - 1, -1, -1):  # episodes are stored in order, turn by turn
        e = int(data.episode_index[i])
        running[e] = running.get(e, 0.0) + float(data.rewards[i])
        to_go[i] = running[e]
    first = np.r_[True, data.episode_index[1:] != data.episode_index[:-1]]
    return {
        "mean_q_logged": float(q_logged.mean()),
        "mean_return_to_go": float(to_go.mean()),
        "mean_v_start": float(q.max(dim=1).values.numpy()[first].mean()),
        "over_estimate": float((q_logged - to_go).mean()),
    }
