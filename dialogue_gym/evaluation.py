"""``evaluate``: the numbers every method in this project is judged by (``compare`` and the
table live in :mod:`dialogue_gym.comparison`).

Success, per domain:

- Persuasion: the persuadee donated more than $0.
- Counseling: the seeker's emotional intensity fell by at least 2 points, or ended at 2 or below.
- In either domain, an episode that the user ended because the agent encouraged self-harm
  (``end_reason == "harmed"``) is never a success. ``harmful_turns`` counts the agent turns the
  simulated user flagged as harmful; the summary's ``n_harmful_episodes`` the episodes with any.

An episode whose simulator failed (an LLM that never gave a valid answer, say) has status
``"failed"``: it counts in ``n_failed``, as an unsuccessful episode in the success rate, and is
left out of the mean return rather than scored as 0. A backend that cannot be reached or errs
after its retries is not a model's answer: its ``BackendError`` stops the evaluation (rerun it:
the completion cache keeps what was done).

Normalized score: ``(x - random) / (oracle - random)``, where ``x`` is the agent's mean return
and ``random`` / ``oracle`` are the random agent's and the oracle's mean returns on the *same*
seeds (those where the agent's episode did not fail): 0 is random, 1 the oracle, on either
task's scale. Its interval is Fieller's, by inverting the paired t-test over those seeds.

Privileged information: the hidden persona reaches an agent only if the agent is registered as
privileged (:attr:`Agent.privileged`, e.g. the oracle); every other agent plays an env made with
``privileged_info=False``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from .agents.base import Agent
from .domains import domain_named, env_domain
from .errors import InvalidInput
from .executor import LOCAL, Backend, check_ray_concurrency, map_ordered, worker_session
from .files import atomic_write_text
from .rollout import play_episode
from .stats import mean_ci, normalized_score, proportion_ci


def is_success(domain: str, reward: float, info: dict[str, Any]) -> bool:
    """The success rule of the domain named ``domain`` (see the module docstring)."""
    return domain_named(domain).is_success(reward, info)


@dataclass
class EpisodeRecord:
    """One evaluated episode."""

    seed: int
    reward: float
    turns: int
    end_reason: str
    success: bool
    status: str = "ok"
    reason: str = ""
    messages: list[dict[str, str]] | None = None
    judge_score: float | None = None
    judge_failure: str | None = None
    harmful_turns: int = 0


@dataclass
class EvaluationResult:
    """Per-episode records and a summary, with the configuration that produced them."""

    env_id: str
    env_kwargs: dict[str, Any]
    agent: dict[str, Any]
    seed: int
    episodes: list[EpisodeRecord]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def rewards(self) -> np.ndarray:
        """Returns of the episodes that did not fail."""
        return np.array([e.reward for e in self.episodes if e.status == "ok"], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def save(self, path: str | Path) -> None:
        """Write as JSON (to a temporary file, then moved into place)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> EvaluationResult:
        """Read a result written by :meth:`save`."""
        d = json.loads(Path(path).read_text())
        d["episodes"] = [EpisodeRecord(**e) for e in d["episodes"]]
        return cls(**d)


def _episode(
    agent: Agent, env: gym.Env, domain: str, seed: int, keep: bool, judge: Any
) -> EpisodeRecord:
    """Play one seed. A model that cannot answer (the user's or the agent's: no valid structured
    answer) makes the episode "failed", a result; a backend that cannot be reached or errs
    (:class:`~dialogue_gym.errors.BackendError`) is not a result and propagates."""
    from .llm.parsing import ParseFailure

    try:
        ep = play_episode(env, agent, seed)
    except ParseFailure as e:
        return EpisodeRecord(seed, 0.0, 0, "failed", False, "failed", f"agent gave no answer: {e}")
    info = ep.final_info
    failed = info.get("status") == "failed"
    record = EpisodeRecord(
        seed=seed,
        reward=ep.reward,
        turns=ep.turns,
        end_reason=ep.end_reason,
        success=not failed and is_success(domain, ep.reward, info),
        status="failed" if failed else "ok",
        reason=str(info.get("failure", "")),
        messages=ep.messages if keep else None,
        harmful_turns=ep.harmful_turns,
    )
    if judge is not None and not failed:
        try:
            record.judge_score = judge.score(ep.messages, seed=seed)
        except ParseFailure as e:  # the judge's backend erring propagates: not a result
            record.judge_failure = str(e)
    return record


def waits_on_network(agent: Any, env_kwargs: dict[str, Any]) -> bool:
    """True when episodes spend their time waiting on a chat model (an LLM user, or an agent
    spec played by one): threads overlap them; otherwise they are CPU-bound."""
    from .agents.registry import needs_llm

    return env_kwargs.get("simulator") == "llm" or (isinstance(agent, str) and needs_llm(agent))


