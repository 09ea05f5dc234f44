"""A hindsight controller learned from recorded episodes only: an offline critic over strategies.

What it knows: the recorded episodes' text, the strategy of each agent turn (as recorded, or as
the toolkit's strategy reader labels any utterance — the same reading the env gives every agent
turn) and the recorded outcomes. No table from any simulator.

The critic ``Q(s, a)`` is a Monte-Carlo regression of the episode's outcome (rewards are paid at
the end, undiscounted) on the state before an agent turn — the embeddings of the user's last turn
and the agent's previous turn, reduced by PCA, and the turn's position — crossed with the turn's
main strategy (ridge, strength chosen by cross-validation). For a completed episode, the turn
with the lowest advantage ``Q(s, a_taken) - max_a Q(s, a)`` is rewritten with the best-valued
strategy; the new words are an agent turn of that strategy from the data, said in the most
similar context (or the toolkit's own wording of the strategy where the data hold none).

Only strategies the data support *at that point of a dialogue* compete: seen at least
``min_support`` times overall and at least ``min_local`` times within ``window`` agent turns of
the turn being rewritten (a behaviour-support constraint, as in BCQ, Fujimoto et al. 2019). A
linear critic extrapolates freely where the data are silent: without the constraint it proposed a
late "have you heard of Save the Children?" for most failed P4G dialogues, a move people make in
the opening.

``moves="any"`` lifts the constraint: every move of the domain's taxonomy competes at every turn
(data that never try a move cannot teach its worth, so a critic that may only pick tried moves
can never find an untried one). A move the data never show enough is valued at the state's
baseline (its one-hot column is empty), said in the toolkit's own wording where the data hold no
line of it, and its proposal says it lies outside the data's support (``Proposal.in_support``),
so that the imagination's penalty, and its honesty, can be measured on such rewrites apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..domains import env_domain, env_key
from ..episode import Episode, Turn
from ..errors import InvalidInput
from ..simulators.classifier import get_classifier
from ..simulators.realizer import realize
from ..simulators.strategies import get_domain
from .base import HindsightController, Proposal, single_env, stable_seed
from .features import CachedEncoder, as_encoder, unit_rows

MOVES = ("supported", "any")
"""What the critic may propose: the moves the data support at that turn, or any in the taxonomy."""


class CriticController(HindsightController):
    """Rewrites the agent turn with the lowest advantage under an offline strategy critic."""

    name = "critic"

    def __init__(
        self,
        episodes: Sequence[Episode],
        encoder: str | CachedEncoder = "minilm",
        components: int = 16,
        min_support: int = 20,
        min_gain: float = 0.0,
        min_local: int = 5,
        window: int = 1,
        seed: int = 0,
        moves: str = "supported",
    ) -> None:
        from sklearn.decomposition import PCA
        from sklearn.linear_model import RidgeCV

        if moves not in MOVES:
            raise InvalidInput(f"moves must be one of {MOVES}, got {moves!r}")
        self.moves = moves
        usable = [e for e in episodes if e.status == "ok" and e.reward is not None and e.turns]
        self.env_id = single_env(usable, "a critic controller is fitted on")
        self.domain = env_domain(self.env_id)
        self.encoder = as_encoder(encoder)
        self.min_gain = min_gain
        self.min_local = min_local
        self.window = window
        self.seed = seed
        self.encoder.encode([t.text for e in usable for t in e.turns])
        states, actions, returns, texts, episode_of = [], [], [], [], []
        self._at: dict[str, list[int]] = {}  # agent-turn numbers where each strategy was used
        self._supported_at: dict[int, list[str]] = {}  # supported(k), counted once per k
        for n, e in enumerate(usable):
            k = -1
            for i, turn in enumerate(e.turns):
                if turn.role != "assistant":
                    continue
                k += 1
                label = self._label(turn)
                if label is None:
                    continue
                states.append(self._state(e.turns, i))
                actions.append(label)
                self._at.setdefault(label, []).append(k)
                returns.append(float(e.reward))
                texts.append(turn.text)
                episode_of.append(n)
        counts = {a: actions.count(a) for a in set(actions)}
        self.strategies = sorted(a for a, c in counts.items() if c >= min_support)
        if len(self.strategies) < 2:
            raise InvalidInput(
                f"the critic needs two strategies seen at least {min_support} times each; "
                f"got {counts}"
            )
        raw = np.array(states, dtype=np.float32)
        k = min(components, raw.shape[1] - 1, len(raw) - 1)
        self.pca = PCA(n_components=k, random_state=seed).fit(raw[:, :-1])
        x = self._design(raw, actions)
        self.q = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(x, np.array(returns))
        keep = [j for j, a in enumerate(actions) if a in self.strategies]
        self._said = {
            "keys": unit_rows(raw[keep, :-1]),
            "actions": [actions[j] for j in keep],
            "texts": [texts[j] for j in keep],
            "episode": np.array([usable[episode_of[j]].id for j in keep]),
        }
        self.n_samples = len(actions)

    # -- features ------------------------------------------------------------------------------

    def _label(self, turn: Turn) -> str | None:
        labels = list(turn.strategies) or list(get_classifier(self.domain).classify(turn.text))
        return labels[0] if labels else None

    def _state(self, turns: Sequence[Turn], i: int) -> np.ndarray:
        """The user's last turn and the agent's previous turn before ``turns[i]``, and i / 20."""
        user = next((t.text for t in reversed(turns[:i]) if t.role == "user"), "")
        agent = next((t.text for t in reversed(turns[:i]) if t.role == "assistant"), "")
        rows = self.encoder.encode([user, agent]) if user or agent else None
        dim = self.encoder.dim
        u = rows[0] if user else np.zeros(dim, np.float32)
        a = rows[1] if agent else np.zeros(dim, np.float32)
        return np.concatenate([u, a, [i / 20.0]]).astype(np.float32)

    def _design(self, raw: np.ndarray, actions: Sequence[str]) -> np.ndarray:
        z = np.hstack([self.pca.transform(raw[:, :-1]), raw[:, -1:]])
        onehot = np.zeros((len(actions), len(self.strategies)), dtype=np.float32)
        for r, a in enumerate(actions):
            if a in self.strategies:
                onehot[r, self.strategies.index(a)] = 1.0
        crossed = (onehot[:, :, None] * z[:, None, :]).reshape(len(actions), -1)
        return np.hstack([z, onehot, crossed])

    def supported(self, k: int) -> list[str]:
        """The strategies used at least ``min_local`` times within ``window`` of agent turn
        number ``k`` in the data (counted once per ``k``: the data do not change)."""
        known = self._supported_at
        if k not in known:
            known[k] = [
                a
                for a in self.strategies
                if sum(abs(j - k) <= self.window for j in self._at[a]) >= self.min_local
            ]
        return list(known[k])

    def taxonomy(self) -> list[str]:
        """Every move of the domain's taxonomy but its label for non-strategic talk."""
        domain = get_domain(self.domain)
        return [a for a in domain.strategies if a != domain.fallback]

    def values(self, turns: Sequence[Turn], i: int) -> dict[str, float]:
        """``Q(s_i, a)`` before agent turn ``turns[i]`` for every strategy the data support
        there (empty if none); with ``moves="any"``, for those and every move of the taxonomy
        (a move the critic never learned is valued at the state's baseline)."""
        k = sum(t.role == "assistant" for t in turns[:i])
        allowed = self.supported(k)
        if self.moves == "any":  # what is supported there, and every move of the taxonomy
            allowed = list(dict.fromkeys([*allowed, *self.taxonomy()]))
        if not allowed:
            return {}
        raw = np.repeat(self._state(turns, i)[None, :], len(allowed), axis=0)
        q = self.q.predict(self._design(raw, allowed))
        return dict(zip(allowed, map(float, q), strict=True))

    # -- proposing -----------------------------------------------------------------------------

    def _words(self, episode: Episode, turns: Sequence[Turn], i: int, strategy: str) -> str:
        said = self._said
        mask = np.array([a == strategy for a in said["actions"]]) & (said["episode"] != episode.id)
        if mask.any():
            key = unit_rows(self._state(turns, i)[:-1])
            sims = np.where(mask, said["keys"] @ key, -np.inf)
            return str(said["texts"][int(np.argmax(sims))])
        rng = np.random.default_rng(stable_seed(episode.id, i, strategy))
        return realize(self.domain, strategy, rng)

    def propose(self, episode: Episode, k: int = 1) -> list[Proposal]:
        """Up to ``k`` agent turns whose best alternative strategy gains more than ``min_gain``
        under the critic (default 0: any gain; on little data the ridge shrinks every gain
        toward 0, so the order still comes from the data), the largest gain first."""
        if env_key(episode.env_id) != self.env_id:
            raise InvalidInput(f"this controller was fitted on {self.env_id}; got {episode.env_id}")
        found = []
        for i, turn in enumerate(episode.turns):
            if turn.role != "assistant":
                continue
            q = self.values(episode.turns, i)
            if len(q) < 2:
                continue
            taken = self._label(turn)
            best = max(q, key=q.__getitem__)
            gain = q[best] - q.get(taken, min(q.values())) if taken != best else 0.0
            if gain > self.min_gain:
                found.append((gain, i, best, taken))
        found.sort(key=lambda f: -f[0])
        out = []
        for gain, i, best, taken in found[:k]:
            turn_k = sum(t.role == "assistant" for t in episode.turns[:i])
            supported = best in self.supported(turn_k)
            note = "" if supported else " (outside the data's support)"
            out.append(
                Proposal(
                    i,
                    self._words(episode, episode.turns, i, best),
                    best,
                    f"critic: {best} is worth {gain:+.3f} over {taken or 'the turn as said'}{note}",
                    priority=gain,
                    in_support=supported,
                )
            )
        return out

    def config(self) -> dict[str, Any]:
        """Name, encoder, strategies and training size (saved in provenance)."""
        return {
            "name": self.name,
            "encoder": self.encoder.spec,
            "strategies": self.strategies,
            "samples": self.n_samples,
            "min_gain": self.min_gain,
            "min_local": self.min_local,
            "window": self.window,
            "moves": self.moves,
        }
