"""The embedded help-seeker's words: how :class:`CounselingUser` answers each turn, given what
the dynamics in :mod:`.counseling` decided."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from . import counseling as C
from . import counseling_text, uptake
from .base import Dynamics
from .counseling import NEED_ORDER, CounselingDynamics, CounselingEvents
from .cues import mentions_risk
from .embedded import EmbeddedUser
from .personas import CounselingPersona, sample_counseling_persona
from .questions import question_kind
from .realizer import EMOTION_WORDS as FEELING_WORDS

_WORD = re.compile(r"[a-z']+")


class CounselingUser(EmbeddedUser):
    """The embedded help-seeker: persona + :class:`CounselingDynamics` + worded replies."""

    domain = "counseling"
    opens = True

    def _new_persona(
        self, rng: np.random.Generator, given: dict[str, Any] | None
    ) -> tuple[CounselingPersona, Dynamics]:
        persona = sample_counseling_persona(rng, counseling_text.DETAILS, given)
        return persona, CounselingDynamics(persona)

    def _start(self) -> str | None:
        p = self.persona
        assert p is not None
        self._next_detail = 0
        self._need_revealed = False
        # what this seeker can say of their situation is fixed now and stays true
        span = next(
            (
                counseling_text.DETAIL_SPANS[d]
                for d in p.details
                if d in counseling_text.DETAIL_SPANS
            ),
            None,
        )
        openings = [
            o
            for o in counseling_text.OPENINGS
            if span in (None, "weeks") or o != counseling_text.WEEKS_OPENING
        ]
        opening = self._pick(openings)
        if opening == counseling_text.WEEKS_OPENING or span is not None:
            self._weeks = int(self._rng.integers(3, 7))  # "a few weeks", "last month"
            span = span or "weeks"
        else:
            self._weeks = int(self._rng.integers(2, 13))
        support = list(counseling_text.ANSWERS["support"])
        for d in p.details:
            support = [
                a for a in support if a in counseling_text.SUPPORT_GIVEN_DETAIL.get(d, support)
            ]
        self._facts = {
            "duration": counseling_text.DURATION_BY_SPAN[span or "weeks"],
            "support": counseling_text.WORDINGS[self._pick(support)],
            "tried": counseling_text.WORDINGS[self._pick(counseling_text.ANSWERS["tried"])],
        }
        return opening.format(emotion=self._emotion(), problem=self._problem())

    def _reply_info(self, text: str, events: CounselingEvents) -> dict[str, Any]:
        return {"risk": mentions_risk(text)}

    def outcome_details(self) -> dict[str, Any]:
        """Initial and final emotional intensity, as the seeker reports them after the chat."""
        assert self.persona is not None and self.dynamics is not None
        return {
            "initial_intensity": self.persona.intensity,
            "final_intensity": self.dynamics.final_intensity(self.state),
        }

    def privileged(self) -> dict[str, Any]:
        """Persona and emotional state (hidden from agents)."""
        assert self.persona is not None
        s = self.state
        return {
            "persona": self.persona.to_dict(),
            "state": {
                "intensity": round(s.intensity, 4),
                "understood": round(s.understood, 4),
                "heard": round(s.heard, 4),
                "resistance": round(s.resistance, 4),
            },
        }

    # -- wording -------------------------------------------------------------------------------

    def _answer(self, kind: str | None) -> str:
        """An answer of the kind the question asks; what happened (the persona's next detail,
        then the problem itself) for any other question."""
        if kind in (None, "cause"):
            detail = self._detail()
            if detail:  # led into in the words of the question, if it asked in such words
                frame = self._mirror(counseling_text.CAUSE_FRAMES, echo=True)
                lead = frame.split("{detail}")[0]
                if lead:
                    self._echoes.append(lead)
                    first = detail.split(" ", 1)[0]
                    if first != "I" and not first.startswith("I'"):
                        detail = detail[0].lower() + detail[1:]
                return lead + detail
            kind = "cause"
        options = self._facts.get(kind, counseling_text.ANSWERS[kind])
        return self._mirror(options).format(
            weeks=self._weeks, emotion=self._emotion(), problem=self._problem()
        )

    def _voiced_need(self) -> str:
        """The need this seeker voices: their own with probability :data:`NEED_CUE_FIDELITY`."""
        assert self.persona is not None
        if C.NEED_CUE_FIDELITY >= 1.0 or self._rng.random() < C.NEED_CUE_FIDELITY:
            return self.persona.need
        return self._pick([n for n in NEED_ORDER if n != self.persona.need])

    def _emotion(self) -> str:
        assert self.persona is not None
        return self._pick(
            counseling_text.EMOTION_WORDS.get(self.persona.emotion, counseling_text.DEFAULT_EMOTION)
        )

    def _problem(self) -> str:
        assert self.persona is not None
        return self._pick(
            counseling_text.PROBLEM_PHRASES.get(
                self.persona.problem, counseling_text.PROBLEM_PHRASES["other"]
            )
        )

    def _detail(self) -> str | None:
        assert self.persona is not None
        if self._next_detail >= len(self.persona.details):
            return None
        self._next_detail += 1
        return self.persona.details[self._next_detail - 1]

    def _word(self, ev: CounselingEvents) -> str:
        p, s = self.persona, self.state
        assert p is not None
        parts: list[str] = []
        if ev.harm:
            parts.append(self._pick(counseling_text.HOSTILE))
        if s.ended in ("left", "harmed"):
            parts.append(self._pick(counseling_text.LEAVE_UPSET))
            return " ".join(parts)
        if ev.risk_cared is not None:
            parts.append(
                self._pick(
                    counseling_text.RISK_CARED if ev.risk_cared else counseling_text.RISK_IGNORED
                )
            )
        said = self.agent_text
        social = uptake.acts(said) if not ev.harm else frozenset()
        main = next((x for x in ev.labels if x in ev.deltas), "Others")
        d = ev.deltas.get(main, 0.0)
        good = d < -0.05 or (main == "Question" and not ev.interrogated)
        if main == "Others":
            good = s.turn == 1 or s.fillers < 2
        mood = "pos" if good else "neg"
        if "greeting" in social:  # a greeting gets a greeting
            parts.append(self._echo(counseling_text.GREET_BACK))
        if main == "Others" and not ev.harm:  # no move: thanks or small talk, in kind
            parts.extend(self._social(social))
        elif main != "Question" or ev.interrogated:
            reaction = self._topical(said, main, mood)
            if reaction is None:
                reactions = counseling_text.REACTIONS[main][mood]
                if (
                    counseling_text.TRIED_NOTHING in self._facts["tried"]
                ):  # then nothing was "already tried"
                    reactions = tuple(r for r in reactions if r != counseling_text.ALREADY_TRIED)
                reaction = self._pick(reactions)
            parts.append(reaction)
        if "Question" in ev.labels and not ev.interrogated:  # anywhere in a stacked turn
            parts.append(self._answer(question_kind(self.agent_text)))
        elif main == "Restatement or Paraphrasing" and not ev.interrogated:
            detail = self._detail()
            if detail:
                parts.append(detail)
        elif self._rng.random() < p.disclosure * 0.5:
            detail = self._detail()
            if detail:
                parts.append(detail)
        if not self._need_revealed and (
            main in ("Question", "Reflection of feelings") or self._rng.random() < p.disclosure
        ):
            self._need_revealed = True
            parts.append(self._pick(counseling_text.NEED_CUES[self._voiced_need()]))
        if s.risk_open:
            parts.append(self._pick(counseling_text.RISK))
        elif s.feeling_open:
            parts.append(f"I just feel {self._emotion()} about {self._problem()}.")
        if s.ended == "better":
            parts = [self._pick(counseling_text.LEAVE_BETTER)]
        elif s.turn >= 3 and self._rng.random() < 0.3:
            drop = p.intensity - s.intensity
            if drop >= 1.0:
                parts.append(self._pick(counseling_text.PROGRESS))
            elif drop < 0:
                parts.append(self._pick(counseling_text.WORSE))
        if "farewell" in social and s.ended != "better":  # a goodbye gets a goodbye
            worse = p.intensity - s.intensity < 0
            parts.append(self._echo(counseling_text.FAREWELL_BACK["neg" if worse else "pos"]))
        if not parts:
            parts.append(self._pick(counseling_text.REACTIONS["Others"][mood]))
        limit = 5 if "greeting" in social else 4  # a greeting back is short
        return self._fit(parts, limit, keep=tuple(x for x in parts if x in counseling_text.RISK))

    def _social(self, social: frozenset[str]) -> list[str]:
        """The reply to a turn of no move: thanks for thanks, small talk in kind (a greeting or
        a goodbye is answered by the caller)."""
        if "offer" in social:
            return [self._echo(counseling_text.OFFER_BACK)]
        if "thanks" in social:
            return [self._echo(counseling_text.THANKS_BACK)]
        if social:
            return []
        topic = uptake.small_talk_topic(self.agent_text)
        if topic is None:
            return [
                self._pick(
                    counseling_text.REACTIONS["Others"]["pos" if self.state.fillers < 2 else "neg"]
                )
            ]
        return [self._echo(counseling_text.SMALL_TALK_BACK[topic])]

    def _topical(self, said: str, main: str, mood: str) -> str | None:
        """A reaction that names what the supporter's point was about (the feeling a
        reflection names, the subject of a suggestion), or None."""
        if main == "Reflection of feelings":
            word = next((w for w in _WORD.findall(said.lower()) if w in FEELING_WORDS), None)
            if word:  # the seeker owns a feeling they have voiced, and questions another
                assert self.persona is not None
                own = " ".join(
                    (*self.said, *counseling_text.EMOTION_WORDS.get(self.persona.emotion, ()))
                )
                fits = word in own or FEELING_WORDS[word] in own
                back = counseling_text.FEELING_BACK["pos" if fits else "neg"]
                return self._echo(back, word=word, Word=word.capitalize())
        found = uptake.topics(said, "counseling")
        return self._echo(counseling_text.TOPIC_REACTIONS[found[0]][mood]) if found else None
