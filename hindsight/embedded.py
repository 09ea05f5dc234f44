"""Privileged hindsight components (labelled ablations): a transcript-reading controller with
strategy tables, and "privileged dynamics" forward and reward models.

What they know, exactly:

- None sees the hidden persona of the episode. The controller reads the transcript (the strategy
  reader on agent turns, the cue lexicons of :mod:`dialogue_gym.simulators.cues` on user turns)
  and the outcome.
- The controller's tables (:data:`SUITS`, :data:`MISMATCH`, :data:`ANSWERS`, and the need
  responses of ``cues.NEED_RESPONSE``) were written from the persuasion and helping-skills
  literature, but they coincide with the simulator's effect tables (its ``ADDRESSES``, the top
  and bottom of its ``EFFECTS``, the best of its ``NEED_MATCH``), and the cue lexicons were
  written against the simulator's own reply sentences. Treat it as privileged.
- The privileged-dynamics models run the evaluation simulator's own dynamics and persona prior
  (:mod:`dialogue_gym.simulators.persona_inference` fixes what the transcript revealed; the rest is
  drawn with the model's own seed). Only the persona is unknown to them. A Counseling seeker's
  initial intensity is drawn from the prior, or read from the text by a given reader
  (``initial=callable``); the recorded one is used only when asked for (``initial="recorded"``, a
  further ablation).

The learned components that know only recorded data are :mod:`.critic`, :mod:`.retrieval` and
:mod:`.learned_reward`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..agents.scripted import CRISIS_LINE, HUMAN_LIKE_NOISE, ScriptedAgent
from ..domains import env_domain
from ..episode import Episode, Turn
from ..errors import InvalidInput
from ..simulators import cues
from ..simulators.classifier import get_classifier
from ..simulators.counseling import CounselingDynamics
from ..simulators.counseling_user import CounselingUser
from ..simulators.persona_inference import infer_counseling_persona, infer_persuasion_persona
from ..simulators.persuasion import ADDRESSES, PersuasionDynamics
from ..simulators.persuasion_user import PersuasionUser
from ..simulators.realizer import realize
from .base import (
    Continuation,
    ForwardModel,
    HindsightController,
    Proposal,
    RewardModel,
    clip_reward,
    stable_seed,
)

SUITS: dict[str | None, tuple[str, ...]] = {
    "empathic": ("emotion-appeal", "personal-story"),  # affect-driven persuadees
    "analytical": ("logical-appeal", "donation-information"),  # central route (Petty & Cacioppo)
    "skeptic": ("credibility-appeal", "donation-information"),  # source credibility (Hovland)
    "thrifty": ("foot-in-the-door", "donation-information"),  # small requests (Freedman & Fraser)
    None: ("credibility-appeal", "emotion-appeal", "logical-appeal"),
}
"""Persuasion strategies that suit each revealed kind of persuadee (None: nothing revealed)."""
MISMATCH: dict[str, set[str]] = {
    "analytical": {"emotion-appeal", "personal-story"},
    "skeptic": {"emotion-appeal", "self-modeling", "personal-story"},
    "thrifty": {"self-modeling"},
    "empathic": set(),
}
"""Strategies that tend to miss with each kind of persuadee."""
ANSWERS: dict[str, set[str]] = {c: set(s) for c, s in ADDRESSES.items()} | {
    "unknown_charity": set(ADDRESSES["legitimacy"])  # "never heard of them": a legitimacy doubt
}
"""Strategies that answer each voiced concern: the simulator's own :data:`ADDRESSES`."""
EXPLORATION = {"Question", "Restatement or Paraphrasing"}
ACTION = {"Providing Suggestions", "Information"}


