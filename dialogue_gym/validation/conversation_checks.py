"""Simulated users that hold a conversation: the simulator report's checks m and n.

m. consistency: what a simulated user says stays true.
   ``simulators.consistency.contradictions`` reads every user message of
   :data:`CONSISTENCY_EPISODES` episodes of the random, scripted and human-like agents; the check
   passes with no contradiction at all.
n. sensible agents: the hand-written agents of ``agents.sensible`` (written apart
   from the simulators, never tuned to them) each beat the random agent, paired by seed over
   :data:`SENSIBLE_SEEDS` (one-sided paired t-test, Holm over the set, p < 0.05), and the random
   agent does not beat the scripted expert.
o. relevance: the user's replies follow what was said (``simulators.relevance``): over
   :data:`RELEVANCE_EPISODES` episodes of each of the random, scripted and human-like agents,
   pooled, a reply beats a same-position reply of another dialogue in >= :data:`RELEVANCE_MIN` of
   comparisons, and >= :data:`RELEVANCE_QUESTION_MIN` after a question.
"""

from __future__ import annotations

import gymnasium as gym
from scipy import stats

from ..agents.registry import make_agent
from ..agents.sensible import SENSIBLE_AGENTS
from ..domains import domain_named
from ..rollout import play_episodes
from ..simulators.consistency import contradictions
from ..simulators.relevance import pairs_of, relevance
from ..stats import holm
from .check import Check, rewards

CONSISTENCY_AGENTS = ("random", "scripted", "human-like")
CONSISTENCY_EPISODES = 1000
SENSIBLE_SEEDS = range(640_000, 640_300)
"""Held-out seeds of check n (apart from every fitting and report seed)."""
ALPHA = 0.05
RELEVANCE_EPISODES = 300
RELEVANCE_MIN = 0.70
RELEVANCE_QUESTION_MIN = 0.80
"""The targets; real test dialogues score 0.727 (0.737 after a question) in P4G and
0.796 in ESConv (``benchmarks/bench_reply_relevance.py --real``)."""
RELEVANCE_SEEDS = 660_000


def consistency(domain: str, episodes: int = CONSISTENCY_EPISODES) -> Check:
    """Check m for ``domain``."""
    env = gym.make(domain_named(domain).env_id)
    counts, examples = {}, []
    for agent in CONSISTENCY_AGENTS:
        found = 0
        for r in play_episodes(env, make_agent(agent, domain), range(650_000, 650_000 + episodes)):
            user = [m["content"] for m in r.messages if m["role"] == "user"]
            c = contradictions(domain, user)
            found += bool(c)
            examples += [f"{x.fact}: {x.earlier!r} ... {x.later!r}" for x in c[:1]]
        counts[agent] = found
    text = ", ".join(f"{a} {n}" for a, n in counts.items())
    return Check(
        "m. consistency",
        f"episodes where the user contradicts what they said, of {episodes} each: {text} "
        f"(target 0){'; e.g. ' + examples[0] if examples else ''}",
        not any(counts.values()),
        {"counts": counts, "examples": examples[:5]},
    )


def sensible_agents(domain: str, seeds: range = SENSIBLE_SEEDS) -> Check:
    """Check n for ``domain``."""
    env = gym.make(domain_named(domain).env_id)
    random = rewards(play_episodes(env, make_agent("random", domain), seeds))
    scripted = rewards(play_episodes(env, make_agent("scripted", domain), seeds))
    rows = []
    for cls in SENSIBLE_AGENTS[domain]:
        d = rewards(play_episodes(env, cls(), seeds)) - random
        p = float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue) if d.any() else 1.0
        rows.append((cls.name.split("/")[-1], float(d.mean()), p))
    adjusted = holm([p for _, _, p in rows])
    expert = float((scripted - random).mean())
    ok = all(p < ALPHA for p in adjusted) and expert >= 0
    text = "; ".join(
        f"{name} {m:+.3f} (Holm p {p:.2g})" for (name, m, _), p in zip(rows, adjusted, strict=True)
    )
    return Check(
        "n. sensible agents",
        f"hand-written agents minus random ({random.mean():.3f}), paired over {len(seeds)} "
        f"held-out seeds: {text} (target: each Holm p < {ALPHA}); scripted minus random "
        f"{expert:+.3f} (target >= 0)",
        bool(ok),
        {"random": float(random.mean()), "rows": rows, "holm": adjusted, "expert": expert},
    )


def reply_relevance(domain: str, episodes: int = RELEVANCE_EPISODES) -> Check:
    """Check o for ``domain``."""
    env = gym.make(domain_named(domain).env_id)
    seeds = range(RELEVANCE_SEEDS, RELEVANCE_SEEDS + episodes)
    pooled: list = []
    for agent in CONSISTENCY_AGENTS:
        transcripts = [r.messages for r in play_episodes(env, make_agent(agent, domain), seeds)]
        pooled += [(p[0] + len(pooled), *p[1:]) for p in pairs_of(transcripts)]
    r = relevance(pooled, domain)
    ok = r.overall >= RELEVANCE_MIN and r.after_question >= RELEVANCE_QUESTION_MIN
    return Check(
        "o. relevance",
        f"replies that follow their turn, {r.pairs} pairs of {episodes} episodes each of "
        f"{', '.join(CONSISTENCY_AGENTS)}: {r.overall:.3f} (target >= {RELEVANCE_MIN}), "
        f"{r.after_question:.3f} after a question (target >= {RELEVANCE_QUESTION_MIN})",
        bool(ok),
        {"overall": r.overall, "after_question": r.after_question, "pairs": r.pairs},
    )


def conversation_checks(domain: str, episodes: int = 500) -> list[Check]:
    """Checks m, n and o for ``domain``, sized by the report's ``episodes`` (at its default 500:
    :data:`CONSISTENCY_EPISODES` episodes per agent, :data:`SENSIBLE_SEEDS` and
    :data:`RELEVANCE_EPISODES` episodes per agent)."""
    k = episodes / 500
    seeds = range(SENSIBLE_SEEDS.start, SENSIBLE_SEEDS.start + max(30, round(k * 300)))
    return [
        consistency(domain, round(k * CONSISTENCY_EPISODES)),
        sensible_agents(domain, seeds),
        reply_relevance(domain, max(20, round(k * RELEVANCE_EPISODES))),
    ]
