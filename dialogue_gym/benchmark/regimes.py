"""Behaviour-data regimes: where the offline data come from, and how much of the moves they cover.

- ``human-like``: the noisy reactive scripted flow (the benchmark's default behaviour policy). It
  tries every strategy in every context, so a hindsight rewrite has little new to show.
- ``narrow``: ``corpus-mix``, which makes each move at each turn as often as the real people of
  the train corpora do (as the envs' reader reads them), without reacting: a move people rarely
  make at a point is rare there in the data too (how much of the grid each regime covers is
  measured by ``benchmarks/bench_regimes.py``).
- ``real``: the real train dialogues themselves (817 P4G persuasions with their real donations;
  the ESConv train conversations with their real intensity drops), consecutive turns of one
  speaker joined into one turn as the envs alternate them. Needs the corpora.

:func:`coverage` says how much of the (agent turn, strategy) grid a dataset shows, read as the
offline learners read it (the reader's first label of each agent turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..domains import env_domain
from ..episode import Episode, Turn
from ..errors import InvalidInput

REGIMES = ("human-like", "narrow", "real")
REGIME_AGENTS = {"human-like": "human-like", "narrow": "corpus-mix"}
"""The behaviour policy that generates each simulated regime."""
COVERAGE_TURNS = 10
"""Agent turns with their own column of the grid (the envs' default ``max_turns``); later turns
count in the last."""
MIN_SUPPORT = 5
"""Uses of a strategy at a turn for its cell to count as supported."""


def check_regime(regime: str) -> str:
    """``regime`` if it is one of :data:`REGIMES`, else a clear error."""
    if regime not in REGIMES:
        raise InvalidInput(f"unknown behaviour regime {regime!r}; allowed: {', '.join(REGIMES)}")
    return regime


def joined_turns(turns: Sequence[Turn]) -> list[Turn]:
    """Consecutive turns of one speaker joined into one (texts stripped and joined with a space,
    labels united; empty turns dropped). Stripped, because an agent's reply is stripped when it
    plays, and a chat template reads leading spaces after its role header as part of the header
    (SFT could not then mask the prompt)."""
    out: list[Turn] = []
    for t in turns:
        text = t.text.strip()
        if not text:
            continue
        if out and out[-1].role == t.role:
            last = out[-1]
            labels = last.strategies + [s for s in t.strategies if s not in last.strategies]
            out[-1] = Turn(t.role, f"{last.text} {text}", labels, last.timestamp)
        else:
            out.append(Turn(t.role, text, list(t.strategies), t.timestamp))
    return out


def real_episodes(env_id: str, data_dir: str | Path, max_turns: int | None = None) -> list[Episode]:
    """The real train dialogues of ``env_id``'s corpus, with their real outcome, turns joined
    (:func:`joined_turns`); dialogues without an outcome are left out. With ``max_turns``, each
    keeps its first ``max_turns`` agent turns and the replies to them, as if played under that
    limit (so a learner reads them as it reads the env's episodes), with the real outcome."""
    from ..loaders import load_esconv_jsonl, load_p4g_json

    data_dir = Path(data_dir)
    if env_domain(env_id) == "persuasion":
        episodes = load_p4g_json(data_dir / "p4g" / "train.json")
    else:
        episodes = load_esconv_jsonl(data_dir / "esconv" / "esconv_train.jsonl")
    out = []
    for e in episodes:
        if e.reward is None:
            continue
        e.turns = joined_turns(e.turns)
        if max_turns is not None:
            e.turns = _first_agent_turns(e.turns, max_turns)
            e.env_kwargs = {**e.env_kwargs, "max_turns": max_turns}
        if any(t.role == "assistant" for t in e.turns):
            out.append(e)
    return out


def _first_agent_turns(turns: list[Turn], n: int) -> list[Turn]:
    """``turns`` up to the reply to the ``n``-th agent turn."""
    out, agent = [], 0
    for t in turns:
        if t.role == "assistant":
            if agent == n:
                break
            agent += 1
        out.append(t)
    return out


def coverage(episodes: Sequence[Any], domain: str) -> dict[str, Any]:
    """How much of the (agent turn, strategy) grid ``episodes`` (anything with chat-format
    ``messages``: an :class:`Episode`, a played episode) show: the share of cells seen at
    all and seen at least :data:`MIN_SUPPORT` times, the entropy (nats) of the strategies over
    all turns, and each strategy's share. Each agent turn counts once, as the reader's first
    label of its text (the action an offline learner sees)."""
    from ..simulators.classifier import get_classifier
    from ..simulators.strategies import get_domain

    names = get_domain(domain).strategies
    clf = get_classifier(domain)
    counts = np.zeros((COVERAGE_TURNS, len(names)))
    for e in episodes:
        agent = [m["content"] for m in e.messages if m["role"] == "assistant"]
        for j, text in enumerate(agent):
            counts[min(j, COVERAGE_TURNS - 1), names.index(clf.classify(text)[0])] += 1
    total = counts.sum()
    if total == 0:
        raise InvalidInput("no agent turns to measure the coverage of")
    shares = counts.sum(0) / total
    nz = shares[shares > 0]
    return {
        "agent_turns": int(total),
        "cells_seen": float((counts > 0).mean()),
        "cells_supported": float((counts >= MIN_SUPPORT).mean()),
        "entropy_nats": float(-(nz * np.log(nz)).sum()),
        "max_entropy_nats": float(np.log(len(names))),
        "shares": {n: float(s) for n, s in zip(names, shares, strict=True)},
    }