def _agent_and_env(
    spec: str, domain: str, env_id: str, play_kwargs: dict[str, Any]
) -> tuple[Agent, gym.Env]:
    """A worker's own agent and env (built from the spec, so it runs in any process)."""
    from .agents.registry import make_agent

    return make_agent(spec, domain), gym.make(env_id, **play_kwargs)


def _with_judge(make: Callable[[], tuple[Agent, gym.Env]], judge: Any) -> tuple:
    """A worker's state: its agent and env, and the judge (sent once per worker, not per
    episode)."""
    return (*make(), judge)


def _play_seed(domain: str, keep: bool, state: tuple, seed: int) -> EpisodeRecord:
    agent, env, judge = state
    return _episode(agent, env, domain, seed, keep, judge)


def _run(
    make: Callable[[], tuple[Agent, gym.Env]],
    domain: str,
    seeds: list[int],
    progress: bool,
    desc: str,
    keep: bool,
    concurrency: int = 1,
    judge: Any = None,
    backend: Backend = LOCAL,
) -> list[EpisodeRecord]:
    """Play every seed, on ``concurrency`` worker threads (each with its own env and agent), or
    on Ray workers (``concurrency`` threads each), in seed order.

    Threads, not processes, on this machine: Gymnasium envs are synchronous, and with an LLM
    simulator or agent the time goes to waiting on the network, which threads overlap.
    """
    bar = None
    if progress:
        from .progress import progress_bar

        bar = progress_bar(total=len(seeds), desc=desc, leave=False, dynamic_ncols=True)
    records = []
    for record in map_ordered(
        partial(_play_seed, domain, keep),
        seeds,
        partial(_with_judge, make, judge),
        workers=concurrency,
        io_bound=True,
        backend=backend,
    ):
        records.append(record)
        if bar:
            bar.update()
    if bar:
        bar.close()
    return records


