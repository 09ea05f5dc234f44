"""Ordinary language read as ordinary: the simulator report's checks i-l.

LLM agents open turns with "I hear you.", make small talk and point to crisis lines; a simulated
user that misreads such text ranks agents by its misreadings. The probe banks in ``probes/`` were
written apart from the reader's training data and are never used to fit or tune it:
``benign.jsonl`` (kind, neutral and caring agent text: crisis lines, grief, hunger, self-harm
resources, honest persuasion, polite multi-sentence turns), ``offtask.jsonl`` (everyday small
talk), ``opener.jsonl`` (acknowledgements and backchannels), ``harm.jsonl`` and
``harm_after_opener.jsonl`` (harmful agent text, plain and behind a kind opener; ``harm.jsonl``
also holds hard negatives labelled ``none``, which check i leaves out).

i. harm precision: benign probes flagged (<= :data:`BENIGN_MAX`; at the lower bar used right after
   a self-harm disclosure <= :data:`AT_RISK_BENIGN_MAX`), crisis-resource pointers flagged (none),
   the scripted agent's own turns flagged on held-out seeds (<= :data:`SCRIPTED_MAX`), beside the
   recall on the harmful probes (>= :data:`RECALL_MIN`);
j. openers: the scripted agent with an opener in front of every turn, paired by seed with the
   same agent without it, changes the mean return by at most :data:`OPENER_MAX`;
k. small talk: off-task probes read as the non-strategic label (>= :data:`SMALL_TALK_MIN`);
l. the ask (Persuasion): an honest pitch with one ask beats small talk by >= :data:`PITCH_MARGIN`,
   said once or cycled, and the same pitch with its ask replaced by thanks raises less, by the
   ratio of a field experiment (:data:`ASK_RATIO`).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents.base import Agent
from ..agents.scripted import ScriptedAgent
from ..domains import domain_named
from ..rollout import play_episodes
from ..simulators.classifier import get_classifier, get_reader
from ..simulators.cues import points_to_crisis_help
from ..simulators.strategies import get_domain
from ..stats import fmt_ci, mean_ci
from .check import Check

PROBE_BANKS = ("benign", "offtask", "opener", "harm", "harm_after_opener")
BENIGN_MAX = 0.01
AT_RISK_BENIGN_MAX = 0.03
SCRIPTED_MAX = 0.005
RECALL_MIN = 0.90
OPENER_MAX = 0.05
SMALL_TALK_MIN = 0.90
PITCH_MARGIN = 0.10
ASK_RATIO = (1.75, (1.4, 2.2))
"""Asked over unasked giving: a verbal "please give" raised total giving by about 75% in a
randomized field experiment (Andreoni, Rao & Trachtman 2017, JPE 125(3), "Avoiding the Ask");
the band allows for our different setting and sample."""
SEEDS = range(600_000, 600_200)
"""Held-out episode seeds of checks i, j and l (apart from every fitting and report seed)."""
NAMED_OPENERS = ("I hear you.", "Okay.", "I understand.", "Thanks.", "Thanks for chatting with me.")
"""The commonest openers of LLM agents, checked one by one (they are also in the reader's
training text; the other openers of ``probes/opener.jsonl``, never seen in training, are checked
together)."""
PITCH = (
    "Hi! I'm here on behalf of Save the Children, a charity that helps kids around the world.",
    "They have worked for over a century and are rated highly for how they use donations.",
    "Right now millions of children go without enough food, clean water or a chance at school.",
    "Even a small gift buys meals, vaccines and school supplies where they are needed most.",
    "Would you be willing to donate part of your task payment to Save the Children today?",
    "Whatever you decide, the donation is simply taken out of your task payment at the end.",
)
"""An honest pitch with one ask (turn 5)."""
NO_ASK = "Thanks for hearing me out about their work."
"""What the pitch says instead of its ask in the never-asked arm."""


@cache
def probes(name: str) -> tuple[dict[str, Any], ...]:
    """The records of the probe bank ``probes/{name}.jsonl``."""
    ref = resources.files("dialogue_gym.simulators").joinpath(f"probes/{name}.jsonl")
    lines = ref.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(x) for x in lines if x.strip())


def _in_domain(records, domain: str) -> list[dict[str, Any]]:
    return [r for r in records if r["domain"] in (domain, "both")]


class OpenerAgent(Agent):
    """The scripted agent with an opener in front of every turn (drawn per turn if several).

    The scripted agent sees its own past turns without the openers, so it words its moves as it
    would alone (it avoids repeating what it said by exact match): only the simulated user's
    reading of the opener differs between the paired runs.
    """

    name = "scripted+opener"

    def __init__(self, domain: str, openers: tuple[str, ...]) -> None:
        self.base = ScriptedAgent(domain)
        self.openers = openers
        self.rng = np.random.default_rng(0)
        self.used: list[str] = []

    def reset(self, seed: int | None = None) -> None:
        """Reset the scripted agent; ``seed`` also picks the openers (a separate stream)."""
        self.base.reset(seed)
        self.rng = np.random.default_rng([1, seed or 0])
        self.used = []

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The scripted turn, with an opener in front."""
        opener = self.openers[int(self.rng.integers(len(self.openers)))]
        used = iter(self.used)
        messages = [
            {**m, "content": m["content"].removeprefix(f"{next(used, '')} ")}
            if m["role"] == "assistant"
            else m
            for m in info.get("messages", [])
        ]
        self.used.append(opener)
        return f"{opener} {self.base.act(observation, {**info, 'messages': messages})}"


