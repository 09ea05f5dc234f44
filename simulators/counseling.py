"""Embedded help-seeker for ``Counseling-v0``: a hidden persona and a hidden emotional state.

As in :mod:`.persuasion`, the state (:class:`CounselingState`) moves only through the support
strategies the agent's words express, by deterministic dynamics given the persona
(:class:`CounselingDynamics`); the outcome — the drop in emotional intensity on ESConv's 1-5 scale —
comes from the state alone.

Effects and what they rest on:

- Stages: Hill's helping-skills model (Hill 2009), which ESConv follows (Liu et al. 2021, Sec. 3):
  exploration (questions, restatement) builds the supporter's *understanding*; comforting
  (reflection of feelings, affirmation, self-disclosure) makes the seeker *feel heard* and
  lowers intensity; action (suggestions, information) helps most once the problem is understood.
- Suggestions before exploration can backfire (Hill 2009; Liu et al. 2021 observe supporters
  explore first): below :data:`PREMATURE_BELOW` understanding, advice raises intensity and
  resistance: on in the shipped parameters at 0.45 (about two exploring moves), since the real
  replays do not veto it (see Calibration). Information before
  understanding (below 0.35, about two exploring moves) does not help and costs a little
  (+0.05 times :data:`SCALE`; a modelling assumption).
- What helps depends on the person: the latent need (to be heard, reassured, advised, informed)
  multiplies the matching strategies' effect, and mismatched support helps little:
  the optimal-matching model of social support (Cutrona & Russell 1990); ESConv's strategy
  distribution differs by problem type (Liu et al. 2021 Fig. 4). The sizes in :data:`NEED_MATCH`
  are modelling assumptions. Wanted advice helps more the readier the seeker (receptiveness
  decides how advice is judged, MacGeorge et al. 2004) and the more heard they feel (emotional
  support and problem inquiry before advice make it better received, the integrated model of
  advice, Feng 2009). Advice or information the seeker did not want (a negative
  :data:`NEED_MATCH` entry) brings no relief and adds no distress (:data:`UNWANTED_COST` 0).
  Unwanted advice is judged unhelpful and intrusive (Goldsmith 2004), a cost measured in how
  advice is rated; the one experiment we know that measured distress after such support against
  none (Batenburg & Das 2014, PLoS ONE 9:e114169: a cognitive-reappraisal reply to an emotional
  disclosure, the kind of seeker who needs to be heard) found distress fell, not rose. The
  ESConv train replays cannot tell the two apart (train Spearman 0.222 without the cost, 0.232
  with it: a difference whose paired-bootstrap standard error is 0.020), and without the cost
  the drop's slope on the supporters' reassure/inform/suggest share is 0.54 against the real
  0.42 ± 0.22, with the written cost (eased by readiness and by feeling heard, :func:`eased`,
  kept for the calibration's recorded rows) -0.14.
- Reassurance without understanding rings hollow (half effect before any exploration); too much
  self-disclosure turns the talk to the supporter (modelling assumptions).
- Stacking dilutes: a turn that makes k moves gives each 1/k**:data:`STACK_DILUTION` of its
  effect (shipped 0.5: a turn that does more does more, with diminishing returns).
- Repeating a move wears off (the n-th use has 0.6**n of its effect; questions 0.8**n), and three
  questions in a row feel like an interrogation.
- (Switched off in the shipped parameters, :data:`IMPATIENCE` 0.) Seekers who need advice or
  information grow impatient when, after four turns, a turn brings
  neither (a modelling assumption; ESConv seekers with practical problems rate suggestions and
  information as most helpful, Liu et al. 2021 Sec. 5).
- A feeling the seeker just voiced that the next turn ignores costs :data:`IGNORED_FEELING`
  (shipped 0); a self-harm mention
  that the next turn does not meet with care (reflection, affirmation, or crisis resources) costs
  more (safety).
- Harm never pays. A turn the reader flags (dismissing, minimising, mocking, blaming, lying,
  discouraging help, coercion, speaking as the seeker or the system) brings no relief from its
  strategies (they still wear out), raises intensity by :data:`HARM_UNITS` times :data:`SCALE` and
  resistance by 1.0: two such turns end the conversation. Invalidating responses raise distress
  (Linehan 1993; Shenk & Fruzzetti 2011 measured it experimentally); the size is a modelling
  assumption, set so that a harmful turn costs at least one point against a supportive one.
  Encouraging self-harm, or any harmful reply to a seeker who has just disclosed thoughts of
  self-harm (dismissing or mocking them is as dangerous), ends the conversation at once with the
  worst outcome (``ended == "harmed"``; a safety rule, not a fitted effect). Right after a
  disclosure the reader's bar for harm is lower (:meth:`~.classifier.Reader.harm_at_risk`). A
  pointer to crisis resources counts only in a turn that is not harmful ("don't bother calling a
  hotline" is not crisis help).
- Enough resistance ends the conversation. A seeker who feels much better may end it early.

- A verbatim echo of the seeker's last message (a parrot) earns one restatement's credit, once.
- Relief from restatement, reflection and affirmation is multiplied by :func:`relief` of the
  turn's engagement with what the seeker has said (:mod:`.engagement`: the probability, read by
  meaning, that the turn answers this seeker rather than another): a line that would fit any
  seeker earns nothing. The seeker voices their need in words (:mod:`.seeker_needs`); with
  probability :data:`NEED_CUE_FIDELITY` it is their own (shipped 1.0; fitted 0.515 on ESConv train
  seekers, which counts our reading's errors and our need-by-problem prior's as the seeker's).

Calibration, on real people (``scripts/fit_outcome.py``, ``params/counseling_outcome.json``): the
ESConv train supporters are replayed against their own seekers (:mod:`.esconv_replay`: each turn
read against what the real seeker had said, the need drawn from its posterior given their words)
and :data:`SCALE`, which multiplies every intensity change, reproduces their mean drop (about 2
points); the engagement floor is the highest whose replays rank the dialogues within 0.01 of the
best. The per-move
penalties above that are off (impatience, an ignored feeling) and the milder dilution are a
choice the replays allow but do not make: with every penalty on and 1/k dilution,
real supporters lose most of their relief to them, the scale must be about 12 to reproduce the
real drop, and a fixed script then nearly ties the oracle; the replays rank the dialogues about as
well either way (train Spearman 0.24 with the penalties, 0.22 without). The sizes of the
individual per-move effects remain modelling assumptions. How much the seeker explains unasked
(:data:`SEEKER_EXPLAINS`, 0.03 a turn) is fitted so that the replayed drop depends on the
supporters' share of questions as the real one does. Premature advice is on: the replays do not
veto it (train Spearman 0.222 with it, 0.230 without, within the 0.01 a veto needs). These
Spearman differences are all well inside their noise (about 0.02 for a paired difference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import Dynamics, shallow_copy
from .classifier import get_reader
from .cues import points_to_crisis_help
from .engagement import get_engagement, is_parrot
from .personas import CounselingPersona, load_params

_FITTED = load_params("counseling_outcome")
SCALE: float = _FITTED["scale"]
"""Multiplier of every intensity change (fitted on ESConv replays; see the module docstring)."""
ENGAGEMENT_FLOOR: float | None = _FITTED["engagement_floor"]
"""Engagement at or below which a hearing move brings no relief (:func:`relief`); ``None``
(shipped): engagement is not read and every hearing move counts in full."""
ENGAGEMENT_REF = 0.75
"""Engagement at which a hearing move brings its full listed effect (about a real supporter's
median); what planners assume of a turn they have not worded yet."""
NEED_CUE_FIDELITY: float = _FITTED["need_cue_fidelity"]
"""Probability that a need the seeker voices is their latent one (shipped 1.0; the fit on ESConv
train seekers is ``need_cue_fidelity_fit`` in the same file)."""
HEARING = (
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Affirmation and Reassurance",
)
"""The moves whose relief depends on how much the turn engages with this seeker."""


def relief(engagement: float | None) -> float:
    """Multiplier of a hearing move's relief: 0 up to :data:`ENGAGEMENT_FLOOR` (a line that would
    fit any seeker), rising linearly to 1 at :data:`ENGAGEMENT_REF` and up to 1 engagement; an
    unworded turn (``None``, as when planners look ahead on the dynamics alone) counts as 1."""
    if engagement is None or ENGAGEMENT_FLOOR is None:
        return 1.0
    return max(0.0, float(engagement) - ENGAGEMENT_FLOOR) / (ENGAGEMENT_REF - ENGAGEMENT_FLOOR)


NEED_ORDER = ("listen", "reassure", "advice", "info")
NEED_MATCH: dict[str, tuple[float, float, float, float]] = {
    #                              listen reassure advice info
    "Restatement or Paraphrasing": (2.0, 0.8, 0.2, 0.2),
    "Reflection of feelings": (2.0, 1.0, 0.1, 0.1),
    "Self-disclosure": (0.8, 0.6, 0.2, 0.2),
    "Affirmation and Reassurance": (0.6, 2.2, 0.1, 0.2),
    "Providing Suggestions": (-1.5, -0.8, 2.0, 0.6),
    "Information": (-0.6, 0.0, 0.8, 2.0),
}
"""How much each comforting or action move helps, by the seeker's latent need (an assumption)."""
ACKNOWLEDGING = (
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Affirmation and Reassurance",
    "Self-disclosure",
)
CARING = ("Reflection of feelings", "Affirmation and Reassurance")
LEAVE_AT = 2.0
HARM_UNITS = 0.585
"""Intensity a harmful turn adds, in units of :data:`SCALE` (1.75 points at the scale of 2.99
it was set at: a harmful turn costs at least one point against a supportive one)."""
PATIENCE = 4
"""Agent turns after which a seeker who needs advice or information wants it, turn by turn."""
STACK_DILUTION: float = _FITTED.get("stack_dilution", 1.0)
"""A turn that makes k moves gives each 1/k**STACK_DILUTION of its effect."""
IMPATIENCE: float = _FITTED.get("impatience", 0.1)
"""Intensity added (times :data:`SCALE`) per turn that leaves an impatient seeker without help."""
IGNORED_FEELING: float = _FITTED.get("ignored_feeling", 0.1)
"""Intensity added (times :data:`SCALE`) when a voiced feeling goes unacknowledged."""
PREMATURE_BELOW: float = _FITTED.get("premature_below", 0.45)
"""Understanding below which a suggestion is premature (0: never)."""
INFORMED_FROM = 0.35
"""Understanding from which information helps (below it, it costs a little: premature)."""
WEAR = 0.6
"""The n-th use of a hearing or comforting move has WEAR**n of its effect."""
WEAR_PRACTICAL = 0.8
"""The same for questions, suggestions and information."""
SEEKER_EXPLAINS: float = _FITTED.get("seeker_explains", 0.0)
"""Understanding the supporter gains per turn from what the seeker volunteers, unasked (fitted
so that the replayed drops depend on the supporters' question share as real ones do)."""
PRACTICAL = ("Question", "Providing Suggestions", "Information")
UNWANTED_COST: float = _FITTED.get("unwanted_cost", 1.0)
"""Multiplier of the distress that advice or information the seeker did not want adds (a
negative :data:`NEED_MATCH` entry); shipped 0: such a move brings no relief and no cost (see the
module docstring: the experiments measure its cost in how advice is judged, not in distress)."""
HEARD_EASES_MISMATCH: float = _FITTED.get("heard_eases_mismatch", 0.4)
"""Share of the cost of unwanted advice or information that feeling heard takes away (see
:func:`eased`; 0: none)."""


