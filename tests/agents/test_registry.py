"""The agent registry: specs, options and their errors; the batch default of an agent."""

from __future__ import annotations

import pytest

from dialogue_gym.agents.registry import agent_entries, make_agent, parse_spec


def test_registry_specs_and_errors():
    assert parse_spec("scripted:noise=0.3,reactive=false") == (
        "scripted",
        {"noise": 0.3, "reactive": False},
    )
    agent = make_agent("scripted:noise=0.3,reactive=false", "persuasion")
    assert agent.noise == 0.3 and agent.reactive is False
    assert {e.name for e in agent_entries()} >= {"random", "scripted", "oracle", "human"}
    with pytest.raises(ValueError, match="registered: random"):
        make_agent("nope", "persuasion")
    with pytest.raises(ValueError, match="bad options"):
        make_agent("random:temperature=2", "persuasion")
    with pytest.raises(ValueError, match="noise must be in"):
        make_agent("scripted:noise=3", "persuasion")


def test_act_batch_defaults_to_a_loop():
    agent = make_agent("scripted", "persuasion", seed=1)
    info = {"messages": [], "turn": 0, "max_turns": 10}
    out = agent.act_batch(["", ""], [info, info])
    assert len(out) == 2 and all(isinstance(t, str) and t for t in out)