class TranscriptController(HindsightController):
    """Finds the agent turn where, in hindsight, another strategy would have served."""

    name = "transcript"

    def _labels(self, domain: str, turn: Turn) -> list[str]:
        return list(turn.strategies) or list(get_classifier(domain).classify(turn.text))

    def propose(self, episode: Episode, k: int = 1) -> list[Proposal]:
        """Up to ``k`` proposals on distinct agent turns, best first."""
        domain = env_domain(episode.env_id)
        turns = episode.turns
        agent_idx = [i for i, t in enumerate(turns) if t.role == "assistant"]
        if not agent_idx:
            return []
        find = self._persuasion if domain == "persuasion" else self._counseling
        candidates = find(turns, agent_idx, domain)
        candidates.sort(key=lambda c: (-c[0], c[1]))
        rng = np.random.default_rng(stable_seed("controller", episode.id))
        out: list[Proposal] = []
        for priority, i, strategy, rationale, fixed_text in candidates:
            if any(p.turn_index == i for p in out):
                continue
            last_user = next(
                (turns[j].text for j in range(i - 1, -1, -1) if turns[j].role == "user"), None
            )
            history = [turns[j].text for j in agent_idx if j < i]
            text = fixed_text or realize(domain, strategy, rng, last_user, history, not history)
            out.append(Proposal(i, text, strategy, rationale, priority))
            if len(out) == k:
                break
        return out

    def _persuasion(self, turns: list[Turn], agent_idx: list[int], domain: str) -> list:
        cands = []
        revealed: str | None = None
        persuasive = 0
        counts: dict[str, int] = {}
        asked = False
        for n, i in enumerate(agent_idx):
            labels = self._labels(domain, turns[i])
            prev_user = turns[i - 1].text if i > 0 and turns[i - 1].role == "user" else ""
            for t in cues.persuasion_types_in(prev_user):
                revealed = t
            best = SUITS[revealed][0]
            for c in cues.concerns_in(prev_user):
                if not ANSWERS[c] & set(labels):
                    fix = cues.CONCERN_RESPONSE[c]
                    cands.append(
                        (
                            3.0,
                            i,
                            fix,
                            f"the user voiced a concern ({c}) that went "
                            f"unanswered; answer it with {fix}",
                            None,
                        )
                    )
            if "proposition-of-donation" in labels:
                asked = True
                if persuasive < 2:
                    cands.append(
                        (
                            2.0,
                            i,
                            best,
                            f"asked for money before any groundwork; build the case first ({best})",
                            None,
                        )
                    )
            if revealed and MISMATCH.get(revealed, set()) & set(labels):
                cands.append(
                    (
                        1.5,
                        i,
                        best,
                        f"the user sounded {revealed}; {labels[0]} tends to "
                        f"miss with them, {best} suits them",
                        None,
                    )
                )
            for s in labels:
                counts[s] = counts.get(s, 0) + 1
                if counts[s] >= 3 and s != "proposition-of-donation":
                    alt = next((x for x in SUITS[revealed] if x != s), best)
                    cands.append((1.0, i, alt, f"{s} was repeated a third time; try {alt}", None))
            if n > 0 and labels == ["non-strategy"]:
                cands.append((1.0, i, best, f"small talk wasted a turn; use {best}", None))
            persuasive += sum(s not in ("non-strategy", "proposition-of-donation") for s in labels)
        if not asked:
            cands.append(
                (
                    2.5,
                    agent_idx[-1],
                    "proposition-of-donation",
                    "the persuadee was never asked to donate",
                    None,
                )
            )
        return cands

    def _counseling(self, turns: list[Turn], agent_idx: list[int], domain: str) -> list:
        cands = []
        explored = 0
        need: str | None = None
        acted = False
        for n, i in enumerate(agent_idx):
            labels = self._labels(domain, turns[i])
            prev_user = turns[i - 1].text if i > 0 and turns[i - 1].role == "user" else ""
            found = cues.counseling_needs_in(prev_user)
            if found:
                need = found[0]
            if cues.mentions_risk(prev_user) and not (
                cues.points_to_crisis_help(turns[i].text)
                or {"Reflection of feelings", "Affirmation and Reassurance"} & set(labels)
            ):
                cands.append(
                    (
                        4.0,
                        i,
                        "Information",
                        "a self-harm mention was not met with care and crisis resources",
                        CRISIS_LINE,
                    )
                )
            if ACTION & set(labels) and explored < 2:
                cands.append(
                    (
                        3.0,
                        i,
                        "Question",
                        "advice came before the problem was explored; ask about it first",
                        None,
                    )
                )
            if need and found:
                want = cues.NEED_RESPONSE[need]
                ready = want not in ACTION or explored >= 2
                if ready and want not in labels:
                    cands.append(
                        (
                            2.0,
                            i,
                            want,
                            f"the seeker signalled a need ({need}) that this "
                            f"turn did not meet; use {want}",
                            None,
                        )
                    )
            if need in ("advice", "info") and n >= 4 and not acted and not ACTION & set(labels):
                want = cues.NEED_RESPONSE[need]
                cands.append((1.5, i, want, f"the seeker wanted {need} and still had none", None))
            if n > 0 and labels == ["Others"]:
                cands.append(
                    (
                        1.0,
                        i,
                        "Reflection of feelings",
                        "a filler turn; reflect the seeker's feelings instead",
                        None,
                    )
                )
            explored += len(EXPLORATION & set(labels))
            acted = acted or bool(ACTION & set(labels))
        return cands


InitialIntensity = str | Callable[[list[Turn]], float | None]
"""How a privileged-dynamics model sets a seeker's initial intensity: ``"prior"`` (drawn),
``"recorded"`` (the episode's recorded value: an ablation), or a reader of the text."""


