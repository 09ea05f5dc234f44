"""``Persuasion-v0``: persuade a simulated crowd worker to donate to Save the Children.

## Description
The PersuasionForGood setting (Wang et al., ACL 2019): the agent is the persuader, the simulated
user a crowd worker who may donate any part of a $2 task payment. The agent speaks first.

## Action space
The agent's utterance, a ``str`` (:class:`~dialogue_gym.spaces.UnicodeText`; utterances longer
than ``max_utterance_chars`` are cut to that length and ``info["action_truncated"]`` is set).

## Observation space
The conversation so far as text, one ``"Persuader: ..."`` / ``"Persuadee: ..."`` line per message.

## Rewards
0 on every step but the last; on the last, the donation in dollars, 0.00-2.00.

## Episode end
Terminated when the persuadee ends the chat (after agreeing and being thanked, or annoyed);
truncated after ``max_turns`` agent turns (default 10). The donation is decided either way.

## Info
``messages`` (chat format), ``turn``, ``max_turns``, ``domain``, ``strategies`` (what the agent's
last utterance expressed), ``outcome`` and ``end_reason`` at the end, and, with the embedded
simulator, ``privileged`` (hidden persona and state: for analysis and the oracle only).

## Arguments
See :class:`~dialogue_gym.envs.base.DialogueEnvConfig`.
"""

from __future__ import annotations

from .base import DialogueEnv


class PersuasionEnv(DialogueEnv):
    """Persuade the simulated user to donate (reward: dollars donated, 0-2)."""

    domain_name = "persuasion"
