"""Environment classes and their registration with Gymnasium."""

from __future__ import annotations

import gymnasium as gym

from .base import DialogueEnv, DialogueEnvConfig
from .counseling import CounselingEnv
from .persuasion import PersuasionEnv

ENV_IDS: dict[str, str] = {
    "Persuasion-v0": "dialogue_gym.envs.persuasion:PersuasionEnv",
    "Counseling-v0": "dialogue_gym.envs.counseling:CounselingEnv",
}
"""Registered ids and their entry points."""

__all__ = ["ENV_IDS", "CounselingEnv", "DialogueEnv", "DialogueEnvConfig", "PersuasionEnv"]


def register_envs() -> None:
    """Register every dialogue-gym environment id (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=None)