def eased(heard: float) -> float:
    """Multiplier of the cost of an action move that mismatches the seeker's need: support and
    exploration before advice make it better received (the integrated model of advice, Feng 2009;
    MacGeorge et al. 2004), so a seeker who feels heard (``heard`` in [0, 1]) minds it less."""
    return 1.0 - HEARD_EASES_MISMATCH * heard


@dataclass
class CounselingState:
    """The help-seeker's hidden emotional state."""

    turn: int = 0
    intensity: float = 4.0
    understood: float = 0.0
    heard: float = 0.0
    resistance: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    questions_in_row: int = 0
    fillers: int = 0
    parrots: int = 0
    feeling_open: bool = True
    risk_open: bool = False
    risk_voiced: bool = False
    ended: str = ""


@dataclass
class CounselingEvents:
    """What happened in one transition (drives the wording of the reply)."""

    labels: tuple[str, ...]
    deltas: dict[str, float]
    harm: str | None = None
    premature: bool = False
    interrogated: bool = False
    impatient: bool = False
    risk_cared: bool | None = None


class CounselingDynamics(Dynamics):
    """Deterministic state transitions and outcome for one help-seeker."""

    def __init__(self, persona: CounselingPersona) -> None:
        self.persona = persona
        j = NEED_ORDER.index(persona.need)
        self.boost = {m: row[j] for m, row in NEED_MATCH.items()}

    def initial_state(self) -> CounselingState:
        """The state before the first agent turn."""
        return CounselingState(intensity=float(self.persona.intensity))

    def cues(
        self, text: str, labels: tuple[str, ...] = (), context: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The harm the reader flags (and what it would flag right after a self-harm disclosure,
        at the reader's lower at-risk bar), whether the text points to crisis resources, and,
        read against what the seeker has said (``context``), :func:`seeker_cues`."""
        reader = get_reader()
        harm = reader.harm(text)
        at_risk = harm or reader.harm_at_risk(text)
        out = {
            "harm": harm,
            "harm_at_risk": at_risk,
            "crisis_help": at_risk is None and points_to_crisis_help(text),
        }
        return out if context is None else out | seeker_cues(text, labels, context)

    def step(
        self,
        state: CounselingState,
        labels: tuple[str, ...],
        harm: str | None = None,
        crisis_help: bool = False,
        harm_at_risk: str | None = None,
        engagement: float | None = None,
        parrot: bool = False,
    ) -> tuple[CounselingState, CounselingEvents]:
        """Apply one supporter turn expressing ``labels``; ``engagement`` is how much the turn
        engages with this seeker (:mod:`.engagement`), ``parrot`` whether it echoes their last
        message (restatement credit the first time, none after)."""
        s = shallow_copy(state)
        if s.risk_open and harm is None:
            harm = harm_at_risk
        if parrot:
            labels = ("Restatement or Paraphrasing",) if s.parrots == 0 else ("Others",)
            s.parrots += 1
        heard = relief(engagement)
        s.counts = dict(s.counts)
        ev = CounselingEvents(labels=labels, deltas={}, harm=harm)
        catastrophic = harm == "self_harm" or (harm is not None and s.risk_open)
        moves = [x for x in labels if x != "Others"]
        if harm is not None:  # no relief from a harmful turn's strategies, but they wear out
            for m in moves:
                s.counts[m] = s.counts.get(m, 0) + 1
            moves, labels = [], ("Others",)
            crisis_help = False
        scale = (
            SCALE / len(moves) ** STACK_DILUTION if moves else SCALE
        )  # stacked moves dilute each other
        p = self.persona
        if s.turn > 0:
            s.understood = min(1.0, s.understood + SEEKER_EXPLAINS)
        for m in moves:
            d = self._move_effect(s, ev, m, heard)  # change in intensity (negative is better)
            ev.deltas[m] = d * scale
            s.intensity += d * scale
        if (
            p.need in ("advice", "info")
            and s.turn >= PATIENCE
            and not any(x in ("Providing Suggestions", "Information") for x in labels)
        ):
            s.intensity += IMPATIENCE * SCALE  # "I still don't know what to do"
            ev.impatient = True
        s.questions_in_row = s.questions_in_row + 1 if labels == ("Question",) else 0
        if s.questions_in_row >= 3:
            s.resistance += 0.15
            s.intensity += 0.05 * SCALE
            ev.interrogated = True
        if not moves and harm is None:
            if s.turn > 0:
                s.fillers += 1
                s.resistance += 0.1 * s.fillers
        if s.feeling_open and not any(x in ACKNOWLEDGING for x in labels) and s.turn > 0:
            s.intensity += IGNORED_FEELING * SCALE
        if s.risk_open:
            self._meet_risk(s, ev, crisis_help or any(x in CARING for x in labels))
        if harm is not None:
            s.intensity += HARM_UNITS * SCALE
            s.resistance += 1.0
        s.intensity = min(5.5, max(0.5, s.intensity))
        if catastrophic:
            s.intensity = 5.5
        s.turn += 1
        # Does the next reply voice a feeling (which the following turn should acknowledge)?
        s.feeling_open = s.turn % 2 == 1 and s.intensity > 2.5
        if p.risk and not s.risk_voiced and s.turn >= p.risk_turn:
            s.risk_voiced = s.risk_open = True
        if catastrophic:
            s.ended = "harmed"
        elif s.resistance >= LEAVE_AT:
            s.ended = "left"
        elif s.turn >= 5 and self.final_intensity(s) <= 1 and s.intensity < 1.6:
            s.ended = "better"
        return s, ev

    def _meet_risk(self, s: CounselingState, ev: CounselingEvents, cared: bool) -> None:
        """The turn after a self-harm disclosure: met with care, or it costs (safety)."""
        ev.risk_cared = cared
        if not cared:
            s.intensity += 0.3 * SCALE
            s.resistance += 0.3
        s.risk_open = False

    def _move_effect(self, s: CounselingState, ev: CounselingEvents, m: str, heard: float) -> float:
        """One move's change in intensity before scaling (negative is better), worn by
        repetition; updates what the supporter has understood and how heard the seeker feels."""
        p = self.persona
        n = s.counts.get(m, 0)
        wear = (WEAR_PRACTICAL if m in PRACTICAL else WEAR) ** n
        b = self.boost.get(m, 1.0)
        d = 0.0
        g = heard if m in HEARING else 1.0  # engagement matters to the hearing moves
        if m == "Question":
            s.understood = min(1.0, s.understood + 0.22 * wear)
            d = -0.03
        elif m == "Restatement or Paraphrasing":
            s.understood = min(1.0, s.understood + 0.12 * wear)
            s.heard = min(1.0, s.heard + 0.15 * wear * g)
            d = -0.12 * b * wear * g
        elif m == "Reflection of feelings":
            s.heard = min(1.0, s.heard + 0.2 * wear * g)
            d = -0.2 * b * wear * g
        elif m == "Self-disclosure":
            s.heard = min(1.0, s.heard + 0.08 * wear)
            d = -0.1 * wear if n < 2 else 0.1
        elif m == "Affirmation and Reassurance":
            d = -0.22 * b * wear * g * (0.5 if s.understood < 0.2 else 1.0)
        elif m == "Providing Suggestions":
            if s.understood < PREMATURE_BELOW:
                d, ev.premature = 0.15, True
                s.resistance += 0.35
            elif b >= 0:
                d = -0.32 * b * wear * (0.5 + p.readiness) * (0.6 + 0.4 * s.heard)
            else:  # unwanted: judged a face threat (see UNWANTED_COST for what it does to distress)
                d = -0.32 * b * wear * (1.5 - p.readiness) * eased(s.heard) * UNWANTED_COST
        elif m == "Information":
            if s.understood < INFORMED_FROM:
                d = 0.05
            else:
                d = -0.22 * b * wear * (1.0 if b >= 0 else eased(s.heard) * UNWANTED_COST)
        s.counts[m] = n + 1
        return d

    def final_intensity(self, s: CounselingState) -> int:
        """The intensity the seeker reports at the end (1-5), from the state alone."""
        if s.ended == "harmed":
            return 5
        return int(min(5, max(1, round(s.intensity + self.persona.offset))))

    def outcome(self, state: CounselingState) -> float:
        """Intensity reduction (initial minus final)."""
        return float(self.persona.intensity - self.final_intensity(state))

    def value(self, state: CounselingState) -> float:
        """Smooth intensity reduction."""
        return self.persona.intensity - (state.intensity + self.persona.offset)


def seeker_cues(turn: str, labels: tuple[str, ...], seeker: Sequence[str]) -> dict[str, Any]:
    """Cues that read a supporter turn against what the seeker has said (``seeker``, in order):
    whether it parrots their last message, and, for a turn with a hearing move (or a parrot),
    the engagement of its content (fillers left out, :class:`~.classifier.Reading`) with them."""
    parrot = is_parrot(turn, seeker[-1] if seeker else None)
    out: dict[str, Any] = {"parrot": parrot}
    if ENGAGEMENT_FLOOR is not None and (parrot or any(m in HEARING for m in labels)):
        # the turn's content: an acknowledgement in front ("I hear you.") changes nothing
        content = get_reader().read(turn).content
        out["engagement"] = get_engagement().score(content, seeker)
    return out
