"""``DialogueEnv``: a Gymnasium environment in which the agent talks with a simulated user."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym

from ..domains import domain_named
from ..errors import InvalidInput, InvalidOption, UsageError
from ..simulators import SIMULATORS, make_user
from ..simulators.base import SimulatedUser
from ..simulators.strategies import get_domain
from ..spaces import UnicodeText

USER_REPLY_MAX_CHARS = 1000


@dataclass(frozen=True)
class DialogueEnvConfig:
    """Options of every dialogue environment (validated at construction)."""

    simulator: str = "embedded"
    """Who plays the user: "embedded" (offline latent-state simulator) or "llm"."""
    llm: Any = None
    """With ``simulator="llm"``: a backend spec (``local:smollm2``, ``openai:MODEL``,
    ``http://HOST:PORT/v1#MODEL``, ``hf:PATH``) or a :class:`~dialogue_gym.llm.ChatBackend`."""
    llm_cache: bool = True
    """Cache the LLM user's completions on disk (``$DIALOGUE_GYM_CACHE_DIR``)."""
    max_turns: int = 10
    """Agent turns before the episode is truncated (1-100)."""
    max_utterance_chars: int = 2000
    """Longer agent utterances are cut to this many characters (``info["action_truncated"]``)."""
    privileged_info: bool = False
    """Put the hidden persona and state in ``info["privileged"]`` (embedded simulator only; for
    analysis and privileged agents such as the oracle, never for an agent under evaluation)."""
    render_mode: str | None = None
    """None, "ansi" (``render()`` returns the transcript) or "human" (prints it)."""

    def __post_init__(self) -> None:
        if self.simulator not in SIMULATORS:
            raise InvalidInput(f"simulator must be one of {SIMULATORS}, got {self.simulator!r}")
        if self.simulator == "llm" and self.llm is None:
            raise InvalidInput("llm must name a chat backend when simulator='llm'")
        if not isinstance(self.max_turns, int) or not 1 <= self.max_turns <= 100:
            raise InvalidInput(f"max_turns must be an int in [1, 100], got {self.max_turns!r}")
        if not isinstance(self.max_utterance_chars, int) or not 1 <= self.max_utterance_chars:
            raise InvalidInput(
                f"max_utterance_chars must be a positive int, got {self.max_utterance_chars!r}"
            )
        if self.render_mode not in (None, "ansi", "human"):
            raise InvalidInput(
                f"render_mode must be None, 'ansi' or 'human', got {self.render_mode!r}"
            )

    @classmethod
    def field_names(cls) -> list[str]:
        """The accepted option names."""
        return [f.name for f in dataclasses.fields(cls)]


class DialogueEnv(gym.Env[str, str]):
    """A goal-directed conversation with a simulated user; the reward comes at the end.

    Action: the agent's next utterance (``str``). Observation: the whole conversation so far, one
    ``"Speaker: text"`` line per message. ``info["messages"]`` holds the same conversation as
    OpenAI chat-format messages from the agent's side (agent = ``assistant``, user = ``user``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    domain_name: ClassVar[str]
    """The domain this env's row in :mod:`dialogue_gym.domains` is named by."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(DialogueEnvConfig.field_names()))
        if unknown:
            raise InvalidOption(
                f"{type(self).__name__} got unknown option(s) {unknown}; "
                f"accepted: {', '.join(DialogueEnvConfig.field_names())}"
            )
        self.config = DialogueEnvConfig(**kwargs)
        self.domain = get_domain(self.domain_name)
        facts = domain_named(self.domain_name)
        self.agent_role, self.user_role = facts.agent_role, facts.user_role
        self.render_mode = self.config.render_mode
        self.max_turns = self.config.max_turns
        per_turn = self.config.max_utterance_chars + USER_REPLY_MAX_CHARS + 2 * 16
        self.action_space = UnicodeText(max_length=self.config.max_utterance_chars)
        self.observation_space = UnicodeText(max_length=per_turn * (self.max_turns + 1))
        self.user: SimulatedUser = make_user(
            self.domain_name, self.config.simulator, self.config.llm, self.config.llm_cache
        )
        self._messages: list[dict[str, str]] = []
        self._lines: list[str] = []
        self._turn = 0
        self._started = False
        self._done = False
        self._persona: dict[str, Any] | None = None
        self._last_info: dict[str, Any] = {}

    # -- Gymnasium API ---------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a conversation with a new persona drawn from ``seed``.

        ``options={"persona": {...}}`` fixes part or all of the persona (e.g. a P4G persuadee's
        survey ``traits``, or an ESConv seeker's ``problem``, ``emotion`` and ``intensity``; the
        fields are those of the domain's persona in ``info["privileged"]["persona"]``); the rest is
        drawn from ``seed``. Unknown fields or values raise ``ValueError``."""
        unknown = sorted(set(options or {}) - {"persona"})
        if unknown:
            raise InvalidInput(f"unknown reset option(s) {unknown}; allowed: persona")
        persona = (options or {}).get("persona")
        if persona is not None and not isinstance(persona, dict):
            raise InvalidInput(f"options['persona'] must be a dict, got {type(persona).__name__}")
        super().reset(seed=seed)
        self._messages, self._lines = [], []
        self._turn, self._started, self._done = 0, True, False
        opening = self.user.reset(self.np_random, persona)
        if opening is not None:
            self._add("user", opening)
        self._persona = self.user.privileged().get("persona") if self._privileged else None
        info = self._info(reward=None)
        if self.render_mode == "human":
            self.render()
        return self._observation(), info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Say ``action`` to the user; returns the user's reply in the new observation."""
        if not isinstance(action, str):
            raise InvalidOption(
                f"action must be a str (the agent's utterance), got {type(action).__name__}"
            )
        if not self._started:
            raise UsageError("step() called before reset(); call env.reset() first")
        if self._done:
            raise UsageError("step() called after the episode ended; call env.reset() first")
        truncated_action = len(action) > self.config.max_utterance_chars
        if truncated_action:
            action = action[: self.config.max_utterance_chars]
        self._add("assistant", action)
        reply = self.user.respond(action)
        text = reply.text[:USER_REPLY_MAX_CHARS]
        self._add("user", text)
        self._turn += 1
        terminated = reply.done
        truncated = not terminated and self._turn >= self.max_turns
        self._done = terminated or truncated
        reward = float(self.user.outcome()) if self._done else 0.0
        info = self._info(reward=reward if self._done else None)
        info["action_truncated"] = truncated_action
        info["strategies"] = reply.info.get("strategies", [])
        info["user"] = reply.info
        if self._done:
            info["end_reason"] = reply.reason if terminated else "max_turns"
            info.update(self.user.outcome_details())
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, terminated, truncated, info

    def render(self) -> str | None:
        """The transcript: returned for "ansi", printed for "human"."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi'")
            return None
        text = self._observation()
        if self.render_mode == "ansi":
            return text
        sys.stdout.write(text + "\n" + "-" * 40 + "\n")
        sys.stdout.flush()
        return None

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _privileged(self) -> bool:
        return self.config.privileged_info and self.config.simulator == "embedded"

    def _add(self, role: str, text: str) -> None:
        self._messages.append({"role": role, "content": text})
        speaker = self.agent_role if role == "assistant" else self.user_role
        self._lines.append(f"{speaker}: {text}")

    def _observation(self) -> str:
        return "\n".join(self._lines)

    def _info(self, reward: float | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "domain": self.domain.name,
            "turn": self._turn,
            "max_turns": self.max_turns,
            "messages": [dict(m) for m in self._messages],
        }
        if reward is not None:
            info["outcome"] = reward
        if self._privileged:
            privileged = self.user.privileged()
            privileged["persona"] = _json_copy(self._persona)
            info["privileged"] = privileged
        return info

    @property
    def messages(self) -> list[dict[str, str]]:
        """The conversation so far as chat-format messages (a copy)."""
        return [dict(m) for m in self._messages]


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars): ``copy.deepcopy`` without its memo
    bookkeeping, which took a sixth of a step when ``info`` carries the persona."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value
