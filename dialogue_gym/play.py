"""``dialogue-gym play``: a person in the conversation, as the user or as the agent.

The transcript is saved after every turn (written to a temporary file and moved into place), so
an interrupted session (Ctrl-C, closed input) keeps everything said so far, marked
``"status": "interrupted"``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from .domains import domain_named, env_domain
from .errors import InvalidInput
from .files import atomic_write_text

END_COMMANDS = ("/end", "/quit", "/bye")


def _save(path: Path, record: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(record, indent=1, ensure_ascii=False))


def agent_view(
    domain: str, messages: list[dict[str, str]], turn: int, max_turns: int
) -> tuple[str, dict[str, Any]]:
    """What an agent sees of a conversation with a person: the observation text and ``info``,
    as the env gives them (``"Speaker: text"`` lines; chat-format messages; no privileged
    information)."""
    facts = domain_named(domain)
    lines = [
        f"{facts.agent_role if m['role'] == 'assistant' else facts.user_role}: {m['content']}"
        for m in messages
    ]
    info = {
        "domain": domain,
        "turn": turn,
        "max_turns": max_turns,
        "messages": [dict(m) for m in messages],
    }
    return "\n".join(lines), info


def ask_number(
    prompt: str, low: float, high: float, input_fn: Callable[[str], str], tries: int = 5
) -> float:
    """Ask until the answer is a number in ``[low, high]`` (``ValueError`` after ``tries``)."""
    for _ in range(tries):
        answer = input_fn(prompt).strip().lstrip("$")
        try:
            value = float(answer)
        except ValueError:
            print(f"  please type a number from {low:g} to {high:g}")
            continue
        if low <= value <= high:
            return value
        print(f"  {value:g} is out of range: from {low:g} to {high:g}")
    raise InvalidInput(f"no valid number in [{low:g}, {high:g}] after {tries} tries")


def play_as_agent(
    env_id: str, seed: int, out: Path, max_turns: int = 10, input_fn: Callable[[str], str] = input
) -> int:
    """The person is the agent, talking with the embedded simulated user."""
    from .agents.human import HumanAgent

    domain = env_domain(env_id)
    env = gym.make(env_id, max_turns=max_turns, privileged_info=False)
    agent = HumanAgent(domain, input_fn=input_fn)
    record: dict[str, Any] = {"env": env_id, "as": "agent", "seed": seed, "status": "running"}
    obs, info = env.reset(seed=seed)
    print(f"{env_id}: you are the {domain_named(domain).agent_role}. Type /end to stop.")
    try:
        done = False
        while not done:
            text = agent.act(obs, info)
            if text.strip() in END_COMMANDS:
                user = env.unwrapped.user
                record.update(status="ok", reward=user.outcome(), end_reason="ended by the person")
                break
            obs, reward, terminated, truncated, info = env.step(text)
            record["messages"] = info["messages"]
            done = terminated or truncated
            if done:
                print(f"them> {info['messages'][-1]['content']}")
                record.update(status="ok", reward=reward, end_reason=info["end_reason"])
            _save(out, record)
    except (EOFError, KeyboardInterrupt):
        record["status"] = "interrupted"
        _save(out, record)
        print(f"\ninterrupted; transcript saved to {out}")
        return 130
    record.setdefault("messages", info["messages"])
    _save(out, record)
    if "reward" in record:
        print(f"outcome: reward {record['reward']:.2f} ({record['end_reason']}); saved {out}")
    return 0


def play_as_user(
    env_id: str,
    agent_spec: str,
    seed: int,
    out: Path,
    max_turns: int = 10,
    input_fn: Callable[[str], str] = input,
) -> int:
    """The person is the user (persuadee / help-seeker), talking with an agent."""
    from .agents.registry import is_privileged, make_agent

    domain = env_domain(env_id)
    if is_privileged(agent_spec):
        raise InvalidInput(f"agent {agent_spec!r} reads a simulated persona; a person has none")
    agent = make_agent(agent_spec, domain)
    agent.reset(seed=seed)
    facts = domain_named(domain)
    messages: list[dict[str, str]] = []
    record: dict[str, Any] = {
        "env": env_id,
        "as": "user",
        "agent": agent.config(),
        "seed": seed,
        "status": "running",
        "messages": messages,
    }
    you = facts.user_role
    print(f"{env_id}: you are the {you}, talking with the '{agent.name}' agent. /end to stop.")
    try:
        if domain == "counseling":
            record["initial_intensity"] = ask_number(
                "How intense is your emotion right now (1-5)? ", 1, 5, input_fn
            )
            messages.append({"role": "user", "content": input_fn(f"you ({you})> ")})
            _save(out, record)
        for turn in range(max_turns):
            text = agent.act(*agent_view(domain, messages, turn, max_turns))
            messages.append({"role": "assistant", "content": text})
            print(f"{facts.agent_role}> {text}")
            reply = input_fn(f"you ({you})> ")
            if reply.strip() in END_COMMANDS:
                break
            messages.append({"role": "user", "content": reply})
            _save(out, record)
        if domain == "persuasion":
            donation = ask_number("How much do you donate ($0.00-$2.00)? ", 0, 2, input_fn)
            record.update(donation=donation, reward=donation)
        else:
            final = ask_number("How intense is your emotion now (1-5)? ", 1, 5, input_fn)
            record.update(final_intensity=final, reward=record["initial_intensity"] - final)
        record["status"] = "ok"
    except (EOFError, KeyboardInterrupt):
        record["status"] = "interrupted"
        _save(out, record)
        print(f"\ninterrupted; transcript saved to {out}", file=sys.stderr)
        return 130
    _save(out, record)
    print(f"outcome: reward {record['reward']:.2f}; saved {out}")
    return 0
