"""Hindsight regeneration (Hong et al. 2024): controllers, forward models, reward models,
``regenerate``, the ``HindsightRelabel`` wrapper and DPO preference pairs.

What each component knows:

- learned from recorded episodes only (the default; what a user applies to their own data):
  :class:`CriticController`, :class:`RetrievalForwardModel`, :class:`LearnedRewardModel`
  (and :class:`EnsembleRewardModel`, K of them scored pessimistically by their disagreement;
  :class:`EnsembleForwardModel`, K retrievals on bootstrap resamples; :class:`PenalizedImagination`,
  both ensembles, an imagined dialogue penalized by the disagreement of both);
- privileged (labelled ablations): :class:`TranscriptController` (strategy tables that mirror the
  simulator's effect tables), :class:`PrivilegedDynamicsForwardModel` and
  :class:`PrivilegedDynamicsRewardModel` (the simulator's own dynamics and persona prior);
  :class:`TrueEnvForwardModel` / :class:`TrueEnvRewardModel` (the evaluation env itself);
- LLM components (:mod:`.llm`): whatever the model knows, told only the transcript.

:func:`anchored_relabel` (``regenerate(..., anchor_draws=N)``) values a rewrite as its source's
recorded outcome plus the effect of the change the imagination sees, less the ensemble's penalty.
"""

from __future__ import annotations

from .anchored import anchored_relabel
from .base import Continuation, ForwardModel, HindsightController, Proposal, RewardModel
from .critic import CriticController
from .embedded import (
    PrivilegedDynamicsForwardModel,
    PrivilegedDynamicsRewardModel,
    TranscriptController,
)
from .forward_ensemble import EnsembleForwardModel, PenalizedImagination
from .learned_reward import LearnedRewardModel
from .oracle import TrueEnvForwardModel, TrueEnvRewardModel, replay_in_true_env
from .regenerate import is_unsuccessful, preference_pairs, regenerate
from .relabel import HindsightRelabel
from .retrieval import RetrievalForwardModel
from .reward_ensemble import EnsembleRewardModel

__all__ = [
    "Continuation",
    "CriticController",
    "EnsembleForwardModel",
    "EnsembleRewardModel",
    "ForwardModel",
    "HindsightController",
    "HindsightRelabel",
    "LearnedRewardModel",
    "PenalizedImagination",
    "PrivilegedDynamicsForwardModel",
    "PrivilegedDynamicsRewardModel",
    "Proposal",
    "RetrievalForwardModel",
    "RewardModel",
    "TranscriptController",
    "TrueEnvForwardModel",
    "TrueEnvRewardModel",
    "anchored_relabel",
    "is_unsuccessful",
    "preference_pairs",
    "regenerate",
    "replay_in_true_env",
]
