"""``Counseling-v0``: support a simulated help-seeker in emotional distress.

## Description
The ESConv setting (Liu et al., ACL 2021): the agent is the supporter, the simulated user a
help-seeker with a problem (job crisis, breakup, ongoing depression, ...), an emotion and an
emotional intensity from 1 to 5. The help-seeker speaks first.

## Action space
The agent's utterance, a ``str`` (:class:`~dialogue_gym.spaces.UnicodeText`; utterances longer
than ``max_utterance_chars`` are cut to that length and ``info["action_truncated"]`` is set).

## Observation space
The conversation so far as text, one ``"Seeker: ..."`` / ``"Supporter: ..."`` line per message.

## Rewards
0 on every step but the last; on the last, the reduction of emotional intensity (initial minus
final, on the 1-5 scale: from -4 to 4).

## Episode end
Terminated when the help-seeker ends the chat (feeling better, or put off); truncated after
``max_turns`` agent turns (default 10).

## Info
As for ``Persuasion-v0``, plus ``safety_flag``: True on a step whose user turn mentions
self-harm; a competent agent answers with care and points to crisis resources.

## Arguments
See :class:`~dialogue_gym.envs.base.DialogueEnvConfig`.
"""

from __future__ import annotations

from typing import Any

from .base import DialogueEnv


class CounselingEnv(DialogueEnv):
    """Support the simulated help-seeker (reward: reduction in emotional intensity)."""

    domain_name = "counseling"

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """As :meth:`DialogueEnv.step`, flagging user turns that mention self-harm."""
        obs, reward, terminated, truncated, info = super().step(action)
        info["safety_flag"] = bool(info["user"].get("risk", False))
        return obs, reward, terminated, truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """As :meth:`DialogueEnv.reset`; the help-seeker's opening line is in the observation."""
        obs, info = super().reset(seed=seed, options=options)
        info["safety_flag"] = False
        return obs, info
