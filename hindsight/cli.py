"""``dialogue-gym hindsight``: regenerate a dataset file, resumably, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import atomic_write_text
from ..jsonl import EpisodeWriter, ReadReport, read_dataset, read_episodes
from .base import DOMAIN, ForwardModel, HindsightController, RewardModel, env_key
from .regenerate import is_unsuccessful, iter_regenerate, preference_pairs

COMPONENT_FORMS = "transcript|imagination|true-env|llm:SPEC"


def make_controller(spec: str) -> HindsightController:
    """``transcript`` (offline) or ``llm:SPEC``."""
    if spec == "transcript":
        from .embedded import TranscriptController

        return TranscriptController()
    if spec.startswith("llm:"):
        from .llm import LLMController

        return LLMController(spec[4:])
    raise ValueError(f"unknown controller {spec!r}; allowed: transcript, llm:SPEC")


def make_forward(spec: str) -> ForwardModel:
    """``imagination`` (offline), ``true-env`` (oracle ablation) or ``llm:SPEC``."""
    if spec == "imagination":
        from .embedded import ImaginationForwardModel

        return ImaginationForwardModel()
    if spec == "true-env":
        from .oracle import TrueEnvForwardModel

        return TrueEnvForwardModel()
    if spec.startswith("llm:"):
        from .llm import LLMForwardModel

        return LLMForwardModel(spec[4:])
    raise ValueError(f"unknown forward model {spec!r}; allowed: imagination, true-env, llm:SPEC")


def make_reward(spec: str, domain: str) -> RewardModel:
    """``imagination`` (offline), ``true-env`` (oracle ablation) or ``llm:SPEC``."""
    if spec == "imagination":
        from .embedded import ImaginationRewardModel

        return ImaginationRewardModel()
    if spec == "true-env":
        from .oracle import TrueEnvRewardModel

        return TrueEnvRewardModel()
    if spec.startswith("llm:"):
        from .llm import LLMRewardModel

        return LLMRewardModel(spec[4:], domain)
    raise ValueError(f"unknown reward model {spec!r}; allowed: imagination, true-env, llm:SPEC")


def run(
    inp: Path, out: Path, controller: str = "transcript", forward: str = "imagination",
    reward: str = "imagination", select: str = "unsuccessful", per_episode: int = 1,
    rounds: int = 1, pairs: Path | None = None, progress: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Regenerate ``inp`` into ``out`` (appending; ids already there are skipped)."""
    report = ReadReport()
    sources = read_dataset(inp, report=report)
    envs = {env_key(e.env_id) for e in sources}
    if len(envs) != 1:
        raise ValueError(f"{inp} mixes environments {sorted(envs)}; regenerate one at a time")
    domain = DOMAIN[envs.pop()]
    ctrl, fwd, rwd = make_controller(controller), make_forward(forward), make_reward(reward, domain)
    done = {e.id for e in read_episodes(out)[0]} if out.exists() else set()
    errors: list[dict[str, str]] = []
    written = 0
    current = sources
    for r in range(1, rounds + 1):
        chosen = [e for e in current if (select == "all" and r == 1) or is_unsuccessful(e)]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(chosen), desc=f"hindsight round {r}", unit="ep")
        with EpisodeWriter(out) as writer:
            for src in chosen:
                regs = list(iter_regenerate(
                    [src], ctrl, fwd, rwd, "all", per_episode, r, skip=done.__contains__,
                    on_error=lambda e, err: errors.append({"id": e.id, "error": str(err)}),
                ))  # fmt: skip
                for e in regs:
                    writer.write(e)
                    done.add(e.id)
                    written += 1
                if bar:
                    bar.update()
        if bar:
            bar.close()
        current = [e for e in read_episodes(out)[0] if (e.provenance or {}).get("round") == r]
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
