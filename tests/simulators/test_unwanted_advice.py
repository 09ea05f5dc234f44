"""Advice in Counseling: unwanted advice adds no distress and brings no relief (shipped); the
written cost, kept for the calibration's recorded rows, costs less once the seeker feels heard and
the readier they are; wanted advice helps, more once they feel heard (the integrated model of
advice)."""

from __future__ import annotations

import pytest

from dialogue_gym.simulators import counseling as C
from dialogue_gym.simulators.personas import CounselingPersona


def _delta(need: str, heard: float, readiness: float = 0.5, move: str = "Providing Suggestions"):
    persona = CounselingPersona(
        problem="job crisis",
        emotion="anxiety",
        intensity=4,
        need=need,
        readiness=readiness,
        disclosure=0.5,
    )
    dyn = C.CounselingDynamics(persona)
    state = C.CounselingState(intensity=3.0, understood=1.0, heard=heard, turn=3)  # no clipping
    after, events = dyn.step(state, (move,))
    assert not events.premature
    return after.intensity - state.intensity  # positive: the seeker feels worse


@pytest.mark.parametrize("need", ["listen", "reassure"])
@pytest.mark.parametrize("move", ["Providing Suggestions", "Information"])
def test_shipped_unwanted_advice_adds_no_distress_and_brings_no_relief(need, move):
    assert C.UNWANTED_COST == 0.0
    if C.NEED_MATCH[move][C.NEED_ORDER.index(need)] < 0:
        assert _delta(need, 0.0, move=move) == 0.0
        assert _delta(need, 0.8, readiness=0.9, move=move) == 0.0


@pytest.fixture
def written_cost(monkeypatch):
    monkeypatch.setattr(C, "UNWANTED_COST", 1.0)
    monkeypatch.setattr(C, "HEARD_EASES_MISMATCH", 0.4)


def test_written_cost_is_less_once_the_seeker_feels_heard(written_cost):
    unheard, heard = _delta("listen", 0.0), _delta("listen", 0.8)
    assert 0 < heard < unheard
    assert heard == pytest.approx(unheard * (1 - 0.4 * 0.8))
    info_unheard = _delta("listen", 0.0, move="Information")
    assert 0 < _delta("listen", 0.8, move="Information") < info_unheard


def test_written_cost_is_less_the_readier_the_seeker(written_cost):
    assert 0 < _delta("listen", 0.3, readiness=0.9) < _delta("listen", 0.3, readiness=0.2)


def test_wanted_advice_helps_more_once_the_seeker_feels_heard_and_is_ready():
    assert _delta("advice", 0.8) < _delta("advice", 0.0) < 0
    assert _delta("advice", 0.3, readiness=0.9) < _delta("advice", 0.3, readiness=0.2) < 0
