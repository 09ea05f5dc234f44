"""Simulated users: embedded latent-state simulators, personas, and the strategy classifier."""

from __future__ import annotations

from typing import Any

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

SIMULATORS: tuple[str, ...] = ("embedded",)
"""Simulator kinds ``make_user`` accepts."""


def make_user(domain: str, simulator: str = "embedded", **kwargs: Any) -> SimulatedUser:
    """A simulated user for ``domain`` of the given kind."""
    get_domain(domain)
    if simulator != "embedded":
        raise ValueError(f"unknown simulator {simulator!r}; allowed: {', '.join(SIMULATORS)}")
    if kwargs:
        raise ValueError(f"the embedded simulator takes no options, got {sorted(kwargs)}")
    if domain == "persuasion":
        from .persuasion import PersuasionUser

        return PersuasionUser()
    from .counseling import CounselingUser

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
