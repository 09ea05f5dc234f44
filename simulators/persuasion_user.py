"""The embedded persuadee's words: how :class:`PersuasionUser` answers each turn, given what the
dynamics in :mod:`.persuasion` decided."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import persuasion_text, uptake
from .base import Dynamics
from .embedded import EmbeddedUser
from .personas import PersuasionPersona, sample_persuasion_persona
from .persuasion import INQUIRIES, PersuasionDynamics, PersuasionState, StepEvents
from .questions import question_kind

_SOFT = frozenset(
    (
        *persuasion_text.CLOSE,
        *persuasion_text.IGNORED,
        *persuasion_text.HOSTILE,
        *persuasion_text.SMALL_TALK_TIRED,
    )
    + tuple(x for opts in persuasion_text.ADDRESSED.values() for x in opts)
    + tuple(
        x for moods in persuasion_text.REACTIONS.values() for opts in moods.values() for x in opts
    )
)
"""Reply parts that may be cut for length (reactions); what the persuadee tells is kept."""


class PersuasionUser(EmbeddedUser):
    """The embedded persuadee: persona + :class:`PersuasionDynamics` + worded replies."""

    domain = "persuasion"
    opens = False

    def _new_persona(
        self, rng: np.random.Generator, given: dict[str, Any] | None
    ) -> tuple[PersuasionPersona, Dynamics]:
        persona = sample_persuasion_persona(rng, given)
        return persona, PersuasionDynamics(persona)

    def _start(self) -> str | None:
        self._revealed: set[str] = set()
        self._told: dict[str, bool] = {}  # facts about themselves told in the last reply
        return None  # the persuader speaks first

    def _reply_info(self, text: str, events: StepEvents) -> dict[str, Any]:
        """What the persuadee voiced: a concern, a pledge (0.0 for a refusal or a pledge
        withdrawn), and the facts about themselves they told this turn."""
        states_amount = events.stated is not None or events.revised is not None
        return {
            "concern": events.voiced,
            "pledge": (self.state.committed or 0.0) if states_amount else None,
            "revealed": dict(self._told),
        }

    def outcome_details(self) -> dict[str, Any]:
        """The donation in dollars."""
        return {"donation": self.outcome()}

    def privileged(self) -> dict[str, Any]:
        """Persona and mental state (hidden from agents; for analysis and the oracle)."""
        assert self.persona is not None
        s = self.state
        return {
            "persona": self.persona.to_dict(),
            "state": {
                "inclination": round(s.inclination, 4),
                "trust": round(s.trust, 4),
                "resistance": round(s.resistance, 4),
                "rapport": round(s.rapport, 4),
                "asks": s.asks,
                "open_concern": s.open_concern,
                "addressed": list(s.addressed),
                "ignored": list(s.ignored),
                "committed": s.committed,
            },
        }

    # -- wording -------------------------------------------------------------------------------

    def _word(self, ev: StepEvents) -> str:
        p, s = self.persona, self.state
        assert p is not None
        self._told = {}
        parts: list[str] = []
        if ev.harm:
            parts.append(self._pick(persuasion_text.HOSTILE))
        if s.ended == "left":
            parts.append(self._pick(persuasion_text.LEAVE))
            return " ".join(parts)
        said = self.agent_text
        social = uptake.acts(said) if not ev.harm else frozenset()
        if "greeting" in social:  # a greeting gets a greeting
            parts.append(self._echo(persuasion_text.GREET_BACK))
        if ev.addressed:
            parts.append(self._pick(persuasion_text.ADDRESSED[ev.addressed]))
        elif ev.ignored:
            parts.append(self._pick(persuasion_text.IGNORED))
        main = next((x for x in ev.labels if x in ev.gains and x not in INQUIRIES), None)
        inquiries = [x for x in ev.labels if x in INQUIRIES]
        # a question (the reader reads an inquiry, or a turn of no move asks one) gets an answer
        # of its kind, read by meaning; the inquiry's label decides only where the question is
        # of no known kind
        asks = bool(inquiries) or (main is None and not ev.asked and "?" in said)
        kind = question_kind(said, "persuasion") if asks and not ev.harm else None
        if main is None and not ev.asked and not inquiries and kind is None and not ev.harm:
            parts.extend(self._social(social, s))  # no move: thanks or small talk, in kind
        if main is not None and not ev.addressed:
            g = ev.gains[main]
            mood = "pos" if g > 0.3 else ("neg" if g <= 0.02 else "neu")
            # once pledged, a point that falls flat is only acknowledged by subject
            topical = self._topical(said, "neu" if ev.pledged and mood == "neg" else mood)
            reaction = topical or self._pick(persuasion_text.REACTIONS[main][mood])
            if (
                ev.pledged and reaction in persuasion_text.UNDECIDED
            ):  # they have decided: they said so
                reaction = "" if ev.asked else self._pick(persuasion_text.PLEDGE_AGAIN)
            if reaction:
                parts.append(reaction.format(amount=ev.pledged))
            if mood != "pos" and "type" not in self._revealed and self._rng.random() < 0.6:
                parts.append(self._reveal_type())
        if kind is not None:
            parts.append(self._answer_kind(kind))
        else:
            parts.extend(self._answer(q) for q in inquiries)
        if ev.voiced:
            parts.append(self._pick(persuasion_text.CONCERNS[ev.voiced]))
        elif "type" not in self._revealed and self._rng.random() < p.disclosure * 0.5:
            parts.append(self._reveal_type())
        parts.extend(self._about_the_pledge(ev, s))
        if s.ended == "done":
            parts.append(self._pick(persuasion_text.CLOSE))
        elif "farewell" in social:  # a goodbye gets a goodbye
            parts.append(self._echo(persuasion_text.FAREWELL_BACK["neg" if ev.ignored else "pos"]))
        if not parts:
            mood = "pos" if s.turn == 1 else "neu"
            parts.append(
                self._pick(
                    persuasion_text.REACTIONS["non-strategy"][mood if s.fillers < 2 else "neg"]
                )
            )
        # what the persuadee tells (answers, traits, a concern, a pledge) is never cut for length
        keep = tuple(x for x in parts if x not in _SOFT and x not in self._echoes)
        text = self._fit(parts, 5 if "greeting" in social else 4, keep=keep)
        filler = self._pick(persuasion_text.FILLERS)
        first = text.split(" ", 1)[0].strip(",.!?")
        if filler and text[:1].isalpha() and first not in persuasion_text.NO_FILLER_BEFORE:
            text = filler + text[0].lower() + text[1:]
        return text

    def _about_the_pledge(self, ev: StepEvents, s: PersuasionState) -> list[str]:
        """What the persuadee says of giving this turn: why a pledge fell, or the answer to an
        ask (an objection to asking again or too early, then an amount, a hesitation or no)."""
        parts: list[str] = []
        if ev.revised:  # a pledge falls only with cause, and the persuadee says why
            parts.append(self._pick(persuasion_text.REVISE[ev.revised]))
            amount = s.committed or 0.0
            parts.append(
                self._pick(
                    persuasion_text.LOWER if amount > 0 else persuasion_text.WITHDRAW
                ).format(amount=amount)
            )
        elif ev.asked:
            if ev.ask_again:
                parts.append(self._pick(persuasion_text.ASK_AGAIN))
            elif ev.ask_early and not ev.stated:
                parts.append(self._pick(persuasion_text.ASK_EARLY))
            if ev.stated and ev.stated > 0:
                if ev.pledged is None:
                    says = persuasion_text.ASK_EARLY_YES if ev.ask_early else persuasion_text.COMMIT
                else:
                    says = (
                        persuasion_text.RAISE
                        if ev.stated > ev.pledged
                        else persuasion_text.PLEDGE_AGAIN
                    )
                parts.append(self._pick(says).format(amount=ev.stated))
            elif self.dynamics and self.dynamics.margin(s, assume_asked=True) > -0.6:
                parts.append(self._pick(persuasion_text.HESITATE))
            else:
                parts.append(self._pick(persuasion_text.REFUSE))
        return parts

    def _social(self, social: frozenset[str], s: PersuasionState) -> list[str]:
        """The reply to a turn of no move: thanks for thanks, small talk in kind (impatience
        after the second turn of it); a greeting or a goodbye is answered by the caller."""
        if "thanks" in social:
            return [self._echo(persuasion_text.THANKS_BACK)]
        if social:
            return []
        if s.fillers >= 2:
            return [self._pick(persuasion_text.SMALL_TALK_TIRED)]
        return [
            self._echo(
                persuasion_text.SMALL_TALK_BACK[uptake.small_talk_topic(self.agent_text) or "other"]
            )
        ]

    def _topical(self, said: str, mood: str) -> str | None:
        """A reaction that names the subject of the agent's point, or None (no known subject)."""
        for topic in uptake.topics(said, "persuasion"):
            if topic == "story":
                who = uptake.relation(said)
                if who:
                    return self._echo(persuasion_text.TOPIC_REACTIONS[topic][mood], relation=who)
                continue
            return self._echo(persuasion_text.TOPIC_REACTIONS[topic][mood])
        return None

    def _reveal_type(self) -> str:
        assert self.persona is not None
        self._revealed.add("type")
        self._told["motivation"] = True  # a remark on what drives them (the type is not named)
        return self._pick(persuasion_text.TYPE_CUES[self.persona.main_type])

    def _answer_kind(self, kind: str) -> str:
        """An answer to a question of ``kind`` (a key of ``questions.PERSUASION_INTENTS``)."""
        p = self.persona
        assert p is not None
        if kind == "aware":
            self._told["knows_charity"] = p.aware
            return self._mirror(persuasion_text.SOURCE_ANSWER[p.aware])
        if kind == "children":
            self._revealed.add("children")
            self._told["children"] = p.has_children
            return self._mirror(
                persuasion_text.PERSONAL_ANSWER["children" if p.has_children else "no_children"]
            )
        if kind == "giving":
            self._revealed.add("giving")
            self._told["donated_before"] = p.gave_before
            return self._mirror(
                persuasion_text.PERSONAL_ANSWER["gave_before" if p.gave_before else "never_gave"]
            )
        if kind == "wellbeing":
            return self._mirror(persuasion_text.WELLBEING)
        if kind == "permission":
            return self._echo(persuasion_text.PERMISSION)
        # an opinion on giving: what drives this persona, said again in other words if need be
        return self._reveal_type()

    def _answer(self, inquiry: str) -> str:
        """An answer by the reader's inquiry label (a question of no known kind)."""
        if inquiry == "source-related-inquiry":
            return self._answer_kind("aware")
        if inquiry == "personal-related-inquiry":
            for kind in ("children", "giving"):
                if kind not in self._revealed:
                    return self._answer_kind(kind)
            return self._reveal_type()
        # task-related: the persuadee's view of giving reveals what drives them
        return self._reveal_type()
