"""dialogue-gym: Gymnasium environments, simulated users and agents for goal-directed dialogue.

``import dialogue_gym`` registers ``Persuasion-v0`` and ``Counseling-v0`` (:mod:`.domains`);
``gym.make("dialogue_gym:Persuasion-v0")`` imports this package first, so no prior import is
needed.
"""

from __future__ import annotations

from .comparison import compare
from .domains import Domain, domain_of, env_ids, register
from .evaluation import evaluate

__version__ = "0.1.0"
__all__ = ["Domain", "__version__", "compare", "domain_of", "env_ids", "evaluate", "register"]
