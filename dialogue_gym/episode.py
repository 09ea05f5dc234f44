"""The ``Episode`` schema: one conversation with its outcome, as stored in the JSONL datasets.

Versioned (:data:`SCHEMA_VERSION`); :meth:`Episode.from_dict` refuses an unknown version and
names the missing or wrong field. Roles are the agent's view: ``assistant`` is the agent
(persuader, supporter), ``user`` the persuadee or help-seeker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidInput

SCHEMA_VERSION = 1
ROLES = ("assistant", "user")
STATUSES = ("ok", "failed")
REAL_REWARD = "real"
ORACLE_REWARD = "true-env (oracle ablation)"


@dataclass
class Turn:
    """One message: who said it, the text, its strategy labels (agent turns), and when."""

    role: str
    text: str
    strategies: list[str] = field(default_factory=list)
    timestamp: float | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InvalidInput(f"Turn.role must be one of {ROLES}, got {self.role!r}")
        if not isinstance(self.text, str):
            raise InvalidInput(f"Turn.text must be a str, got {type(self.text).__name__}")


@dataclass
class Episode:
    """A conversation with its outcome and where it came from."""

    id: str
    env_id: str
    turns: list[Turn]
    reward: float | None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    agent: dict[str, Any] = field(default_factory=dict)
    backend: dict[str, Any] | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    reason: str = ""
    provenance: dict[str, Any] | None = None
    """For regenerated episodes: source id, rewritten turn, controller, forward and reward
    models, round. For loaded corpora: the source file and its own id."""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidInput(f"Episode.status must be one of {STATUSES}, got {self.status!r}")
        if not self.id:
            raise InvalidInput("Episode.id must be a non-empty string")

    @property
    def messages(self) -> list[dict[str, str]]:
        """The turns as OpenAI chat-format messages."""
        return [{"role": t.role, "content": t.text} for t in self.turns]

    @property
    def reward_source(self) -> str:
        """Where ``reward`` came from: ``"real"`` (an outcome recorded in an env or a corpus),
        ``"imagined:<reward model>"`` (a hindsight reward model's estimate), or
        ``"true-env (oracle ablation)"``."""
        prov = self.provenance or {}
        if "reward_source" in prov:
            return str(prov["reward_source"])
        model = prov.get("reward_model")
        if not model:
            return REAL_REWARD
        return ORACLE_REWARD if model.get("oracle") else f"imagined:{model.get('name', '?')}"

    @property
    def agent_turns(self) -> list[int]:
        """Indices of the agent's turns."""
        return [i for i, t in enumerate(self.turns) if t.role == "assistant"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Episode:
        """Rebuild from :meth:`to_dict` output; ``ValueError`` says what is wrong."""
        if not isinstance(d, dict):
            raise InvalidInput(f"an episode must be a JSON object, got {type(d).__name__}")
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise InvalidInput(
                f"schema_version {version!r} is not supported (this is {SCHEMA_VERSION})"
            )
        missing = [k for k in ("id", "env_id", "turns", "reward") if k not in d]
        if missing:
            raise InvalidInput(f"episode is missing field(s) {missing}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidInput(f"episode has unknown field(s) {unknown}")
        data = dict(d)
        data["turns"] = [Turn(**t) for t in d["turns"]]
        return cls(**data)


def usable_episodes(episodes: Sequence[Episode]) -> list[Episode]:
    """The episodes that finished (status ``ok``) with a reward: what exports and learners use."""
    return [e for e in episodes if e.status == "ok" and e.reward is not None]
