"""A forward model learned from recorded dialogues only: continue a dialogue with turns people
(or simulated users) actually said, retrieved by the nearest dialogue context.

What it knows: the recorded episodes it indexes — nothing of any simulator, persona or
evaluator. Both sides are empirical:

- the user's reply to an agent turn is a reply that followed the most similar agent turn (in a
  similar context) *from a similar person* in the data: key = the agent turn's embedding plus
  half the user's previous turn, beside the mean of everything this user said so far (weight
  ``persona_weight``), by cosine, with a small penalty for a different position in the dialogue;
- the agent's next turn is the behaviour policy's: a turn that followed the most similar user
  turn in the data.

One of the ``top_k`` nearest is drawn (softmax over similarity / ``temperature``, seeded), never
from the episode being continued (its own future would leak the original outcome; an index of a
bootstrap resample, :mod:`.forward_ensemble`, excludes every copy of it). The dialogue
ends where a retrieved reply ended its own dialogue, or at the source episode's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..domains import env_key
from ..episode import Episode, Turn
from ..errors import InvalidInput
from .base import Continuation, ForwardModel, single_env
from .features import CachedEncoder, as_encoder, unit_rows

POSITION_PENALTY = 0.01
"""Cosine given up per turn of distance between the query's and the candidate's position."""


@dataclass
class _Index:
    keys: np.ndarray  # unit rows
    positions: np.ndarray
    texts: list[str]
    strategies: list[list[str]]
    terminal: np.ndarray
    episode: np.ndarray  # index of the source episode of each row
    _cast: dict = field(default_factory=dict)

    def keys_as(self, dtype: np.dtype) -> np.ndarray:
        """The keys in the query's ``dtype``, cast once. A float32 matrix times a float64 query
        (the user index's, whose persona part is float64) would copy the whole matrix on every
        draw; casting once gives the same products without the copies."""
        if self.keys.dtype == dtype:
            return self.keys
        if dtype not in self._cast:
            self._cast[dtype] = self.keys.astype(dtype)
        return self._cast[dtype]


class RetrievalForwardModel(ForwardModel):
    """Continues a dialogue by nearest-context retrieval from recorded episodes (see module)."""

    name = "retrieval"

    def __init__(
        self,
        episodes: Sequence[Episode],
        encoder: str | CachedEncoder = "minilm",
        top_k: int = 5,
        temperature: float = 0.05,
        persona_weight: float = 1.0,
    ) -> None:
        usable = [e for e in episodes if e.status == "ok" and len(e.turns) >= 2]
        self.env_id = single_env(usable, "a retrieval forward model indexes")
        if top_k < 1 or temperature <= 0:
            raise InvalidInput(f"need top_k >= 1 and temperature > 0; got {top_k}, {temperature}")
        self.encoder = as_encoder(encoder)
        self.top_k = top_k
        self.temperature = temperature
        self.persona_weight = persona_weight
        self._ids: dict[str, int] = {}  # an episode's first position: repeats share it
        for i, e in enumerate(usable):
            self._ids.setdefault(e.id, i)
        self.user = self._build(usable, "user")
        self.agent = self._build(usable, "assistant")
        if not len(self.user.texts) or not len(self.agent.texts):
            raise InvalidInput("the episodes hold no agent turn followed by a user reply")

    def _key(self, turns: Sequence[Turn], i: int, role: str) -> np.ndarray:
        """The context of the reply at ``turns[i]``: the turn before it plus half the one before
        that; for a user reply, beside it (weighted by ``persona_weight``) the mean of what this
        user said before, so that the reply comes from someone who talked like them."""
        rows = self.encoder.encode([t.text for t in turns[max(0, i - 2) : i]])
        key = rows[-1].copy()
        if len(rows) == 2:
            key += 0.5 * rows[0]
        key = unit_rows(key)
        if role != "user" or self.persona_weight <= 0:
            return key
        said = self.encoder.encode([t.text for t in turns[:i] if t.role == "user"])
        who = unit_rows(said.mean(axis=0)) if len(said) else np.zeros_like(key)
        return np.concatenate([key, np.sqrt(self.persona_weight) * who])

    def _build(self, episodes: Sequence[Episode], role: str) -> _Index:
        other = "assistant" if role == "user" else "user"
        # embed every text once, in one batch
        self.encoder.encode([t.text for e in episodes for t in e.turns])
        keys, pos, texts, strategies, terminal, ep = [], [], [], [], [], []
        for e in episodes:
            last = max((i for i, t in enumerate(e.turns) if t.role == role), default=-1)
            for i in range(1, len(e.turns)):
                if e.turns[i].role != role or e.turns[i - 1].role != other:
                    continue
                keys.append(self._key(e.turns, i, role))
                pos.append(i)
                texts.append(e.turns[i].text)
                strategies.append(list(e.turns[i].strategies))
                terminal.append(i == last)
                ep.append(self._ids[e.id])
        return _Index(
            unit_rows(np.array(keys, dtype=np.float32).reshape(len(keys), -1)),
            np.array(pos),
            texts,
            strategies,
            np.array(terminal, dtype=bool),
            np.array(ep),
        )

    def _draw(
        self, index: _Index, turns: Sequence[Turn], exclude: int, rng: np.random.Generator
    ) -> int:
        role = "user" if index is self.user else "assistant"
        query = unit_rows(self._key(turns, len(turns), role))
        near = index.keys_as(query.dtype) @ query
        sims = near - POSITION_PENALTY * np.abs(index.positions - len(turns))
        sims[index.episode == exclude] = -np.inf
        k = min(self.top_k, int(np.isfinite(sims).sum()))
        if k == 0:
            raise InvalidInput("nothing to retrieve: the index holds only the episode itself")
        top = np.argpartition(-sims, k - 1)[:k]
        w = np.exp((sims[top] - sims[top].max()) / self.temperature)
        return int(top[rng.choice(k, p=w / w.sum())])

    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """Alternate retrieved user replies and behaviour-policy agent turns after ``prefix``
        until a retrieved reply ended its dialogue or the source episode's length is reached."""
        if env_key(episode.env_id) != self.env_id:
            raise InvalidInput(f"this forward model indexes {self.env_id}; got {episode.env_id}")
        rng = np.random.default_rng(seed)
        exclude = self._ids.get(episode.id, -1)
        target = max(len(episode.turns), len(prefix) + 1)
        turns = list(prefix)
        new: list[Turn] = []
        sources: list[str] = []
        while len(turns) < target:
            role = "user" if turns[-1].role == "assistant" else "assistant"
            index = self.user if role == "user" else self.agent
            j = self._draw(index, turns, exclude, rng)
            turn = Turn(role, index.texts[j], list(index.strategies[j]))
            turns.append(turn)
            new.append(turn)
            sources.append(f"{role}:{int(index.episode[j])}:{int(index.positions[j])}")
            if role == "user" and index.terminal[j]:
                break
        return Continuation(new, {"retrieved_from": sources})

    def config(self) -> dict[str, Any]:
        """Name, encoder, index size and sampling (saved in provenance)."""
        return {
            "name": self.name,
            "oracle": False,
            "encoder": self.encoder.spec,
            "user_replies": len(self.user.texts),
            "agent_turns": len(self.agent.texts),
            "top_k": self.top_k,
            "temperature": self.temperature,
            "persona_weight": self.persona_weight,
        }