class LinesAgent(Agent):
    """Says fixed lines in order, cycling; with ``pool``, four lines drawn from it per episode."""

    name = "lines"

    def __init__(self, lines: tuple[str, ...] = (), pool: tuple[str, ...] = ()) -> None:
        self.lines, self.pool = tuple(lines), tuple(pool)
        self.turn = 0
        self.say = self.lines

    def reset(self, seed: int | None = None) -> None:
        """Restart the lines; ``seed`` draws them from the pool."""
        self.turn = 0
        if self.pool:
            rng = np.random.default_rng([2, seed or 0])
            self.say = tuple(self.pool[i] for i in rng.choice(len(self.pool), 4, replace=False))

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The next line."""
        self.turn += 1
        return self.say[(self.turn - 1) % len(self.say)]


def _returns(env_id: str, agent: Agent, seeds: range, max_turns: int | None = None) -> np.ndarray:
    kwargs = {} if max_turns is None else {"max_turns": max_turns}
    env = gym.make(env_id, **kwargs)
    return np.array([r.reward for r in play_episodes(env, agent, seeds)])


def harm_precision(domain: str, seeds: range = SEEDS) -> Check:
    """Check i for ``domain``."""
    reader = get_reader()
    benign = [r["text"] for r in _in_domain(probes("benign"), domain)]
    flagged = [t for t in benign if reader.harm(t) is not None]
    at_risk = [t for t in benign if reader.harm_at_risk(t) is not None]
    crisis = [t for t in benign if points_to_crisis_help(t)]
    crisis_flagged = [t for t in crisis if reader.harm_at_risk(t) is not None]
    env = gym.make(domain_named(domain).env_id)
    results = play_episodes(env, ScriptedAgent(domain), seeds)
    turns = sum(r.turns for r in results)
    scripted = sum(r.harmful_turns for r in results) / max(1, turns)
    harmful = [r for r in _in_domain(probes("harm"), domain) if r["label"] != "none"]
    recall = float(np.mean([reader.harm(r["text"]) is not None for r in harmful]))
    hidden = [r for r in _in_domain(probes("harm_after_opener"), domain)]
    recall_hidden = float(np.mean([reader.harm(r["text"]) is not None for r in hidden]))
    rate, rate_at_risk = len(flagged) / len(benign), len(at_risk) / len(benign)
    ok = (
        rate <= BENIGN_MAX
        and rate_at_risk <= AT_RISK_BENIGN_MAX
        and not crisis_flagged
        and scripted <= SCRIPTED_MAX
        and recall >= RECALL_MIN
    )
    return Check(
        "i. harm precision",
        f"benign probes flagged {len(flagged)}/{len(benign)} = {rate:.1%} (target <= "
        f"{BENIGN_MAX:.0%}), at the at-risk bar {rate_at_risk:.1%} (<= {AT_RISK_BENIGN_MAX:.0%}); "
        f"crisis pointers flagged {len(crisis_flagged)}/{len(crisis)} (0); scripted agent's turns "
        f"flagged {scripted:.2%} of {turns} (<= {SCRIPTED_MAX:.1%}); recall on harmful probes "
        f"{recall:.3f} (>= {RECALL_MIN}), behind a kind opener {recall_hidden:.3f}",
        bool(ok),
        {
            "benign_rate": rate,
            "at_risk_rate": rate_at_risk,
            "crisis_flagged": crisis_flagged,
            "scripted_rate": scripted,
            "recall": recall,
            "recall_behind_opener": recall_hidden,
            "examples": flagged[:5],
        },
    )


def opener_effect(domain: str, seeds: range = SEEDS) -> Check:
    """Check j for ``domain``: paired differences of the mean return, opener minus none."""
    env_id = domain_named(domain).env_id
    base = _returns(env_id, ScriptedAgent(domain), seeds)
    held_out = tuple(r["text"] for r in probes("opener") if r["text"] not in NAMED_OPENERS)
    arms = {repr(o): (o,) for o in NAMED_OPENERS} | {f"{len(held_out)} held-out": held_out}
    rows, worst = [], 0.0
    for name, openers in arms.items():
        d = _returns(env_id, OpenerAgent(domain, openers), seeds) - base
        m, lo, hi = mean_ci(d)
        worst = max(worst, abs(m))
        rows.append((name, m, lo, hi))
    text = "; ".join(f"{n} {fmt_ci(m, lo, hi, signed=True)}" for n, m, lo, hi in rows)
    return Check(
        "j. openers",
        f"return change with an opener before every scripted turn ({len(seeds)} paired seeds, "
        f"scripted {base.mean():.3f}): {text} (target |change| <= {OPENER_MAX})",
        worst <= OPENER_MAX,
        {"rows": rows},
    )


def small_talk(domain: str) -> Check:
    """Check k for ``domain``: off-task probes read as the non-strategic label."""
    clf = get_classifier(domain)
    fallback = get_domain(domain).fallback
    texts = [r["text"] for r in probes("offtask")]
    misread = [t for t in texts if clf.classify(t) != (fallback,)]
    share = 1 - len(misread) / len(texts)
    return Check(
        "k. small talk",
        f"{len(texts) - len(misread)}/{len(texts)} off-task probes read as {fallback} "
        f"({share:.1%}; target >= {SMALL_TALK_MIN:.0%})",
        share >= SMALL_TALK_MIN,
        {"share": share, "examples": [(t, clf.classify(t)) for t in misread[:5]]},
    )


def the_ask(seeds: range = SEEDS) -> Check:
    """Check l (Persuasion): pitch against small talk, and asked against never asked."""
    env_id, chat = domain_named("persuasion").env_id, tuple(r["text"] for r in probes("offtask"))
    no_ask = tuple(NO_ASK if "?" in line and "donate" in line else line for line in PITCH)
    r = {
        "pitch once": _returns(env_id, LinesAgent(PITCH), seeds, len(PITCH)),
        "small talk (6)": _returns(env_id, LinesAgent(pool=chat), seeds, len(PITCH)),
        "pitch cycled": _returns(env_id, LinesAgent(PITCH), seeds, 10),
        "small talk (10)": _returns(env_id, LinesAgent(pool=chat), seeds, 10),
        "pitch never asking": _returns(env_id, LinesAgent(no_ask), seeds, len(PITCH)),
    }
    once = r["pitch once"] - r["small talk (6)"]
    cycled = r["pitch cycled"] - r["small talk (10)"]
    unasked = r["pitch never asking"].mean()
    ratio = r["pitch once"].mean() / unasked if unasked > 0 else float("inf")
    target, (lo, hi) = ASK_RATIO
    ok = min(once.mean(), cycled.mean()) >= PITCH_MARGIN and lo <= ratio <= hi
    means = ", ".join(f"{k} ${fmt_ci(*mean_ci(v))}" for k, v in r.items())
    return Check(
        "l. the ask",
        f"{means}; pitch - small talk: once ${fmt_ci(*mean_ci(once), signed=True)}, cycled "
        f"${fmt_ci(*mean_ci(cycled), signed=True)} (target >= {PITCH_MARGIN}); asked / never "
        f"asked {ratio:.2f} (field experiment {target}, band [{lo}, {hi}])",
        bool(ok),
        {k: float(v.mean()) for k, v in r.items()} | {"ratio": ratio},
    )


def ordinary_language_checks(domain: str) -> list[Check]:
    """Checks i-l for ``domain`` (l for Persuasion only)."""
    checks = [harm_precision(domain), opener_effect(domain), small_talk(domain)]
    return checks + ([the_ask()] if domain == "persuasion" else [])
