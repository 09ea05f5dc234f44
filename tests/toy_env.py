"""A toy third environment, registered only by the test that uses it: a user who asks for a
number and is pleased by a polite one. It shows what a new env needs: one module and one
``dialogue_gym.domains.register`` call."""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym

from dialogue_gym.agents.base import Agent
from dialogue_gym.spaces import UnicodeText


class ToyEnv(gym.Env[str, str]):
    """Three turns; the reward is the share of the agent's turns that say "please"."""

    metadata = {"render_modes": []}

    def __init__(self, max_turns: int = 3, privileged_info: bool = False) -> None:
        self.max_turns = max_turns  # no hidden persona: privileged_info changes nothing
        self.action_space = UnicodeText(max_length=200)
        self.observation_space = UnicodeText(max_length=2000)
        self._messages: list[dict[str, str]] = []

    def _info(self, **extra: Any) -> dict[str, Any]:
        turn = sum(m["role"] == "assistant" for m in self._messages)
        return {"turn": turn, "messages": list(self._messages), "strategies": [], **extra}

    def _observation(self) -> str:
        return "\n".join(f"{m['role']}: {m['content']}" for m in self._messages)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._messages = [{"role": "user", "content": "Give me a number."}]
        return self._observation(), self._info()

    def step(self, action: str):
        self._messages.append({"role": "assistant", "content": action})
        self._messages.append({"role": "user", "content": "Another one."})
        agent_turns = [m["content"] for m in self._messages if m["role"] == "assistant"]
        done = len(agent_turns) >= self.max_turns
        reward = 0.0
        if done:
            reward = sum("please" in t.lower() for t in agent_turns) / len(agent_turns)
        end = {"end_reason": "max_turns"} if done else {}
        return self._observation(), reward, done, False, self._info(**end)


class PoliteCounter(Agent):
    """Says "please" on even seeds' episodes only, so half the episodes succeed."""

    name = "polite-counter"

    def reset(self, seed: int | None = None) -> None:
        """Remember whether this episode is a polite one."""
        self.polite = (seed or 0) % 2 == 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """A number, politely or not."""
        n = len(re.findall("assistant:", observation)) + 1
        return f"{n}, please." if self.polite else f"{n}."