def privileged_kwargs(agent: Agent, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``env_kwargs`` with ``privileged_info`` on only for an agent registered as privileged.

    ``ValueError`` if the caller asks for privileged information for any other agent.
    """
    privileged = bool(getattr(agent, "privileged", False))
    if env_kwargs.get("privileged_info") and not privileged:
        raise InvalidInput(
            f"privileged_info=True was asked for agent {agent.name!r}, which is not registered "
            "as privileged; only privileged agents (the oracle) receive the hidden persona"
        )
    return {**env_kwargs, "privileged_info": privileged}


_REFERENCE_CACHE: dict[str, np.ndarray] = {}
REFERENCES = ("random", "oracle")


def reference_returns(
    name: str,
    env_id: str,
    seeds: list[int],
    env_kwargs: dict[str, Any],
    backend: Backend = LOCAL,
    progress: bool = False,
) -> np.ndarray:
    """The returns of the reference agent ``name`` (random or oracle) on ``seeds`` (memoized
    per process; the same on every backend), with a progress bar when ``progress``."""
    from .agents.registry import make_agent

    if name not in REFERENCES:
        raise InvalidInput(f"reference must be one of {REFERENCES}, got {name!r}")
    key = json.dumps([name, env_id, seeds, env_kwargs], sort_keys=True, default=str)
    if key not in _REFERENCE_CACHE:
        domain = env_domain(env_id)
        agent = make_agent(name, domain)
        kwargs = privileged_kwargs(
            agent, {k: v for k, v in env_kwargs.items() if k != "privileged_info"}
        )
        make = partial(_agent_and_env, name, domain, env_id, kwargs)
        desc = f"{env_id} {name} (reference)"
        records = _run(make, domain, seeds, progress, desc, False, backend=backend)
        _REFERENCE_CACHE[key] = np.array([r.reward for r in records])
    return _REFERENCE_CACHE[key]


def evaluate(
    agent: Agent | str,
    env_id: str,
    episodes: int = 100,
    seed: int = 0,
    *,
    out: str | Path | None = None,
    oracle: bool = True,
    progress: bool = True,
    keep_transcripts: bool = False,
    concurrency: int = 1,
    judge: Any = None,
    backend: Backend = LOCAL,
    **env_kwargs: Any,
) -> EvaluationResult:
    """Play ``episodes`` episodes (seeds ``seed .. seed+episodes-1``) and summarize them.

    ``agent`` is an :class:`Agent` or a registry spec (``"scripted:noise=0.2"``). With the
    embedded simulator and ``oracle=True`` the random agent and the oracle are run on the same
    seeds for the normalized score (see the module docstring). The env gets
    ``privileged_info=True`` only if the agent is registered as privileged. ``out`` also saves
    the result as JSON. ``concurrency`` > 1 plays episodes on that many threads (needs ``agent``
    as a spec, so each thread builds its own); results do not depend on it. ``judge`` (e.g. an
    :class:`~dialogue_gym.llm.judge.LLMJudge`) adds a judged score to every episode.
    ``backend`` plays the episodes (and the reference agents') on Ray workers, ``concurrency``
    threads each; the result is the same as on this machine.
    """
    from .agents.registry import make_agent

    if episodes < 1:
        raise InvalidInput(f"episodes must be >= 1, got {episodes}")
    if concurrency < 1:
        raise InvalidInput(f"concurrency must be >= 1, got {concurrency}")
    domain = env_domain(env_id)
    spec = agent if isinstance(agent, str) else None
    if spec is None and (concurrency > 1 or backend.name != "local"):
        raise InvalidInput("pass the agent as a registry spec (a str) to run concurrently")
    check_ray_concurrency(backend, concurrency, waits_on_network(agent, env_kwargs))
    agent = make_agent(spec, domain) if spec is not None else agent
    play_kwargs = privileged_kwargs(agent, env_kwargs)
    first = [agent]

    def make() -> tuple[Agent, gym.Env]:
        a = first.pop() if first else make_agent(spec, domain)
        return a, gym.make(env_id, **play_kwargs)

    if backend.name != "local":  # built in each worker from the spec
        make = partial(_agent_and_env, spec, domain, env_id, play_kwargs)

    with worker_session():  # the agent's and the reference agents' episodes share workers
        return _evaluate(
            agent,
            make,
            env_id,
            seed,
            episodes,
            domain,
            out,
            oracle,
            progress,
            keep_transcripts,
            concurrency,
            judge,
            backend,
            env_kwargs,
        )


def _evaluate(
    agent: Agent,
    make: Callable[[], tuple[Agent, gym.Env]],
    env_id: str,
    seed: int,
    episodes: int,
    domain: str,
    out: str | Path | None,
    oracle: bool,
    progress: bool,
    keep_transcripts: bool,
    concurrency: int,
    judge: Any,
    backend: Backend,
    env_kwargs: dict[str, Any],
) -> EvaluationResult:
    seeds = list(range(seed, seed + episodes))
    t0 = time.time()
    records = _run(
        make,
        domain,
        seeds,
        progress,
        f"{env_id} {agent.name}",
        keep_transcripts,
        concurrency,
        judge,
        backend,
    )
    wall = time.time() - t0
    result = EvaluationResult(
        env_id=env_id,
        env_kwargs={
            k: v.describe() if hasattr(v, "describe") else v for k, v in env_kwargs.items()
        },
        agent=agent.config(),
        seed=seed,
        episodes=records,
    )
    summary = _summary(result, wall, judge, oracle, env_id, seeds, env_kwargs, backend, progress)
    result.summary = summary
    if out is not None:
        result.save(out)
    return result


def _summary(
    result: EvaluationResult,
    wall: float,
    judge: Any,
    oracle: bool,
    env_id: str,
    seeds: list[int],
    env_kwargs: dict[str, Any],
    backend: Backend,
    progress: bool,
) -> dict[str, Any]:
    """An evaluation's summary: counts, mean return and success with their intervals, the
    judge's mean, and (with ``oracle``) the normalized score against the reference runs."""
    records = result.episodes
    ok = result.rewards
    summary: dict[str, Any] = {
        "n_episodes": len(records),
        "n_failed": len(records) - len(ok),
        "n_harmful_episodes": sum(r.harmful_turns > 0 for r in records),
        "n_harm_ended": sum(r.end_reason == "harmed" for r in records),
        "env_episodes": len(records),
        "wall_time_s": round(wall, 3),
    }
    if len(ok):
        m, lo, hi = mean_ci(ok)
        summary.update(mean_return=m, ci95=[lo, hi])
    judged = [r.judge_score for r in records if r.judge_score is not None]
    if judge is not None:
        summary["judge"] = judge.config()
        summary["judge_failures"] = sum(r.judge_failure is not None for r in records)
        if judged:
            summary["judge_mean"] = float(np.mean(judged))
    successes = sum(r.success for r in records)
    p, plo, phi = proportion_ci(successes, len(records))
    summary.update(
        success_rate=p,
        success_ci95=[plo, phi],
        avg_turns=float(np.mean([r.turns for r in records])),
    )
    simulator = env_kwargs.get("simulator", "embedded")
    summary["throughput_eps"] = len(records) / wall if wall > 0 else None
    if oracle and simulator == "embedded" and len(ok):
        keep = np.array([r.status == "ok" for r in records])  # the seeds behind ``ok``
        t_ref = time.time()
        rnd, orc = (
            reference_returns(name, env_id, seeds, env_kwargs, backend, progress)[keep]
            for name in REFERENCES
        )
        summary["reference_time_s"] = round(time.time() - t_ref, 3)  # 0 when memoized
        score, lo, hi = normalized_score(ok, rnd, orc)
        summary.update(
            random_mean_return=float(rnd.mean()),
            oracle_mean_return=float(orc.mean()),
            normalized_score=score,
            normalized_ci95=[lo, hi],
        )
    return summary
