"""dialogue-gym: Gymnasium environments, simulated users and agents for goal-directed dialogue.

``import dialogue_gym`` registers ``Persuasion-v0`` and ``Counseling-v0``; ``gym.make(
"dialogue_gym:Persuasion-v0")`` imports this package first, so no prior import is needed.
"""

from __future__ import annotations

from .envs import ENV_IDS, register_envs
from .evaluation import compare, evaluate

__version__ = "0.1.0"
__all__ = ["ENV_IDS", "__version__", "compare", "evaluate", "register_envs"]

register_envs()
