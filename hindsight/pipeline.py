"""The hindsight pipeline over a dataset file (what `dialogue-gym hindsight` runs): regenerate,
resumably, with a progress bar."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..domains import env_domain, env_key
from ..episode import Episode
from ..errors import InvalidInput
from ..executor import LOCAL, Backend, map_ordered, worker_session
from ..files import atomic_write_text
from ..jsonl import EpisodeWriter, ReadReport, read_dataset, read_episodes
from .base import ForwardModel, HindsightController, RewardModel
from .features import CachedEncoder
from .regenerate import (
    check_anchor,
    is_unsuccessful,
    iter_regenerate,
    preference_pairs,
    regenerated_id,
)

CONTROLLERS = (
    "critic (learned) | critic-any (learned, may propose moves the data never show there) | "
    "transcript (privileged tables) | llm:SPEC"
)
FORWARDS = (
    "retrieval (learned) | retrieval-ensemble (5 retrievals on bootstrap resamples) | "
    "privileged-dynamics | true-env (oracle ablation) | llm:SPEC"
)
REWARDS = (
    "learned | learned:DIR (saved) | learned-ensemble (penalized by disagreement) | "
    "learned-ensemble:DIR (saved) | privileged-dynamics | true-env (oracle ablation) | llm:SPEC"
)
NAMES = {
    "controller": (("critic", "critic-any", "transcript"), ("llm:",), CONTROLLERS),
    "forward model": (
        ("retrieval", "retrieval-ensemble", "privileged-dynamics", "true-env"),
        ("llm:",),
        FORWARDS,
    ),
    "reward model": (
        ("learned", "learned-ensemble", "privileged-dynamics", "true-env"),
        ("learned:", "learned-ensemble:", "llm:"),
        REWARDS,
    ),
}
"""Per component kind: its names, the prefixes of its parametrized specs, and the help line."""


def check_spec(spec: str, kind: str) -> None:
    """Raise ``ValueError`` if ``spec`` names no ``kind`` ("controller", "forward model" or
    "reward model"): checked before any data is read or model fitted."""
    names, prefixes, allowed = NAMES[kind]
    if spec not in names and not spec.startswith(prefixes):
        raise InvalidInput(f"unknown {kind} {spec!r}; allowed: {allowed}")


def intensity_reader(data: Sequence[Episode], encoder: CachedEncoder | None) -> Any:
    """Counseling data with recorded initial intensities: a reader of it from the seeker's first
    turns (fitted on ``data``); otherwise the persona prior draws it."""
    from .learned_reward import MIN_EPISODES, LearnedRewardModel

    known = [e for e in data if (e.outcome or {}).get("initial_intensity") is not None]
    if len(known) < MIN_EPISODES:
        return "prior"
    model = LearnedRewardModel.fit(data, encoder=(encoder or CachedEncoder()).spec)
    return model.initial_intensity


def make_controller(
    spec: str, data: Sequence[Episode] = (), encoder: CachedEncoder | None = None
) -> HindsightController:
    """``critic`` or ``critic-any`` (fitted on ``data``), ``transcript`` or ``llm:SPEC``."""
    check_spec(spec, "controller")
    if spec in ("critic", "critic-any"):
        from .critic import CriticController

        moves = "any" if spec == "critic-any" else "supported"
        return CriticController(data, encoder or CachedEncoder(), moves=moves)
    if spec == "transcript":
        from .embedded import TranscriptController

        return TranscriptController()
    from .llm import LLMController  # the one kind left: llm:SPEC

    return LLMController(spec[4:])


def make_forward(
    spec: str, data: Sequence[Episode] = (), encoder: CachedEncoder | None = None
) -> ForwardModel:
    """``retrieval`` (indexes ``data``), ``retrieval-ensemble`` (indexes bootstrap resamples of
    ``data``), ``privileged-dynamics``, ``true-env`` or ``llm:SPEC``."""
    check_spec(spec, "forward model")
    if spec == "retrieval":
        from .retrieval import RetrievalForwardModel

        return RetrievalForwardModel(data, encoder or CachedEncoder())
    if spec == "retrieval-ensemble":
        from .forward_ensemble import EnsembleForwardModel

        return EnsembleForwardModel(data, encoder or CachedEncoder())
    if spec == "privileged-dynamics":
        from .embedded import PrivilegedDynamicsForwardModel

        return PrivilegedDynamicsForwardModel(initial=intensity_reader(data, encoder))
    if spec == "true-env":
        from .oracle import TrueEnvForwardModel

        return TrueEnvForwardModel()
    from .llm import LLMForwardModel  # the one kind left: llm:SPEC

    return LLMForwardModel(spec[4:])


def make_reward(
    spec: str, domain: str, data: Sequence[Episode] = (), encoder: CachedEncoder | None = None
) -> RewardModel:
    """``learned`` (fitted on ``data``), ``learned:DIR`` (saved), ``learned-ensemble`` (fitted
    on ``data``), ``learned-ensemble:DIR`` (saved), ``privileged-dynamics``, ``true-env`` or
    ``llm:SPEC``."""
    check_spec(spec, "reward model")
    if spec == "learned-ensemble" or spec.startswith("learned-ensemble:"):
        from .reward_ensemble import EnsembleRewardModel

        if spec.startswith("learned-ensemble:"):
            return EnsembleRewardModel.load(spec[len("learned-ensemble:") :])
        return EnsembleRewardModel.fit(data, encoder=(encoder or CachedEncoder()).spec)
    if spec == "learned" or spec.startswith("learned:"):
        from .learned_reward import LearnedRewardModel

        if spec.startswith("learned:"):
            return LearnedRewardModel.load(spec[len("learned:") :])
        return LearnedRewardModel.fit(data, encoder=(encoder or CachedEncoder()).spec)
    if spec == "privileged-dynamics":
        from .embedded import PrivilegedDynamicsRewardModel

        return PrivilegedDynamicsRewardModel(initial=intensity_reader(data, encoder))
    if spec == "true-env":
        from .oracle import TrueEnvRewardModel

        return TrueEnvRewardModel()
    from .llm import LLMRewardModel  # the one kind left: llm:SPEC

    return LLMRewardModel(spec[4:], domain)


def _components(ctrl: Any, fwd: Any, rwd: Any) -> tuple[Any, Any, Any]:
    """A worker's state: the fitted controller, forward and reward models (pickled to Ray
    workers once per worker; LLM components rebuild their backends from the spec there)."""
    return ctrl, fwd, rwd


def _regenerate_source(
    per_episode: int,
    round_: int,
    anchor_draws: int,
    state: tuple[Any, Any, Any],
    src: Episode,
) -> tuple[list[Episode], dict[str, str] | None]:
    """One source episode's regenerations, or the error that stopped them (a backend or parse
    failure: recorded, retried by a rerun)."""
    errors: list[dict[str, str]] = []
    ctrl, fwd, rwd = state
    regs = list(
        iter_regenerate(
            [src],
            ctrl,
            fwd,
            rwd,
            "all",
            per_episode,
            round_,
            on_error=lambda e, err: errors.append({"id": e.id, "error": str(err)}),
            anchor_draws=anchor_draws,
        )
    )
    return regs, (errors[0] if errors else None)


def run(
    inp: Path,
    out: Path,
    controller: str = "critic",
    forward: str = "retrieval",
    reward: str = "learned",
    select: str = "unsuccessful",
    per_episode: int = 1,
    rounds: int = 1,
    pairs: Path | None = None,
    progress: bool = True,
    fit_on: Path | None = None,
    encoder: str = "minilm",
    backend: Backend = LOCAL,
    anchor_draws: int = 0,
) -> dict[str, Any]:
    """Regenerate ``inp`` into ``out`` (appending; ids already there are skipped). The learned
    components are fitted on ``fit_on`` (default: ``inp`` itself), text embedded by ``encoder``.
    ``backend`` regenerates on Ray workers (components fitted here, sent once per worker); the
    file is the same. ``anchor_draws`` > 0 anchors each rewrite's reward to its source's
    recorded outcome (:mod:`.anchored`)."""
    for spec, kind in (
        (controller, "controller"),
        (forward, "forward model"),
        (reward, "reward model"),
    ):
        check_spec(spec, kind)
    report = ReadReport()
    sources = read_dataset(inp, report=report)
    envs = {env_key(e.env_id) for e in sources}
    if len(envs) != 1:
        raise InvalidInput(f"{inp} mixes environments {sorted(envs)}; regenerate one at a time")
    env = envs.pop()
    domain = env_domain(env)
    data = sources if fit_on is None else read_dataset(fit_on)
    if fit_on is not None and {env_key(e.env_id) for e in data} != {env}:
        raise InvalidInput(f"the fitting data {fit_on} must hold {env} episodes only, like {inp}")
    privileged = domain == "counseling" and "privileged-dynamics" in (forward, reward)
    learned = {"retrieval", "learned", "learned-ensemble"}
    needs_data = controller in ("critic", "critic-any") or {forward, reward} & learned
    needs_data = needs_data or privileged
    enc = CachedEncoder(encoder) if needs_data else None
    rwd = make_reward(reward, domain, data, enc)  # first: a bad saved model fails at once
    fwd = make_forward(forward, data, enc)
    check_anchor(anchor_draws, fwd, rwd)
    ctrl = make_controller(controller, data, enc)
    errors: list[dict[str, str]] = []
    written = _regenerate_rounds(
        sources,
        out,
        (ctrl, fwd, rwd),
        (select, per_episode, rounds, anchor_draws),
        progress,
        backend,
        errors,
    )
    regenerated = read_episodes(out)[0]
    summary = {
        "sources": len(sources),
        "selected": sum(is_unsuccessful(e) for e in sources)
        if select == "unsuccessful"
        else len(sources),
        "regenerated_in_file": len(regenerated),
        "written_now": written,
        "errors": errors,
        "torn_input_tail": report.torn_tail,
    }
    if pairs is not None:
        by_id = {e.id: e for e in sources + regenerated}
        rows = preference_pairs(regenerated, by_id)
        atomic_write_text(pairs, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in rows))
        summary["pairs"] = len(rows)
    return summary


def _regenerate_rounds(
    sources: list,
    out: Path,
    components: tuple,
    plan: tuple[str, int, int, int],
    progress: bool,
    backend: Backend,
    errors: list[dict[str, str]],
) -> int:
    """Append every round's regenerations to ``out`` (round r rewrites round r-1's; ids already
    in the file are skipped), collecting per-episode failures in ``errors``; returns how many
    episodes were written now. ``plan``: select, per_episode, rounds, anchor_draws."""
    select, per_episode, rounds, anchor_draws = plan
    done = {e.id for e in read_episodes(out)[0]} if out.exists() else set()
    written = 0
    current = sources
    with worker_session():  # every round on the same Ray workers
        for r in range(1, rounds + 1):
            chosen = [e for e in current if (select == "all" and r == 1) or is_unsuccessful(e)]
            bar = None
            if progress:
                from ..progress import progress_bar

                bar = progress_bar(total=len(chosen), desc=f"hindsight round {r}", unit="ep")
            todo = [e for e in chosen if regenerated_id(e.id, r, 0) not in done]
            if bar:
                bar.update(len(chosen) - len(todo))
            task = partial(_regenerate_source, per_episode, r, anchor_draws)
            with EpisodeWriter(out) as writer:  # the driver is the only writer, in source order
                for regs, error in map_ordered(
                    task, todo, partial(_components, *components), backend=backend
                ):
                    if error is not None:
                        errors.append(error)
                    for e in regs:
                        writer.write(e)
                        done.add(e.id)
                        written += 1
                    if bar:
                        bar.update()
            if bar:
                bar.close()
            current = [e for e in read_episodes(out)[0] if (e.provenance or {}).get("round") == r]
    return written
