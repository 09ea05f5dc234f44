"""Hindsight regeneration (Hong et al. 2024): controllers, forward models, reward models,
``regenerate``, the ``HindsightRelabel`` wrapper and DPO preference pairs."""

from __future__ import annotations

from .base import Continuation, ForwardModel, HindsightController, Proposal, RewardModel
from .embedded import ImaginationForwardModel, ImaginationRewardModel, TranscriptController
from .oracle import TrueEnvForwardModel, TrueEnvRewardModel, replay_in_true_env
from .regenerate import is_unsuccessful, preference_pairs, regenerate
from .relabel import HindsightRelabel

__all__ = [
    "Continuation",
    "ForwardModel",
    "HindsightController",
    "HindsightRelabel",
    "ImaginationForwardModel",
    "ImaginationRewardModel",
    "Proposal",
    "RewardModel",
    "TranscriptController",
    "TrueEnvForwardModel",
    "TrueEnvRewardModel",
    "is_unsuccessful",
    "preference_pairs",
    "regenerate",
    "replay_in_true_env",
]
