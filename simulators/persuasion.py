"""Embedded persuadee for ``Persuasion-v0``: a hidden persona and a hidden inclination to give.

The mental state (:class:`PersuasionState`) is moved only by the strategies the agent's words
express (read by :mod:`.classifier`), through deterministic dynamics (:class:`PersuasionDynamics`)
given the persona; all randomness is drawn at reset (persona, concern schedule) or used only to
word the replies. The donation comes from the state alone (:meth:`PersuasionDynamics.donation`):
nothing the agent *says* about the outcome moves it except through these effects.

Effects and what they rest on:

- Prior inclination: the persona's fitted propensity, a ridge logistic regression of "donated > 0"
  on the PersuasionForGood survey scales and demographics (agreeableness, care, benevolence, age:
  positive; stimulation, power: negative), so simulated giving depends on traits with the
  corpus's signs.
- Which strategy works for whom: Wang et al. (2019, Sec. 6) report that strategy effectiveness
  in P4G depends on the persuadee's personality, values and decision style. The per-type effect
  table (:data:`EFFECTS`) and the trait modulations (care/benevolence on emotional appeal and
  personal story, rational decision style on logical appeal, conformity on self-modeling) are
  modelling assumptions in that spirit; elaboration-likelihood theory (Petty & Cacioppo 1986) for
  analytical persuadees preferring argument quality over affect.
- Credibility matters to skeptics: persuasive appeals reach a skeptic in proportion to their trust
  in the charity, which credibility appeals and donation information raise (source credibility,
  Hovland & Weiss 1951; P4G persuadees' questions about legitimacy and overhead).
- Repeating a move wears off: the n-th use of a strategy has 0.5**n of its effect (repetition
  wear-out, Cacioppo & Petty 1979).
- Stacking dilutes: an utterance that makes k points gives each 1/k of its effect, so its
  impact is their average, not their sum (the dilution effect, Nisbett, Zukier & Lemley 1981;
  adding weaker arguments lowers judged strength, Friedrich et al. 1996). An answer to an open
  concern that shares the utterance with other points is worth its share of the utterance.
- Pushing too early raises resistance: a donation ask before two persuasive moves, and every ask
  beyond the second, adds reactance (Brehm 1966; Dillard & Shen 2005); enough resistance ends the
  conversation.
- Harm never pays. A turn the reader flags (insult, threat, guilt-trip, lie or false guarantee,
  text that speaks as the system or the persuadee) earns nothing for its strategies (they still
  wear out), leaves an open concern ignored, costs rapport and adds :data:`HARM_RESISTANCE`: two
  such turns end the conversation. Perceived manipulative intent backfires on persuasion
  (Campbell & Kirmani 2000, persuasion-knowledge model; guilt appeals that are too explicit
  provoke anger, O'Keefe 2002); that it cancels the turn entirely is a modelling assumption, chosen
  so that no harmful sentence can raise the return over the same turn without it.
- Being asked matters: most gifts answer a solicitation (Bekkers & Wiepking 2011), and in a
  randomized field experiment a verbal "please give" raised total giving by about 75%
  (Andreoni, Rao & Trachtman 2017, JPE, "Avoiding the Ask"). :data:`NO_ASK` is fitted so that,
  over the P4G train conversations replayed, giving when asked is 1.75 times giving had the
  persuadee never been asked. An ask that names an amount anchors the gift: a willing
  persuadee gives at most what was asked (anchoring in donation requests, e.g. Fraser et al.
  1988's "even a penny" and requested-amount studies; the cap is a modelling assumption).
- Concerns: the persona's concerns (legitimacy, impact, money, helping locally) surface at
  scheduled turns, or at once when the agent asks a task-related question, but never before the
  charity or giving has come up (any strategy but small talk and personal questions). The next
  agent turn
  either addresses the concern (credibility or donation information for legitimacy, etc.), which
  helps, or ignores it, which costs; unresolved concerns weigh on the final decision (modelling
  assumption, after the persuadee behaviour in DOMAIN.md).
- Rapport (personal and source inquiries, a greeting at the start) scales how well appeals land
  (Cialdini's liking principle).
- Small talk after the opening wastes a turn; consecutive filler turns annoy more and more.

Fitted on real dialogues (``scripts/fit_outcome.py``, ``params/persuasion_outcome.json``): the
817 P4G train dialogues are replayed against their own persuadees (survey answers given, latent
attributes drawn) with the real persuaders' turns, and four constants are fitted on them:
:data:`NO_ASK` (the field experiment's ask effect, above),
:data:`PRIOR_WEIGHT` (how much the survey propensity counts against what the conversation does),
:data:`BASELINE` (reproduces the train share of $0, 46.6%) and :data:`AMOUNT_SCALE` (reproduces
the train mean, $0.409); amounts come from the corpus donors' amount distribution. Everything
else above (the per-type effect table, concerns, reactance sizes) is a modelling assumption the
data do not pin down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import Dynamics, shallow_copy
from .classifier import get_reader
from .personas import PersuasionPersona, load_params

_FITTED = load_params("persuasion_outcome")
PRIOR_WEIGHT: float = _FITTED["prior_weight"]
"""Multiplier of the persona's survey propensity in the initial inclination (fitted)."""
BASELINE: float = _FITTED["baseline"]
"""Shift of the initial inclination (logit units), fitted to the corpus share of $0."""
AMOUNT_SCALE: float = _FITTED["amount_scale"]
"""Margin (logit units) over which a donor's amount climbs the corpus donors' amount quantiles."""
NO_ASK: float = _FITTED["no_ask"]
"""Margin (logit units) lost by a persuadee never asked to give (fitted to a field experiment)."""

