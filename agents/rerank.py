"""Value-guided reranking for models reached only through an API (or any chat backend).

The agent samples K candidate replies from a backend, scores each with an utterance-level critic
``Q(s, u)`` trained offline, and says the best. The critic is IQL (Kostrikov et al. 2021) on
sentence embeddings, over the utterance-level transitions of
:func:`dialogue_gym.export.utterance_transitions`:

- state ``s``: the embedding of the last ``context_messages`` messages (speaker-tagged) and the
  agent turn index / 10; action ``u``: the embedding of the agent's utterance;
- ``L_V = E[ |tau - 1(x < 0)| x^2 ]``, ``x = Q_target(s, u) - V(s)`` (expectile regression);
- ``L_Q = E[ (r + gamma (1 - done) V(s') - Q(s, u))^2 ]``;
- optional conservative term (``cql_alpha > 0``; CQL, Kumar et al. 2020, with sampled actions):
  ``cql_alpha * E[ log sum_{u' in {u} + N(s)} exp Q(s, u') - Q(s, u) ]``, where ``N(s)`` are
  ``cql_negatives`` utterances said in *other* conversations of the data.

What expectile regression does and does not do: it keeps the *training targets* in the data's
support (V never takes a max over unseen utterances), so Q is not inflated by its own
extrapolation during training. It says nothing about Q of an utterance unlike any in the data —
exactly what a candidate from another model may be — where the network extrapolates freely.
The conservative term pushes Q down on utterances that do not belong to the conversation, so an
off-support candidate is scored low rather than arbitrarily. By name:
``rerank:llm=SPEC,critic=DIR,k=4``; train the critic with ``dialogue-gym train --algo critic``
(``--critic-cql ALPHA`` for the conservative term).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..files import atomic_dir
from ..llm.base import ChatBackend
from .encoders import Encoder, make_encoder
from .learned import DEFAULT_THREADS, expectile_loss, mlp, polyak_update, seeded_training
from .prompting import PromptingAgent

SPEAKERS = {"assistant": "Agent", "user": "User"}


@dataclass
class CriticArgs:
    """Hyperparameters of the utterance-level IQL critic."""

    steps: int = 2000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per step."""
    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 1.0
    """Discount per agent utterance (1: short episodes, undiscounted evaluation)."""
    expectile: float = 0.7
    """tau of the expectile loss of V."""
    polyak: float = 0.005
    """Rate of the target Q's moving average."""
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    """MLP hidden sizes of Q and V."""
    context_messages: int = 4
    """Messages of history the state embeds."""
    cql_alpha: float = 0.0
    """Weight of the conservative term (0: plain IQL critic)."""
    cql_negatives: int = 16
    """Utterances from other conversations per state in the conservative term."""
    seed: int = 0
    """Torch and sampling seed."""
    threads: int | None = DEFAULT_THREADS
    """torch threads while training (None: leave torch's setting)."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0 or self.context_messages < 1:
            raise InvalidInput("need steps, batch_size, context_messages >= 1 and lr > 0")
        if not 0 < self.expectile < 1:
            raise InvalidInput(f"expectile must be in (0, 1), got {self.expectile}")
        if self.cql_alpha < 0 or self.cql_negatives < 1:
            raise InvalidInput(
                f"need cql_alpha >= 0 and cql_negatives >= 1, got {self.cql_alpha}, "
                f"{self.cql_negatives}"
            )


def context_text(messages: list[dict[str, str]], n: int) -> str:
    """The last ``n`` messages as speaker-tagged lines (empty at the start)."""
    return "\n".join(f"{SPEAKERS.get(m['role'], m['role'])}: {m['content']}" for m in messages[-n:])


def _agent_turns(messages: list[dict[str, str]]) -> int:
    return sum(m["role"] == "assistant" for m in messages)


class Featurizer:
    """States and actions of the critic as vectors, with an embedding cache per text."""

    def __init__(self, encoder: Encoder, context_messages: int) -> None:
        self.encoder, self.n = encoder, context_messages
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str], remember: bool = True) -> np.ndarray:
        """Embeddings of ``texts``, encoding each distinct new text once; ``remember=False``
        (play time, where texts rarely recur) leaves the cache as it is."""
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        rows = dict(zip(new, self.encoder.encode(new), strict=True)) if new else {}
        if remember:
            self._cache.update(rows)
        if not texts:
            return np.zeros((0, self.dim_u))
        return np.stack([rows[t] if t in rows else self._cache[t] for t in texts])

    @property
    def dim_u(self) -> int:
        """Size of an action vector."""
        return self.encoder.dim

    @property
    def dim_s(self) -> int:
        """Size of a state vector."""
        return self.encoder.dim + 1

    def states(
        self, histories: Sequence[list[dict[str, str]]], remember: bool = True
    ) -> np.ndarray:
        """State vectors of conversation histories."""
        emb = self.embed([context_text(h, self.n) for h in histories], remember)
        turns = np.array([[_agent_turns(h) / 10.0] for h in histories], dtype=np.float32)
        return np.concatenate([emb, turns], axis=1).astype(np.float32)


def _critic_nets(dim_s: int, dim_u: int, hidden: list[int]) -> tuple[Any, Any]:
    return mlp(dim_s + dim_u, hidden, 1), mlp(dim_s, hidden, 1)


def train_critic(
    transitions: Sequence[dict[str, Any]], encoder: Encoder, args: CriticArgs | None = None
) -> tuple[Any, dict[str, Any]]:
    """Fit Q(s, u) and V(s) by IQL on utterance-level transitions; returns (critic, log)."""
    import torch
    import torch.nn.functional as F

    args = args or CriticArgs()
    if not transitions:
        raise InvalidInput("no transitions to train the critic on")
    start = time.perf_counter()
    feat = Featurizer(encoder, args.context_messages)
    s = torch.from_numpy(feat.states([t["observation"] for t in transitions]))
    u = torch.from_numpy(feat.embed([t["action"] for t in transitions]).astype(np.float32))
    s2 = torch.from_numpy(feat.states([t["next_observation"] for t in transitions]))
    r = torch.tensor([float(t["reward"]) for t in transitions])
    done = torch.tensor([float(t["done"]) for t in transitions])
    encode_s = time.perf_counter() - start
    episode = np.array([str(t.get("episode_id", n)) for n, t in enumerate(transitions)])
    with seeded_training(args.seed, args.threads) as rng:
        q, v = _critic_nets(feat.dim_s, feat.dim_u, args.hidden)
        q_target = copy.deepcopy(q).requires_grad_(False)
        opt_q = torch.optim.Adam(q.parameters(), lr=args.lr)
        opt_v = torch.optim.Adam(v.parameters(), lr=args.lr)
        log: dict[str, list[float]] = {"q": [], "v": [], "cql": []}
        for _ in range(args.steps):
            i = torch.from_numpy(rng.integers(0, len(r), size=args.batch_size))
            su = torch.cat([s[i], u[i]], dim=1)
            with torch.no_grad():
                q_t = q_target(su).squeeze(1)
            x = q_t - v(s[i]).squeeze(1)
            loss_v = expectile_loss(x, args.expectile)
            opt_v.zero_grad()
            loss_v.backward()
            opt_v.step()
            with torch.no_grad():
                y = r[i] + args.gamma * (1 - done[i]) * v(s2[i]).squeeze(1)
            q_data = q(su).squeeze(1)
            loss_q = F.mse_loss(q_data, y)
            loss_cql = torch.zeros(())
            if args.cql_alpha > 0:
                loss_cql = _conservative_term(q, s, u, i.numpy(), q_data, episode, rng, args)
            opt_q.zero_grad()
            (loss_q + args.cql_alpha * loss_cql).backward()
            opt_q.step()
            polyak_update(q, q_target, args.polyak)
            log["q"].append(loss_q.item())
            log["v"].append(loss_v.item())
            log["cql"].append(loss_cql.item())
    critic = UtteranceCritic(q, v, feat, args)
    figures = {
        "transitions": len(r),
        "encode_seconds": encode_s,
        "seconds": time.perf_counter() - start,
    }
    return critic, {**log, **figures}


def _conservative_term(
    q: Any,
    s: Any,
    u: Any,
    i: np.ndarray,
    q_data: Any,
    episode: np.ndarray,
    rng: np.random.Generator,
    args: CriticArgs,
) -> Any:
    """``E[ logsumexp(Q(s, u), Q(s, n_1..n_K)) - Q(s, u) ]`` with ``n_k`` utterances drawn from
    other conversations (a draw from the same one is redrawn once, then kept: rare)."""
    import torch

    neg = rng.integers(0, len(u), size=(len(i), args.cql_negatives))
    same = episode[neg] == episode[i][:, None]
    neg[same] = rng.integers(0, len(u), size=int(same.sum()))
    k = args.cql_negatives
    s_rep = s[i].repeat_interleave(k, dim=0)
    q_neg = q(torch.cat([s_rep, u[torch.from_numpy(neg.ravel())]], dim=1)).view(len(i), k)
    return (torch.logsumexp(torch.cat([q_data[:, None], q_neg], dim=1), dim=1) - q_data).mean()


class UtteranceCritic:
    """Q(s, u) and V(s) over embedded histories and utterances."""

    def __init__(self, q: Any, v: Any, featurizer: Featurizer, args: CriticArgs) -> None:
        self.q, self.v, self.feat, self.args = q.eval(), v.eval(), featurizer, args

    def scores(self, history: list[dict[str, str]], candidates: list[str]) -> np.ndarray:
        """Q(s, u) of each candidate reply after ``history``."""
        import torch

        s = np.repeat(self.feat.states([history], remember=False), len(candidates), axis=0)
        u = self.feat.embed(candidates, remember=False).astype(np.float32)
        with torch.no_grad():
            return self.q(torch.from_numpy(np.concatenate([s, u], axis=1))).squeeze(1).numpy()

    def value(self, histories: Sequence[list[dict[str, str]]]) -> np.ndarray:
        """V(s) of each history."""
        import torch

        with torch.no_grad():
            states = self.feat.states(histories, remember=False)
            return self.v(torch.from_numpy(states)).squeeze(1).numpy()

    def save(self, path: str | Path, log: dict[str, Any] | None = None) -> Path:
        """Write ``critic.pt`` and ``critic.json`` into the folder ``path`` (atomically)."""
        import torch

        figures = {k: v for k, v in (log or {}).items() if not isinstance(v, list)}
        with atomic_dir(path) as tmp:
            torch.save({"q": self.q.state_dict(), "v": self.v.state_dict()}, tmp / "critic.pt")
            (tmp / "critic.json").write_text(
                json.dumps(
                    {
                        "algo": "critic",
                        "encoder": self.feat.encoder.spec(),
                        "args": asdict(self.args),
                        **figures,
                    },
                    indent=1,
                )
            )
        return Path(path)


def load_critic(path: str | Path) -> UtteranceCritic:
    """The critic saved by :meth:`UtteranceCritic.save`."""
    import torch

    path = Path(path)
    if not (path / "critic.json").is_file():
        raise InvalidInput(f"{path} is not a critic folder (no critic.json)")
    raw = json.loads((path / "critic.json").read_text())
    args = CriticArgs(**raw["args"])
    feat = Featurizer(make_encoder(raw["encoder"]), args.context_messages)
    q, v = _critic_nets(feat.dim_s, feat.dim_u, args.hidden)
    state = torch.load(path / "critic.pt", weights_only=True)
    q.load_state_dict(state["q"])
    v.load_state_dict(state["v"])
    return UtteranceCritic(q, v, feat, args)


class RerankAgent(PromptingAgent):
    """Sample ``k`` replies from a chat backend, say the one the critic scores highest."""

    name = "rerank"

    def __init__(
        self,
        domain: str,
        llm: str | ChatBackend,
        critic: str | UtteranceCritic,
        k: int = 4,
        temperature: float = 1.0,
        max_tokens: int = 100,
        cache: bool = True,
        seed: int | None = None,
    ) -> None:
        if k < 1:
            raise InvalidInput(f"k must be >= 1, got {k}")
        self.critic = load_critic(critic) if isinstance(critic, str | Path) else critic
        super().__init__(domain, llm, temperature, max_tokens, cache, seed)
        self.k = k
        self.last_candidates: list[tuple[str, float]] = []

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The best of ``k`` sampled replies by the critic's Q."""
        messages = self._history(info)
        texts = [
            self.backend.chat(messages, self.params, self._request_seed(k)).text.strip()
            for k in range(self.k)
        ]
        texts = [t for t in texts if t] or [""]
        scores = self.critic.scores(list(info.get("messages", [])), texts)
        self.last_candidates = list(zip(texts, map(float, scores), strict=True))
        self.turn += 1
        return texts[int(np.argmax(scores))]

    def config(self) -> dict[str, Any]:
        """The prompting config plus k and the critic's encoder."""
        return {**super().config(), "k": self.k, "critic_encoder": self.critic.feat.encoder.spec()}
