"""The open-loop script search: moves, start scripts, and its result played as text."""

from __future__ import annotations

import pytest

from dialogue_gym.agents.scripted import FLOWS
from dialogue_gym.validation.open_loop import _personas, moves, score_script, search


def test_moves_are_singles_and_stacks_of_strategic_labels():
    found = moves("counseling")
    assert ("Others",) in found
    assert all("Others" not in m for m in found if len(m) > 1)
    assert max(len(m) for m in found) == 3


@pytest.mark.parametrize("domain,env_id", [("counseling", "Counseling-v0")])
def test_search_never_ends_below_a_start_script(domain, env_id):
    """With one sample per iteration, the start script is the only real candidate at first: the
    search's best must score at least as well as it on the training personas."""
    seeds = range(900_000, 900_030)
    flow = FLOWS[domain]
    expert = [(flow[min(t, len(flow) - 1)],) for t in range(10)]
    expert_score = score_script(domain, _personas(env_id, seeds), expert)
    found = search(env_id, domain, seeds, iterations=2, samples=2, elite=1, starts=[expert])
    assert found.train_score >= expert_score - 1e-9
    blind = search(env_id, domain, seeds, iterations=2, samples=2, elite=1)
    assert blind.script != expert  # two random scripts do not find the expert flow
    with pytest.raises(ValueError, match="start script"):
        search(env_id, domain, seeds, iterations=1, samples=1, starts=[expert[:3]])