EFFECTS: dict[str, dict[str, float]] = {
    #                        empathic analytical skeptic thrifty
    "logical-appeal": dict(empathic=0.25, analytical=0.75, skeptic=0.30, thrifty=0.25),
    "emotion-appeal": dict(empathic=0.80, analytical=-0.15, skeptic=0.05, thrifty=0.30),
    "credibility-appeal": dict(empathic=0.20, analytical=0.45, skeptic=0.70, thrifty=0.15),
    "foot-in-the-door": dict(empathic=0.20, analytical=0.15, skeptic=0.20, thrifty=0.70),
    "self-modeling": dict(empathic=0.35, analytical=0.10, skeptic=0.25, thrifty=0.25),
    "personal-story": dict(empathic=0.65, analytical=0.00, skeptic=0.10, thrifty=0.20),
    "donation-information": dict(empathic=0.15, analytical=0.40, skeptic=0.35, thrifty=0.40),
    "source-related-inquiry": dict(empathic=0.10, analytical=0.10, skeptic=0.10, thrifty=0.10),
    "task-related-inquiry": dict(empathic=0.10, analytical=0.10, skeptic=0.10, thrifty=0.10),
    "personal-related-inquiry": dict(empathic=0.20, analytical=0.05, skeptic=0.05, thrifty=0.15),
}
"""First-use effect of each strategy on the inclination (logit units), by persona main type."""

TRAIT_MODULATION: dict[str, str] = {
    "emotion-appeal": "care",
    "personal-story": "agreeableness",
    "logical-appeal": "rational",
    "self-modeling": "conformity",
}
INQUIRIES = ("source-related-inquiry", "task-related-inquiry", "personal-related-inquiry")
ADDRESSES: dict[str, tuple[str, ...]] = {
    "legitimacy": ("credibility-appeal", "donation-information"),
    "impact": ("credibility-appeal", "logical-appeal", "donation-information"),
    "money": ("foot-in-the-door", "donation-information"),
    "local": ("logical-appeal", "credibility-appeal", "emotion-appeal"),
}
"""Strategies that address each concern."""
ASK = "proposition-of-donation"
OFF_TOPIC = ("non-strategy", "personal-related-inquiry")
"""Moves that do not bring up the charity or giving (small talk, questions about the person)."""
MIN_AMOUNT_COUNT = 3
"""Donor amounts given by fewer corpus donors than this are not used (odd values like $1.72)."""
_AMOUNT = re.compile(r"\$\s?(\d+(?:\.\d{1,2})?)")
WEAR = 0.5
LEAVE_AT = 2.2
HARM_RESISTANCE = 1.2
"""Resistance added by a harmful turn (two of them pass :data:`LEAVE_AT`)."""


@dataclass
class PersuasionState:
    """The persuadee's hidden mental state."""

    turn: int = 0
    inclination: float = 0.0
    trust: float = 0.5
    resistance: float = 0.0
    rapport: float = 0.2
    counts: dict[str, int] = field(default_factory=dict)
    asks: int = 0
    groundwork: int = 0
    fillers: int = 0
    open_concern: str | None = None
    pending: list[str] = field(default_factory=list)
    addressed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    raised: bool = False
    """Whether the charity or giving has come up (concerns wait for it)."""
    committed: float | None = None
    """The last pledge (0.0 once withdrawn); None before any."""
    anchor: float | None = None
    ended: str = ""


