"""The one table of facts about each environment: id, roles, reward range and units, success.

Every part of the package that needs to know something about an env id (the evaluation harness,
hindsight, the benchmark, the CLI, the simulators' checks) reads it here, through
:func:`domain_of` (by env id) or :func:`domain_named` (by domain name). Each env's strategy
taxonomy lives in :mod:`dialogue_gym.simulators.strategies`, under the same domain name.

A new environment is one module (its ``gymnasium.Env`` class) plus one :func:`register` call.
The env takes text actions, accepts ``privileged_info`` (the harness passes ``False`` to every
agent not registered as privileged) and reports ``info["turn"]``, ``info["messages"]`` (chat
format), ``info["strategies"]`` and, at the end, ``info["end_reason"]``::

    register(Domain(env_id="Tutoring-v0", name="tutoring", entry_point="my_pkg.env:TutorEnv",
                    agent_role="Tutor", user_role="Student", reward_range=(0.0, 1.0),
                    units="share of the quiz answered", success=lambda reward, info: reward > 0.5))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from .errors import InvalidInput


@dataclass(frozen=True)
class Domain:
    """One environment: its registered id, the domain name its tables are keyed by, who speaks,
    what its return means, and when an episode counts as a success."""

    env_id: str
    """The registered Gymnasium id, e.g. ``Persuasion-v0``."""
    name: str
    """The domain name the strategy taxonomy and the simulator's tables use, e.g. ``persuasion``."""
    entry_point: str
    """``module:Class`` of the env, as ``gymnasium.register`` takes it."""
    agent_role: str
    """What the agent is called in transcripts (``Persuader``)."""
    user_role: str
    """What the simulated user is called in transcripts (``Persuadee``)."""
    reward_range: tuple[float, float]
    """The lowest and highest final reward; imagined rewards are clipped to it."""
    units: str
    """What a return measures, for tables and plot axes."""
    success: Callable[[float, Mapping[str, Any]], bool]
    """The task's success rule on an episode's reward and final ``info`` (or outcome)."""

    def is_success(self, reward: float, info: Mapping[str, Any]) -> bool:
        """The task's success rule; an episode the user ended as harmed is never a success."""
        if info.get("end_reason") == "harmed":
            return False
        return bool(self.success(reward, info))

    def clip(self, value: float) -> float:
        """``value`` clipped to the reward range."""
        low, high = self.reward_range
        return float(min(high, max(low, value)))


def _donated(reward: float, info: Mapping[str, Any]) -> bool:
    return reward > 0


def _relieved(reward: float, info: Mapping[str, Any]) -> bool:
    final = info.get("final_intensity")
    return reward >= 2 or (final is not None and final <= 2)


_DOMAINS: dict[str, Domain] = {}


def register(domain: Domain) -> None:
    """Add ``domain`` to the table and register its env id with Gymnasium (idempotent for the
    same domain; ``ValueError`` if the id or the name is taken by another)."""
    for other in _DOMAINS.values():
        if other != domain and (other.env_id == domain.env_id or other.name == domain.name):
            raise InvalidInput(
                f"env id {domain.env_id!r} or domain name {domain.name!r} is already registered "
                f"as {other.env_id} ({other.name})"
            )
    _DOMAINS[domain.env_id] = domain
    if domain.env_id not in gym.registry:
        gym.register(id=domain.env_id, entry_point=domain.entry_point, max_episode_steps=None)


def unregister(env_id: str) -> None:
    """Remove ``env_id`` from the table and from Gymnasium's registry (a plugin's or a test's
    own env; ``ValueError`` if it is not registered)."""
    domain = domain_of(env_id)
    del _DOMAINS[domain.env_id]
    gym.registry.pop(domain.env_id, None)


def env_ids() -> tuple[str, ...]:
    """Every registered dialogue-gym env id, in registration order."""
    return tuple(_DOMAINS)


def domain_of(env_id: str) -> Domain:
    """The domain of a registered env id (accepts the ``dialogue_gym:`` prefix); ``ValueError``
    naming the allowed ids otherwise."""
    key = str(env_id).split(":")[-1]
    if key not in _DOMAINS:
        raise InvalidInput(f"unknown env {env_id!r}; allowed: {', '.join(_DOMAINS)}")
    return _DOMAINS[key]


def env_key(env_id: str) -> str:
    """The bare registered id: ``dialogue_gym:Persuasion-v0`` -> ``Persuasion-v0``
    (``ValueError`` if unknown)."""
    return domain_of(env_id).env_id


def domain_named(name: str) -> Domain:
    """The domain whose tables are keyed ``name`` (``persuasion``); ``ValueError`` otherwise."""
    for d in _DOMAINS.values():
        if d.name == name:
            return d
    raise InvalidInput(
        f"unknown domain {name!r}; allowed: {', '.join(d.name for d in _DOMAINS.values())}"
    )


def env_domain(env_id: str) -> str:
    """The domain name of a registered env id (``Persuasion-v0`` -> ``persuasion``)."""
    return domain_of(env_id).name


register(
    Domain(
        env_id="Persuasion-v0",
        name="persuasion",
        entry_point="dialogue_gym.envs.persuasion:PersuasionEnv",
        agent_role="Persuader",
        user_role="Persuadee",
        reward_range=(0.0, 2.0),
        units="$ donated (0-2)",
        success=_donated,
    )
)
register(
    Domain(
        env_id="Counseling-v0",
        name="counseling",
        entry_point="dialogue_gym.envs.counseling:CounselingEnv",
        agent_role="Supporter",
        user_role="Seeker",
        reward_range=(-4.0, 4.0),
        units="intensity drop (points, 1-5 scale)",
        success=_relieved,
    )
)
