"""The study's logic, apart from HTTP: a participant's steps, agent turns, answers, and the
checks on what a study may use."""

from __future__ import annotations

import copy
import hmac
import threading
from collections import OrderedDict
from typing import Any

from ..agents.base import Agent
from ..agents.registry import is_privileged, make_agent
from ..domains import env_domain
from ..errors import InvalidInput
from ..play import agent_view
from .design import LIKERT, MAX_AGENTS, QUESTIONS, draw_card, latin_square
from .store import Participant, StudyStore

MAX_MESSAGE_CHARS = 1000
"""Longest message a participant may send (the env's utterance limit is similar)."""
MAX_COMMENT_CHARS = 2000
"""Longest free-text comment."""
AGENT_CACHE = 256
"""Agents kept in memory between turns (least recently used dropped; rebuilt on demand)."""
LOCK_STRIPES = 64
"""Locks that serialise each conversation's writes (a conversation's is chosen by its key)."""


class Study:
    """The study's logic, independent of HTTP: steps, agent turns, answers."""

    def __init__(self, store: StudyStore) -> None:
        cfg = store.config
        self.store = store
        self.domain = env_domain(cfg.env_id)
        self.questions = QUESTIONS[self.domain]
        self.n_agents = len(cfg.agents)
        # one loaded agent per spec: a conversation's agent is a shallow copy, reset for it (the
        # Agent contract: per-episode memory lives in attributes that reset() assigns), so a
        # model is loaded once, not once per conversation
        self._prototypes = {spec: make_agent(spec, self.domain) for spec in check_agents(cfg)}
        self._agents: OrderedDict[tuple[int, int], tuple[Agent, int]] = OrderedDict()
        # a fixed set of locks, a conversation's chosen by its key: bounded however many people
        # take part (two conversations that share one wait for each other; none holds two)
        self._locks = tuple(threading.Lock() for _ in range(LOCK_STRIPES))
        self._guard = threading.Lock()

    # -- steps -----------------------------------------------------------------------------------

    def join(
        self, invite: str | None = None, places: int | None = None
    ) -> tuple[str, Participant] | None:
        """A new participant (token, record) with their persona card; ``None`` if ``invite`` is
        given and not open, or all ``places`` are taken (:meth:`StudyStore.add_participant`)."""
        cfg = self.store.config
        card_for = lambda seed: draw_card(cfg.env_id, seed)  # noqa: E731
        return self.store.add_participant(card_for, invite, places)

    def consent(self, p: Participant) -> None:
        """Record consent; the participant gets the Latin-square row that participants who
        finished a chat hold least (:meth:`StudyStore.consent`)."""
        self.store.consent(p.id, latin_square(self.n_agents))

    def step_of(self, p: Participant) -> tuple[str, int]:
        """Where this participant is: ``("consent", -1)``, ``("chat", k)``, ``("survey", k)`` or
        ``("done", -1)``."""
        if p.consented is None:
            return "consent", -1
        ended, answered = self.store.ended(p.id), self.store.answered(p.id)
        for pos in range(self.n_agents):
            if pos not in answered:
                return ("survey", pos) if pos in ended else ("chat", pos)
        return "done", -1

    # -- conversations ---------------------------------------------------------------------------

    def _lock(self, key: tuple[int, int]) -> threading.Lock:
        return self._locks[hash(key) % LOCK_STRIPES]

    def agent_spec(self, p: Participant, position: int) -> str:
        """The spec of the agent this participant meets at ``position``."""
        return self.store.config.agents[p.order[position]]

    def agent_due(self, messages: list[Any]) -> bool:
        """Whether the agent speaks next: after a user message, or first in persuasion."""
        if not messages:
            return self.domain == "persuasion"
        return messages[-1].role == "user"

    def ensure_agent_turn(self, p: Participant, position: int) -> None:
        """If the agent is due to speak, compute its turn and store it (once: under a lock per
        conversation, re-reading the transcript first)."""
        key = (p.id, position)
        with self._lock(key):
            messages = self.store.messages(p.id, position)
            if not self.agent_due(messages) or position in self.store.ended(p.id):
                return
            if sum(m.role == "assistant" for m in messages) >= self.store.config.max_turns:
                self.store.end_conversation(p.id, position, "max_turns")
                return
            text = self._agent_says(
                p, position, [{"role": m.role, "content": m.text} for m in messages]
            )
            self.store.add_message(p.id, position, len(messages), "assistant", text)

    def _agent_says(self, p: Participant, position: int, messages: list[dict[str, str]]) -> str:
        turn = sum(m["role"] == "assistant" for m in messages)
        key = (p.id, position)
        max_turns = self.store.config.max_turns
        with self._guard:
            agent, done = self._agents.pop(key, (None, -1))
        if agent is None or done != turn:  # new, or lost (restart, eviction): rebuild its memory
            agent = copy.copy(self._prototypes[self.agent_spec(p, position)])
            agent.reset(seed=p.seed)
            starts = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
            for j, i in enumerate(starts):
                agent.act(*agent_view(self.domain, messages[:i], j, max_turns))
        text = agent.act(*agent_view(self.domain, messages, turn, max_turns))
        if not isinstance(text, str) or not text.strip():
            raise RuntimeError(f"agent {self.agent_spec(p, position)!r} said nothing")
        with self._guard:
            self._agents[key] = (agent, turn + 1)
            while len(self._agents) > AGENT_CACHE:
                self._agents.popitem(last=False)
        return text.strip()[:MAX_MESSAGE_CHARS]

    def say(self, p: Participant, position: int, seen: int, text: str) -> bool:
        """Store the participant's message (``seen``: how many messages their page showed, so a
        repeated form stores nothing) and end the conversation after the last turn. True if the
        agent is now due to answer (:meth:`ensure_agent_turn`)."""
        with self._lock((p.id, position)):
            if position in self.store.ended(p.id):
                return False  # "End" won the race: nothing is added after the end
            messages = self.store.messages(p.id, position)
            if seen != len(messages) or self.agent_due(messages):
                return False  # a repeated or stale form: already stored
            self.store.add_message(p.id, position, seen, "user", text)
            if sum(m.role == "assistant" for m in messages) >= self.store.config.max_turns:
                self.store.end_conversation(p.id, position, "max_turns")
                return False
        return True

    def end(self, p: Participant, position: int) -> bool:
        """The participant ended the conversation: accepted once they have written at least one
        message (``False`` otherwise: an empty conversation is not a result)."""
        with self._lock((p.id, position)):
            if not any(m.role == "user" for m in self.store.messages(p.id, position)):
                return False
            self.store.end_conversation(p.id, position, "ended by participant")
        return True

    def parse_answers(self, form: dict[str, str], p: Participant) -> tuple[float, dict, str]:
        """Validate the questionnaire; ``ValueError`` says which answer is wrong and what is
        allowed."""
        q = self.questions
        raw = (form.get("outcome") or "").strip().lstrip("$")
        try:
            outcome = float(raw)
        except ValueError:
            raise InvalidInput(
                f"Please answer the first question with a number from {q.outcome_low:g} to "
                f"{q.outcome_high:g}."
            ) from None
        if not q.outcome_low <= outcome <= q.outcome_high or outcome != outcome:
            raise InvalidInput(
                f"{outcome:g} is outside the allowed range, {q.outcome_low:g} to "
                f"{q.outcome_high:g}."
            )
        if q.outcome_step == 1 and outcome != int(outcome):
            raise InvalidInput(
                f"Please answer the first question with a whole number, not {outcome:g}."
            )
        ratings = {}
        for r in q.ratings:
            value = form.get(f"rating_{r.key}", "")
            if value not in {str(k) for k, _ in LIKERT}:
                raise InvalidInput(f'Please rate "{r.statement}" from 1 to 5.')
            ratings[r.key] = int(value)
        comment = clean_text(form.get("comment"))
        if len(comment) > MAX_COMMENT_CHARS:
            raise InvalidInput(
                f"The comment is {len(comment)} characters; at most "
                f"{MAX_COMMENT_CHARS} are allowed."
            )
        return round(outcome, 2), ratings, comment


def check_agents(cfg: Any) -> tuple[str, ...]:
    """``cfg.agents`` if a study can use them: 1 to :data:`MAX_AGENTS`, none privileged (a
    person has no simulated persona) and not the terminal ``human`` agent; else ``ValueError``.
    (Buildable specs are checked by building them.)"""
    bad = [s for s in cfg.agents if is_privileged(s)]
    if bad:
        raise InvalidInput(f"agent(s) {bad} read a simulated persona; a person has none")
    if any(s.partition(":")[0] == "human" for s in cfg.agents):
        raise InvalidInput(
            "the 'human' agent types in a terminal; in a study the person is the user"
        )
    if not 1 <= len(cfg.agents) <= MAX_AGENTS:
        raise InvalidInput(f"a study needs 1 to {MAX_AGENTS} agents, got {len(cfg.agents)}")
    return tuple(cfg.agents)


def same(a: str, b: str) -> bool:
    """Timing-safe equality of two strings (any characters: compared as UTF-8 bytes)."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def clean_text(text: str | None) -> str:
    """A form's text as typed: line breaks as ``\n`` (browsers send ``\r\n``, which their own
    ``maxlength`` counts as one character), outer whitespace removed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
