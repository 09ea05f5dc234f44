"""Feeling heard comes from responding to this seeker; the need shows in the seeker's words."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from dialogue_gym.simulators import counseling as C
from dialogue_gym.simulators.counseling_text import DETAILS
from dialogue_gym.simulators.engagement import get_engagement, is_parrot
from dialogue_gym.simulators.personas import COUNSELING_NEEDS, sample_counseling_persona
from dialogue_gym.simulators.seeker_needs import fit_fidelity, need_posterior, voiced_needs

SEEKER = [
    "Hi, I've had a rough few weeks.",
    "My company laid me off on Friday and I have no idea how I'm going to pay my rent.",
]


def test_a_turn_that_answers_this_seeker_engages_more_than_a_generic_one():
    eng = get_engagement()
    answer = eng.score("Losing your job right before rent is due must be so frightening.", SEEKER)
    generic = eng.score("You are clearly a strong person for reaching out.", SEEKER)
    other = eng.score("It hurts so much when a friend stops talking to you.", SEEKER)
    assert answer > 0.8 and answer > generic + 0.3 and answer > other + 0.3
    assert eng.score("anything", []) == 0.5  # nothing said yet: no evidence either way


def test_parrots_are_echoes_not_paraphrases():
    last = SEEKER[-1]
    assert is_parrot(last, last)
    assert is_parrot("So, " + last.lower(), last)
    assert not is_parrot("It sounds like losing your job has you scared about money.", last)
    assert not is_parrot("Okay.", "Okay.")  # too short to be an echo of anything said


def _persona(need: str = "listen") -> C.CounselingPersona:
    given = {"problem": "job crisis", "emotion": "anxiety", "intensity": 4, "need": need}
    return sample_counseling_persona(np.random.default_rng(0), DETAILS, given)


@pytest.fixture
def engaged():
    """The engagement effect as shipped (on, at the floor the real-people fit chose)."""
    assert C.ENGAGEMENT_FLOOR is not None and C.ENGAGEMENT_FLOOR > 0.0


def test_relief_grows_with_engagement_and_a_parrot_earns_once(engaged):
    dyn = C.CounselingDynamics(_persona())
    s0 = dyn.initial_state()
    move = ("Reflection of feelings",)
    low = dyn.step(s0, move, engagement=0.2)[0].intensity
    high = dyn.step(s0, move, engagement=0.9)[0].intensity
    assert high < low <= s0.intensity  # a line that would fit anyone may bring nothing
    # a parrot counts as one restatement, however it is labelled; the second earns nothing
    s1, ev1 = dyn.step(s0, ("Others",), parrot=True, engagement=0.99)
    s2, ev2 = dyn.step(s1, ("Others",), parrot=True, engagement=0.99)
    assert "Restatement or Paraphrasing" in ev1.deltas and s1.intensity < s0.intensity
    assert not ev2.deltas and s2.intensity >= s1.intensity


SWAP = {"i": "you", "i'm": "you're", "i've": "you've", "my": "your", "me": "you", "am": "are"}


def _reflect(message: str) -> str:
    """The seeker's longest sentence turned to the second person, as a reflection."""
    longest = max(message.split(". "), key=len).rstrip(".?! ")
    words = " ".join(SWAP.get(w.lower(), w) for w in longest.split())
    return f"It sounds like {words}, and that must be so hard for you."


def test_the_env_rewards_responding_to_this_seeker(engaged):
    """Same moves, same seeds: reflections built from the seeker's own words beat a generic one."""
    env = gym.make("Counseling-v0", max_turns=3)

    def run(engaged: bool) -> float:
        total = 0.0
        for seed in range(20):
            _, info = env.reset(seed=seed)
            for _ in range(3):
                last = info["messages"][-1]["content"]
                text = _reflect(last) if engaged else "That must feel so hard for you."
                _, r, term, trunc, info = env.step(text)
                if term or trunc:
                    break
            total += float(r)
        return total / 20

    assert run(True) > run(False)


