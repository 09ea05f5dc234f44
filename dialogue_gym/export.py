"""Export episodes: Hugging Face ``datasets`` / Parquet, chat SFT records, offline-RL transitions.

- :func:`to_hf_dataset` / :func:`to_parquet`: one row per episode (messages, strategies, reward,
  status, configuration as JSON strings).
- :func:`sft_records`: conversational prompt-completion records, one per agent turn — the
  conversation so far (with the task as system prompt) as ``prompt`` and the agent's turn as
  ``completion``, so trainers (trl's SFTTrainer) put the loss on agent turns only.
- :func:`strategy_transitions`: arrays ``observations`` (the
  :class:`~dialogue_gym.wrappers.HistoryFeaturizer` of the conversation before each agent turn,
  exactly as an agent sees it at play time: turn ``j`` of the episode's ``max_turns``),
  ``actions`` (strategy index: the strategy classifier's first label of the spoken text, the
  same reading for recorded and rewritten turns), ``rewards`` (the episode's reward on its last
  agent turn), ``next_observations``, ``terminals`` — the format of offline RL libraries — and
  ``reward_sources`` (real, imagined by which model, or the oracle ablation).
- :func:`utterance_transitions`: the same at the utterance level, with text.

(:func:`strategy_transitions` lives with the offline datasets in
:mod:`dialogue_gym.agents.offline_data` and is re-exported here.)

Failed episodes and episodes without a reward are left out of SFT records and transitions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .agents.offline_data import strategy_transitions
from .episode import Episode, usable_episodes


def _domain(e: Episode) -> str:
    from .domains import env_domain

    return env_domain(e.env_id)


def to_rows(episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    """Flat rows (nested parts as lists of dicts or JSON strings), one per episode."""
    return [
        {
            "id": e.id,
            "env_id": e.env_id,
            "seed": e.seed,
            "reward": e.reward,
            "status": e.status,
            "reason": e.reason,
            "messages": e.messages,
            "strategies": [list(t.strategies) for t in e.turns],
            "agent": json.dumps(e.agent, sort_keys=True),
            "env_kwargs": json.dumps(e.env_kwargs, sort_keys=True),
            "outcome": json.dumps(e.outcome, sort_keys=True),
            "provenance": json.dumps(e.provenance, sort_keys=True) if e.provenance else "",
            "schema_version": e.schema_version,
        }
        for e in episodes
    ]


def to_hf_dataset(episodes: Sequence[Episode]):
    """A ``datasets.Dataset`` with one row per episode."""
    from datasets import Dataset

    return Dataset.from_list(to_rows(episodes))


def to_parquet(episodes: Sequence[Episode], path: str | Path) -> Path:
    """Write the episodes as a Parquet file."""
    path = Path(path)
    to_hf_dataset(episodes).to_parquet(str(path))
    return path


def sft_records(episodes: Sequence[Episode], system_prompt: bool = True) -> list[dict[str, Any]]:
    """Prompt-completion chat records, one per agent turn (loss on agent turns only)."""
    from .agents.prompting import chat_messages

    records = []
    for e in usable_episodes(episodes):
        msgs = e.messages
        for i in e.agent_turns:
            prompt = chat_messages(_domain(e), msgs[:i]) if system_prompt else msgs[:i]
            records.append(
                {
                    "prompt": prompt,
                    "completion": [msgs[i]],
                    "episode_id": e.id,
                    "reward": e.reward,
                    "reward_source": e.reward_source,
                    "strategies": list(e.turns[i].strategies),
                }
            )
    return records


def utterance_transitions(episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    """Utterance-level transitions: history text, agent utterance, reward, next history, done."""
    out = []
    for e in usable_episodes(episodes):
        msgs = e.messages
        idx = e.agent_turns
        for j, i in enumerate(idx):
            last = j == len(idx) - 1
            out.append(
                {
                    "episode_id": e.id,
                    "observation": msgs[:i],
                    "action": msgs[i]["content"],
                    "strategies": list(e.turns[i].strategies),
                    "reward": float(e.reward) if last else 0.0,
                    "reward_source": e.reward_source,
                    "next_observation": msgs[: i + 2],
                    "done": last,
                }
            )
    return out


__all__ = [
    "sft_records",
    "strategy_transitions",
    "to_hf_dataset",
    "to_parquet",
    "to_rows",
    "utterance_transitions",
]