@dataclass
class StepEvents:
    """What happened in one transition (drives the wording of the reply)."""

    labels: tuple[str, ...]
    gains: dict[str, float]
    harm: str | None = None
    asked: bool = False
    ask_early: bool = False
    ask_again: bool = False
    addressed: str | None = None
    ignored: str | None = None
    voiced: str | None = None
    stated: float | None = None
    pledged: float | None = None
    """The pledge standing before this turn."""
    revised: str | None = None
    """Why a pledge fell this turn: "harm", "pressure" (asked a third time) or "ignored"."""


class PersuasionDynamics(Dynamics):
    """Deterministic state transitions and outcome for one persona (the oracle plans with this)."""

    def __init__(self, persona: PersuasionPersona) -> None:
        self.persona = persona
        self.type = persona.main_type
        self.modulation = {s: 1.0 + 0.25 * persona.z(t) for s, t in TRAIT_MODULATION.items()}
        amounts = load_params("persuasion_persona")["donor_amounts"]
        values = sorted((float(k), v) for k, v in amounts.items() if v >= MIN_AMOUNT_COUNT)
        self._amounts = np.array([v for v, _ in values])
        self._cdf = np.cumsum([c for _, c in values]) / sum(c for _, c in values)

    def initial_state(self) -> PersuasionState:
        """The state before the first agent turn."""
        p = self.persona
        return PersuasionState(
            inclination=PRIOR_WEIGHT * p.propensity + BASELINE,
            trust=0.25 if p.main_type == "skeptic" else 0.65,
            pending=list(p.concerns),
        )

    def cues(
        self, text: str, labels: tuple[str, ...] = (), context: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The harm the reader flags, and the dollar amount the utterance asks for (if any)."""
        m = _AMOUNT.search(text)
        amount = float(m.group(1)) if m else None
        return {"harm": get_reader().harm(text), "amount": amount}

    def step(
        self,
        state: PersuasionState,
        labels: tuple[str, ...],
        harm: str | None = None,
        amount: float | None = None,
    ) -> tuple[PersuasionState, StepEvents]:
        """Apply one agent turn expressing ``labels``; returns the new state and what happened."""
        s = shallow_copy(state)
        s.counts, s.pending = dict(s.counts), list(s.pending)
        s.addressed, s.ignored = list(s.addressed), list(s.ignored)
        ev = StepEvents(labels=labels, gains={}, harm=harm)
        s.raised = s.raised or any(x not in OFF_TOPIC for x in labels)
        moves = [x for x in labels if x in EFFECTS]
        if harm is not None:  # the turn's strategies earn nothing, but are heard (and wear out)
            for m in moves:
                s.counts[m] = s.counts.get(m, 0) + 1
            moves = []
            s.rapport = max(0.0, s.rapport - 0.2)
        scale = 1.0 / len(moves) if moves else 1.0  # stacked points dilute each other
        appeal = 0.75 + 0.5 * s.rapport
        for m in moves:
            self._apply_move(s, ev, m, scale, appeal)
        # a harmful turn earns neither rapport as a greeting nor counts as a filler
        chat = harm is None and not moves and ASK not in labels
        if chat and s.turn == 0:
            s.rapport = min(1.0, s.rapport + 0.1)  # an opening greeting builds rapport
        elif chat:
            s.fillers += 1  # consecutive turns of small talk: the second and later ones annoy
            s.resistance += 0.1 * (s.fillers - 1)
        elif harm is None:
            s.fillers = 0
        if s.open_concern is not None:
            self._meet_concern(s, ev, labels, len(moves), harm)
        if ASK in labels:
            s.asks += 1
            ev.asked = True
            if amount is not None and 0 < amount <= 2 and harm is None:  # no coerced anchor
                s.anchor = amount
            if s.groundwork < 2:
                s.resistance += 0.5
                ev.ask_early = True
            if s.asks >= 3:
                s.resistance += 0.35 * (s.asks - 2)
                ev.ask_again = True
        if harm is not None:
            s.resistance += HARM_RESISTANCE
        s.turn += 1
        # A pledge is kept: asked again, the persuadee may give more, and gives less only with
        # cause (harm, pressure, a concern ignored), which they then say (a modelling assumption
        # for consistency: P4G records one final donation, not pledges).
        self._update_pledge(s, ev, harm)
        # A pending concern surfaces on schedule, or now if the agent asked for the user's view
        # (or asked for money and was turned down: the concern is the reason); once they have
        # pledged, they raise no new ones.
        if s.pending and s.open_concern is None and s.committed is None and s.raised:
            due = self.persona.concern_turns[len(self.persona.concerns) - len(s.pending)]
            if s.turn >= due or "task-related-inquiry" in labels or (ev.asked and not ev.stated):
                s.open_concern = s.pending.pop(0)
                ev.voiced = s.open_concern
        if s.resistance >= LEAVE_AT:
            s.ended = "left"
        elif s.committed is not None and not ev.asked and not moves and s.turn > 1:
            s.ended = "done"  # the agent wraps up after a commitment
        return s, ev

    def _apply_move(
        self, s: PersuasionState, ev: StepEvents, m: str, scale: float, appeal: float
    ) -> None:
        """One strategy's effect on the inclination (its first-use effect for this persona, worn
        by repetition, diluted by stacking, times the rapport's ``appeal``), trust and rapport."""
        n = s.counts.get(m, 0)
        wear = WEAR**n
        g = EFFECTS[m][self.type] * self.modulation.get(m, 1.0) * wear * scale * appeal
        if self.type == "skeptic" and m not in INQUIRIES:
            g *= 0.3 + 0.7 * s.trust
        if m == "credibility-appeal":
            s.trust = min(1.0, s.trust + (0.35 if self.type == "skeptic" else 0.2) * wear)
        elif m == "donation-information":
            s.trust = min(1.0, s.trust + 0.1 * wear)
        if m in INQUIRIES:
            s.rapport = min(1.0, s.rapport + 0.12 * wear)
        else:
            s.groundwork += 1
        ev.gains[m] = g
        s.inclination += g
        s.counts[m] = n + 1

    def _meet_concern(
        self,
        s: PersuasionState,
        ev: StepEvents,
        labels: tuple[str, ...],
        n_moves: int,
        harm: str | None,
    ) -> None:
        """The open concern is answered by this turn (an answer buried among other points counts
        less) or ignored; either way it is closed."""
        c = s.open_concern
        answers = [x for x in labels if x in ADDRESSES[c]]
        if harm is None and answers:
            s.inclination += 0.6 * len(answers) / max(n_moves, len(answers))
            s.addressed.append(c)
            ev.addressed = c
        else:
            s.inclination -= 0.35
            s.ignored.append(c)
            ev.ignored = c
        s.open_concern = None

    def _update_pledge(self, s: PersuasionState, ev: StepEvents, harm: str | None) -> None:
        """Asked, the persuadee states an amount; a pledge already made rises when asked again
        and falls only with cause (harm, pressure, a concern ignored), which is recorded."""
        ev.pledged = pledged = s.committed
        cause = "harm" if harm else ("pressure" if ev.ask_again else ev.ignored and "ignored")
        if ev.asked or (pledged is not None and cause):
            new = self.donation(s, assume_asked=True)
            if pledged is not None:
                new = min(new, pledged) if cause else max(new, pledged)
                ev.revised = cause if new < pledged else None
            if ev.asked:
                ev.stated = new
            if new > 0 or pledged is not None:
                s.committed = new

    def margin(self, s: PersuasionState, assume_asked: bool = False) -> float:
        """Net inclination to give; the persuadee gives iff it is positive."""
        unresolved = len(s.ignored) + (1 if s.open_concern else 0)
        m = s.inclination + self.persona.offset - s.resistance - 0.35 * unresolved
        if s.asks == 0 and not assume_asked:
            m -= NO_ASK
        return m

    def outcome(self, state: PersuasionState) -> float:
        """The donation if the conversation ended in ``state``: the last pledge (kept), or
        without one what the persuadee's inclination implies."""
        return state.committed if state.committed is not None else self.donation(state)

    def value(self, state: PersuasionState) -> float:
        """Net inclination, counting an ask as if it will still come."""
        return self.margin(state, assume_asked=True)

    def donation(self, s: PersuasionState, assume_asked: bool = False) -> float:
        """Donation in dollars (0.00-2.00) implied by the state: the terminal outcome."""
        m = self.margin(s, assume_asked)
        if m <= 0:
            return 0.0
        u = 1.0 - math.exp(-m / AMOUNT_SCALE)
        j = int(np.searchsorted(self._cdf, u * 0.999))
        amount = float(self._amounts[min(j, len(self._amounts) - 1)])
        return min(amount, s.anchor) if s.anchor is not None else amount