def test_voiced_needs_are_read_by_meaning():
    assert voiced_needs("Any tips?") == ["advice"]
    assert voiced_needs("I feel so stupid.") == ["reassure"]
    assert voiced_needs("I just wanted someone to talk to. The weather was nice.") == ["listen"]
    assert voiced_needs("My boyfriend broke up with me. I am so stressed about my exams.") == []


def test_the_posterior_follows_the_words_and_fidelity_is_recovered_by_simulation():
    post = need_posterior("breakup with partner", ["advice", "advice"], 0.7)
    assert COUNSELING_NEEDS[int(post.argmax())] == "advice"
    assert np.allclose(need_posterior("x", [], 0.7), 0.25)
    with pytest.raises(ValueError, match="fidelity"):
        need_posterior("x", [], 0.0)
    rng = np.random.default_rng(1)
    problems, voiced = [], []
    for _ in range(600):  # seekers with a known fidelity of 0.6, two to four voiced needs each
        need = int(rng.integers(4))
        vs = [
            COUNSELING_NEEDS[
                need if rng.random() < 0.6 else int(rng.choice([k for k in range(4) if k != need]))
            ]
            for _ in range(int(rng.integers(2, 5)))
        ]
        problems.append("other")
        voiced.append(vs)
    assert abs(fit_fidelity(problems, voiced) - 0.6) < 0.05


def test_simulated_seekers_voice_their_own_need_at_the_fitted_rate(monkeypatch):
    fit = C.load_params("counseling_outcome")["need_cue_fidelity_fit"]
    monkeypatch.setattr(C, "NEED_CUE_FIDELITY", fit)
    env = gym.make("Counseling-v0", privileged_info=True)
    from dialogue_gym.simulators.counseling_text import NEED_CUES

    cue_need = {c: n for n, cues in NEED_CUES.items() for c in cues}
    own = []
    for seed in range(300):
        obs, info = env.reset(seed=seed)
        need = info["privileged"]["persona"]["need"]
        _, _, _, _, info = env.step("What has been going on for you lately?")
        said = [n for c, n in cue_need.items() if c in info["messages"][-1]["content"]]
        own += [n == need for n in said[:1]]
    p = np.mean(own)
    se = np.sqrt(C.NEED_CUE_FIDELITY * (1 - C.NEED_CUE_FIDELITY) / len(own))
    assert len(own) > 150 and abs(p - C.NEED_CUE_FIDELITY) < 3 * se + 0.02


def test_a_script_that_never_reads_the_seeker_engages_at_the_measured_level():
    """UNREAD_ENGAGEMENT (what the open-loop search scores a hearing move at) is measured:
    hearing templates worded with default slots, against simulated seekers' words."""
    from dialogue_gym.agents.scripted import ScriptedAgent
    from dialogue_gym.simulators.engagement import UNREAD_ENGAGEMENT
    from dialogue_gym.simulators.realizer import TEMPLATES, read_slots

    env = gym.make("Counseling-v0")
    agent, eng = ScriptedAgent("counseling"), get_engagement()
    rng = np.random.default_rng(0)
    unread, read = [], []
    for seed in range(700_000, 700_020):
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed)
        for _ in range(4):
            seeker = [m["content"] for m in info["messages"] if m["role"] == "user"]
            for move in C.HEARING:
                options = TEMPLATES["counseling"][move]
                line = options[int(rng.integers(len(options)))]
                unread.append(eng.score(line.format(**read_slots(None)), seeker))
                read.append(eng.score(line.format(**read_slots(seeker[-1])), seeker))
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
            if terminated or truncated:
                break
    assert len(unread) >= 150
    assert abs(np.mean(unread) - UNREAD_ENGAGEMENT) < 0.04
    assert np.mean(read) > np.mean(unread)  # reading the seeker's words engages more
