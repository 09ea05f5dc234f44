"""Generate simulated conversation datasets, resumably.

Episode ``i`` of a run uses seed ``seed + i`` and an id derived from the run's configuration and
that seed, so rerunning the same command after a crash or kill skips what is already in the file
and finishes the rest — no episode lost or duplicated. A file written with a different
configuration is refused. The first Ctrl-C lets the episodes in flight finish and be written.

``concurrency`` > 1 plays episodes in worker *processes* with the embedded simulator (CPU-bound)
and in worker *threads* with an LLM simulator (waiting on the network); with the Ray backend, on
Ray workers (:mod:`dialogue_gym.executor`). The parent process is the only writer.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym

from .domains import env_domain
from .episode import Episode, Turn
from .errors import BackendError, InvalidInput
from .evaluation import waits_on_network
from .executor import LOCAL, Backend, check_ray_concurrency, map_ordered
from .jsonl import EpisodeWriter, read_episodes
from .stats import mean_ci


@dataclass(frozen=True)
class GenerateConfig:
    """What determines a generated dataset's content (checked on resume)."""

    env_id: str
    agent: str
    seed: int = 0
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> dict[str, Any]:
        """JSON-ready identity of the run: the env's full configuration (defaults included, so
        ``max_turns=10`` and no option are the same run), backends by their description."""
        from dataclasses import asdict

        from .envs import DialogueEnvConfig

        resolved = asdict(DialogueEnvConfig(**self.env_kwargs))
        resolved.pop("render_mode")
        resolved.pop("privileged_info")  # set per agent (privileged_kwargs); content is the same
        if resolved["simulator"] == "embedded":
            resolved.pop("llm")
            resolved.pop("llm_cache")
        kwargs = {k: getattr(v, "describe", lambda v=v: v)() for k, v in resolved.items()}
        return {"env_id": self.env_id, "agent": self.agent, "env_kwargs": kwargs}

    def episode_id(self, index: int) -> str:
        """Deterministic id of episode ``index``."""
        blob = json.dumps({**self.fingerprint(), "seed": self.seed + index}, sort_keys=True)
        short = self.env_id.split(":")[-1].split("-")[0].lower()
        return f"{short}-{self.seed + index}-{hashlib.sha1(blob.encode()).hexdigest()[:10]}"


def play_to_episode(env: gym.Env, agent: Any, cfg: GenerateConfig, index: int) -> Episode:
    """Play episode ``index`` of ``cfg`` and record it as an :class:`Episode`."""
    seed = cfg.seed + index
    obs, info = env.reset(seed=seed)
    agent.reset(seed=seed)
    turns = [Turn("user", m["content"], [], time.time()) for m in info["messages"]]
    done = False
    reward = 0.0
    while not done:
        text = agent.act(obs, info)
        obs, r, terminated, truncated, info = env.step(text)
        now = time.time()
        reward += float(r)
        agent_msg, user_msg = info["messages"][-2], info["messages"][-1]
        turns.append(Turn("assistant", agent_msg["content"], list(info["strategies"]), now))
        turns.append(Turn("user", user_msg["content"], [], now))
        done = terminated or truncated
    failed = info.get("status") == "failed"
    outcome = {
        k: info[k] for k in ("donation", "initial_intensity", "final_intensity") if k in info
    }
    outcome["end_reason"] = info.get("end_reason", "")
    return Episode(
        id=cfg.episode_id(index),
        env_id=cfg.env_id,
        env_kwargs=cfg.fingerprint()["env_kwargs"],
        seed=seed,
        agent={"spec": cfg.agent, **agent.config()},
        backend=cfg.fingerprint()["env_kwargs"].get("llm"),
        turns=turns,
        reward=None if failed else reward,
        outcome=outcome,
        status="failed" if failed else "ok",
        reason=str(info.get("failure", "")),
    )


@dataclass
class GenerateSummary:
    """What a generate run did and what the file now holds."""

    path: str
    requested: int
    already_done: int
    written: int
    failed: int
    interrupted: bool
    elapsed_s: float
    mean_reward: float | None = None
    ci95: tuple[float, float] | None = None

    @property
    def episodes_per_s(self) -> float:
        """Episodes written per second in this run."""
        return self.written / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def __str__(self) -> str:
        mean = (
            f"mean reward {self.mean_reward:.3f} [{self.ci95[0]:.3f}, {self.ci95[1]:.3f}]"
            if self.mean_reward is not None and self.ci95
            else "no rewards"
        )
        state = "interrupted" if self.interrupted else "done"
        return (
            f"{state}: {self.written} written now, {self.already_done} already there, "
            f"{self.failed} failed in the file; {mean}; {self.elapsed_s:.1f} s "
            f"({self.episodes_per_s:.1f} episodes/s) -> {self.path}"
        )


