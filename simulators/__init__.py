"""Simulated users: embedded latent-state simulators, personas, and the strategy classifier."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from .base import Dynamics, SimulatedUser, UserReply
from .strategies import COUNSELING, DOMAINS, PERSUASION, Domain, get_domain

__all__ = [
    "COUNSELING",
    "DOMAINS",
    "PERSUASION",
    "Domain",
    "Dynamics",
    "SimulatedUser",
    "UserReply",
    "SIMULATORS",
    "get_domain",
    "make_dynamics",
    "make_user",
]

SIMULATORS: tuple[str, ...] = ("embedded", "llm")
"""Simulator kinds ``make_user`` accepts."""


def make_user(
    domain: str, simulator: str = "embedded", llm: Any = None, llm_cache: bool = True
) -> SimulatedUser:
    """A simulated user for ``domain``: embedded, or played by the chat backend ``llm``."""
    get_domain(domain)
    if simulator not in SIMULATORS:
        raise InvalidInput(f"unknown simulator {simulator!r}; allowed: {', '.join(SIMULATORS)}")
    if simulator == "llm":
        from ..llm.spec import make_backend
        from .llm_user import LLMUser

        if llm is None:
            raise InvalidInput("simulator='llm' needs llm= (a backend spec such as local:smollm2)")
        return LLMUser(domain, make_backend(llm, cache=llm_cache))
    if domain == "persuasion":
        from .persuasion_user import PersuasionUser

        return PersuasionUser()
    from .counseling_user import CounselingUser

    return CounselingUser()


def make_dynamics(domain: str, persona: dict[str, Any]) -> Dynamics:
    """The embedded simulator's dynamics for a persona given as a dict (oracle planning)."""
    if get_domain(domain).name == "persuasion":
        from .personas import PersuasionPersona
        from .persuasion import PersuasionDynamics

        return PersuasionDynamics(PersuasionPersona.from_dict(persona))
    from .counseling import CounselingDynamics
    from .personas import CounselingPersona

    return CounselingDynamics(CounselingPersona.from_dict(persona))