def _initial_intensity(episode: Episode, turns: list[Turn], how: InitialIntensity) -> int | None:
    if how == "prior":
        return None
    if how == "recorded":
        return (episode.outcome or {}).get("initial_intensity")
    if callable(how):
        value = how(turns)
        return None if value is None else int(np.clip(round(value), 1, 5))
    raise InvalidInput(f"initial intensity must be 'prior', 'recorded' or a callable, got {how!r}")


def _imagined_user(
    episode: Episode, turns: list[Turn], rng: np.random.Generator, initial: InitialIntensity
):
    """An embedded simulated user with a persona inferred from ``turns``."""
    domain = env_domain(episode.env_id)
    if domain == "persuasion":
        persona = infer_persuasion_persona(turns, rng)
        user: Any = PersuasionUser()
        dynamics: Any = PersuasionDynamics(persona)
    else:
        persona = infer_counseling_persona(turns, rng, _initial_intensity(episode, turns, initial))
        user = CounselingUser()
        dynamics = CounselingDynamics(persona)
    user.start_with(persona, dynamics, np.random.default_rng(rng.integers(2**63)))
    return user, persona


class PrivilegedDynamicsForwardModel(ForwardModel):
    """Continues with an embedded simulator whose persona is inferred from the prefix.

    The prefix's agent turns are replayed into the imagined user (its replies discarded: the real
    ones stay), then the rewritten turn gets an imagined reply and the behaviour policy (the
    human-like scripted agent) and the imagined user finish the dialogue.
    """

    name = "privileged-dynamics"

    def __init__(
        self,
        max_turns: int | None = None,
        policy_noise: float = HUMAN_LIKE_NOISE,
        initial: InitialIntensity = "prior",
    ) -> None:
        self.max_turns = max_turns
        self.policy_noise = policy_noise
        self.initial = initial

    def continue_dialogue(self, episode: Episode, prefix: list[Turn], seed: int) -> Continuation:
        """Imagine the rest of the dialogue after ``prefix``."""
        domain = env_domain(episode.env_id)
        rng = np.random.default_rng(seed)
        user, persona = _imagined_user(episode, prefix, rng, self.initial)
        max_turns = self.max_turns or int(episode.env_kwargs.get("max_turns", 10))
        agent_turns = [t for t in prefix if t.role == "assistant"]
        for t in agent_turns[:-1]:
            user.respond(t.text)
        new: list[Turn] = []
        reply = user.respond(agent_turns[-1].text)
        new.append(Turn("user", reply.text))
        said = len(agent_turns)
        policy = ScriptedAgent(domain, noise=self.policy_noise)
        policy.reset(seed=int(rng.integers(2**31)), turn=said)
        messages = [{"role": t.role, "content": t.text} for t in prefix + new]
        while not reply.done and said < max_turns:
            info = {"messages": messages, "turn": said, "max_turns": max_turns}
            text = policy.act("", info)
            reply = user.respond(text)
            labels = list(reply.info.get("strategies", []))
            new += [Turn("assistant", text, labels), Turn("user", reply.text)]
            messages += [
                {"role": "assistant", "content": text},
                {"role": "user", "content": reply.text},
            ]
            said += 1
        return Continuation(
            new,
            {
                "imagined_outcome": user.outcome(),
                "persona_type": getattr(persona, "main_type", getattr(persona, "need", None)),
            },
        )

    def config(self) -> dict[str, Any]:
        """Name and how the initial intensity is set (saved in provenance)."""
        how = self.initial if isinstance(self.initial, str) else "read from the text"
        return {"name": self.name, "oracle": False, "initial_intensity": how}


class PrivilegedDynamicsRewardModel(RewardModel):
    """Reads the outcome an imagined simulator (persona inferred from the whole transcript)
    reaches when the dialogue's agent turns are replayed into it; averaged over ``samples``
    imagined personas (their unrevealed traits drawn with the model's own seeds)."""

    name = "privileged-dynamics"

    def __init__(self, samples: int = 3, initial: InitialIntensity = "prior") -> None:
        if samples < 1:
            raise InvalidInput(f"samples must be >= 1, got {samples}")
        self.samples = samples
        self.initial = initial

    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """The mean imagined outcome, clipped to the task's range."""
        values = []
        for s in range(self.samples):
            rng = np.random.default_rng(stable_seed("reward", seed, s))
            user, _ = _imagined_user(episode, turns, rng, self.initial)
            for t in turns:
                if t.role == "assistant":
                    if user.respond(t.text).done:
                        break
            values.append(user.outcome())
        return clip_reward(episode.env_id, float(np.mean(values)))

    def config(self) -> dict[str, Any]:
        """Name and how the initial intensity is set (saved in provenance)."""
        how = self.initial if isinstance(self.initial, str) else "read from the text"
        return {"name": self.name, "oracle": False, "initial_intensity": how}
