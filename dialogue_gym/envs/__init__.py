"""Environment classes; their ids are registered with Gymnasium by :mod:`dialogue_gym.domains`."""

from __future__ import annotations

from .base import DialogueEnv, DialogueEnvConfig
from .counseling import CounselingEnv
from .persuasion import PersuasionEnv

__all__ = ["CounselingEnv", "DialogueEnv", "DialogueEnvConfig", "PersuasionEnv"]