def _env_and_agent(cfg: GenerateConfig) -> tuple[gym.Env, Any]:
    """The env and agent of a run; the env carries privileged information only for an agent
    registered as privileged."""
    from .agents.registry import make_agent
    from .evaluation import privileged_kwargs

    agent = make_agent(cfg.agent, env_domain(cfg.env_id))
    return gym.make(cfg.env_id, **privileged_kwargs(agent, cfg.env_kwargs)), agent


def _play(cfg: GenerateConfig, state: tuple[gym.Env, Any], index: int) -> Episode:
    env, agent = state
    return play_to_episode(env, agent, cfg, index)


def _check_resume(path: Path, cfg: GenerateConfig) -> set[int]:
    """Seeds already in ``path``; ``ValueError`` if it was written with another configuration.

    Files written before ``privileged_info`` left the fingerprint still resume (the option does
    not change an episode's content); their episodes are matched by seed."""
    if not path.exists():
        return set()
    episodes, _ = read_episodes(path)
    mine = cfg.fingerprint()
    for e in episodes:
        kwargs = {k: v for k, v in e.env_kwargs.items() if k != "privileged_info"}
        theirs = {"env_id": e.env_id, "agent": e.agent.get("spec"), "env_kwargs": kwargs}
        if theirs != mine:
            raise InvalidInput(
                f"{path} holds episodes of another configuration ({theirs}); this run is {mine}. "
                "Write to another file, or rerun the original configuration to resume it."
            )
    return {e.seed for e in episodes if e.seed is not None}


def generate(
    env_id: str,
    agent: str,
    episodes: int,
    out: str | Path,
    seed: int = 0,
    concurrency: int = 1,
    progress: bool = True,
    backend: Backend = LOCAL,
    **env_kwargs: Any,
) -> GenerateSummary:
    """Make sure ``out`` holds the ``episodes`` episodes of this configuration (resumable).

    ``backend`` runs the episodes on Ray workers instead of this machine; the file is the same
    (the driver writes every episode, in order)."""

    if episodes < 1:
        raise InvalidInput(f"episodes must be >= 1, got {episodes}")
    if concurrency < 1:
        raise InvalidInput(f"concurrency must be >= 1, got {concurrency}")
    env_domain(env_id)
    check_ray_concurrency(backend, concurrency, waits_on_network(agent, env_kwargs))
    path = Path(out)
    cfg = GenerateConfig(env_id, agent, seed, dict(env_kwargs))
    done_seeds = _check_resume(path, cfg)
    todo = [i for i in range(episodes) if seed + i not in done_seeds]
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    t0 = time.time()
    written = 0
    bar = None
    if progress:
        from .progress import progress_bar

        bar = progress_bar(
            total=episodes,
            initial=episodes - len(todo),
            desc=f"generate {env_id}",
            unit="ep",
            dynamic_ncols=True,
        )
    existed = path.exists()
    try:
        with EpisodeWriter(path) as writer:
            for ep in _produce(cfg, todo, concurrency, stop, backend):
                writer.write(ep)
                written += 1
                if bar:
                    bar.update()
    except BackendError as e:  # not a result: the episodes in flight are not written
        raise BackendError(
            f"{e} ({written} episodes written now; the ones in flight were not: rerun the same "
            "command to resume, and they are played again)"
        ) from e
    finally:
        if bar:
            bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if not existed and path.exists() and path.stat().st_size == 0:
            path.unlink()  # nothing was written: leave no empty file behind
    all_eps = read_episodes(path)[0] if path.exists() else []
    rewards = [e.reward for e in all_eps if e.status == "ok" and e.reward is not None]
    summary = GenerateSummary(
        path=str(path),
        requested=episodes,
        already_done=episodes - len(todo),
        written=written,
        failed=sum(e.status == "failed" for e in all_eps),
        interrupted=stop.is_set() and written < len(todo),
        elapsed_s=time.time() - t0,
    )
    if rewards:
        m, lo, hi = mean_ci(rewards)
        summary.mean_reward, summary.ci95 = m, (lo, hi)
    return summary


def _produce(
    cfg: GenerateConfig,
    todo: list[int],
    concurrency: int,
    stop: threading.Event,
    backend: Backend = LOCAL,
) -> Iterator[Episode]:
    """Episodes for ``todo`` indices in order, stopping early (after in-flight work) when
    ``stop`` is set: worker threads for an LLM simulator, processes for the embedded one, or Ray
    workers (:mod:`dialogue_gym.executor`)."""
    llm = waits_on_network(cfg.agent, cfg.env_kwargs)
    yield from map_ordered(
        partial(_play, cfg),
        todo,
        partial(_env_and_agent, cfg),
        workers=concurrency,
        io_bound=llm,
        backend=backend,
        stop=stop,
    )
