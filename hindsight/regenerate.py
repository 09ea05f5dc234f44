"""``regenerate``: hindsight-relabel recorded episodes into improved trajectories.

For each selected episode the controller proposes up to ``per_episode`` rewrites; each rewrite
keeps the turns before it, replaces the agent turn, lets the forward model continue the dialogue,
and lets the reward model score the result (clipped). Every new episode records its provenance,
including where its reward came from (``provenance["reward_source"]``: imagined by which model,
or the true-env ablation); the originals are never modified. The same reward model also scores
the source dialogue (``outcome["source_model_reward"]``), so that a rewrite is compared with its
source like with like (:func:`preference_pairs`). The rewritten turn is labelled the way the
env labels any utterance — the strategy classifier's reading of its text — and the controller's
intended strategy is kept in the provenance. With ``rounds`` > 1 the regenerated episodes that
still fail (by their imagined reward) are regenerated again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..domains import domain_named, env_domain
from ..episode import ORACLE_REWARD, Episode, Turn
from ..errors import BackendError, InvalidInput
from ..llm.parsing import ParseFailure
from ..simulators.classifier import get_classifier
from .base import ForwardModel, HindsightController, RewardModel, stable_seed

SELECTIONS = ("unsuccessful", "all")


def is_unsuccessful(episode: Episode) -> bool:
    """True if the episode did not succeed (by the domain's success criterion; for a
    regeneration, by its reward model's verdict where it gave one)."""
    if episode.status != "ok" or episode.reward is None:
        return False
    if "imagined_success" in (episode.outcome or {}):
        return not episode.outcome["imagined_success"]
    domain = env_domain(episode.env_id)
    return not domain_named(domain).is_success(float(episode.reward), episode.outcome or {})


def regenerated_id(source_id: str, round_: int, k: int) -> str:
    """Deterministic id of the ``k``-th regeneration of ``source_id`` in ``round_``."""
    return f"{source_id}~h{round_}.{k}"


def regeneration_seed(regenerated_id: str) -> int:
    """The seed of a regeneration's continuation and scoring (from its id alone)."""
    return stable_seed("regenerate", regenerated_id)


def regenerate_one(
    episode: Episode,
    controller: HindsightController,
    forward_model: ForwardModel,
    reward_model: RewardModel,
    per_episode: int = 1,
    round_: int = 1,
    anchor_draws: int = 0,
) -> list[Episode]:
    """The regenerations of one episode (possibly none); with ``anchor_draws`` > 0 each is
    relabelled by anchoring to the episode's recorded outcome (:mod:`.anchored`)."""
    proposals = controller.propose(episode, per_episode)
    if not proposals:
        return []
    classifier = get_classifier(env_domain(episode.env_id))
    if reward_model.oracle and episode.reward is not None:
        source_score = float(episode.reward)  # the true env's outcome is the recorded one
    else:
        source_score = reward_model.score(episode, episode.turns, stable_seed("src", episode.id))
    reward_source = (
        ORACLE_REWARD if reward_model.oracle else f"imagined:{reward_model.config()['name']}"
    )
    out = []
    for k, p in enumerate(proposals):
        new_id = regenerated_id(episode.id, round_, k)
        seed = regeneration_seed(new_id)
        original = episode.turns[p.turn_index]
        prefix = [copy.deepcopy(t) for t in episode.turns[: p.turn_index]]
        prefix.append(Turn("assistant", p.text, list(classifier.classify(p.text))))
        cont = forward_model.continue_dialogue(episode, prefix, seed)
        turns = prefix + cont.turns
        reward = reward_model.score(episode, turns, seed)
        verdict = reward_model.succeeds(episode, turns)
        source = (episode.provenance or {}).get("source_id") if round_ > 1 else None
        out.append(
            Episode(
                id=new_id,
                env_id=episode.env_id,
                env_kwargs=dict(episode.env_kwargs),
                seed=episode.seed,
                agent={"hindsight_of": episode.agent},
                turns=turns,
                reward=reward,
                outcome={
                    "imagined_reward": reward,
                    "source_model_reward": source_score,
                    **({} if verdict is None else {"imagined_success": verdict}),
                    **{f"forward_{k2}": v for k2, v in cont.info.items()},
                },
                provenance={
                    "source_id": episode.id,
                    "root_id": source or episode.id,
                    "rewritten_turn": p.turn_index,
                    "original_text": original.text,
                    "original_strategies": list(original.strategies),
                    "new_strategy": p.strategy,
                    "new_strategies_read": list(turns[p.turn_index].strategies),
                    "rationale": p.rationale,
                    **({} if p.in_support is None else {"in_support": p.in_support}),
                    "original_reward": episode.reward,
                    "controller": controller.config(),
                    "forward_model": forward_model.config(),
                    "reward_model": reward_model.config(),
                    "reward_source": reward_source,
                    "round": round_,
                },
            )
        )
    if anchor_draws:
        from .anchored import anchored_relabel

        out = [anchored_relabel(e, episode, forward_model, reward_model, anchor_draws) for e in out]
    return out


def rescore(regenerated: Episode, source: Episode, reward_model: RewardModel) -> Episode:
    """``regenerated`` (a regeneration of ``source``) with its reward, its source's score and
    its verdict taken from another, imagining ``reward_model``: the same rewrite and
    continuation, relabelled (a copy; the input is not modified)."""
    if reward_model.oracle:
        raise InvalidInput("rescore takes an imagining reward model, not the true env")
    out = copy.deepcopy(regenerated)
    seed = regeneration_seed(out.id)
    out.reward = reward_model.score(source, out.turns, seed)
    verdict = reward_model.succeeds(source, out.turns)
    out.outcome.pop("imagined_success", None)
    out.outcome.update(
        imagined_reward=out.reward,
        source_model_reward=reward_model.score(source, source.turns, stable_seed("src", source.id)),
        **({} if verdict is None else {"imagined_success": verdict}),
    )
    out.provenance["reward_model"] = reward_model.config()
    out.provenance["reward_source"] = f"imagined:{reward_model.config()['name']}"
    return out


def check_anchor(draws: int, forward_model: ForwardModel, reward_model: RewardModel) -> None:
    """``InvalidInput`` unless ``draws`` is 0 (no anchoring) or a positive int with an imagining
    forward and reward model (the true env needs no anchor: it scores the rewrite itself)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        raise InvalidInput(f"anchor draws must be an integer >= 0 (0: not anchored), got {draws!r}")
    if draws and (forward_model.oracle or reward_model.oracle):
        raise InvalidInput(
            "anchoring takes an imagining forward and reward model (retrieval, learned, "
            "learned-ensemble, privileged-dynamics, llm:SPEC), not the true env"
        )


def iter_regenerate(
    episodes: Iterable[Episode],
    controller: HindsightController,
    forward_model: ForwardModel,
    reward_model: RewardModel,
    select: str = "unsuccessful",
    per_episode: int = 1,
    round_: int = 1,
    skip: Callable[[str], bool] | None = None,
    on_error: Callable[[Episode, Exception], None] | None = None,
    anchor_draws: int = 0,
) -> Iterator[Episode]:
    """Yield regenerations one source episode at a time (for streaming and resuming)."""
    if select not in SELECTIONS:
        raise InvalidInput(f"select must be one of {SELECTIONS}, got {select!r}")
    if per_episode < 1:
        raise InvalidInput(f"per_episode must be >= 1, got {per_episode}")
    check_anchor(anchor_draws, forward_model, reward_model)
    for e in episodes:
        if select == "unsuccessful" and not is_unsuccessful(e):
            continue
        if select == "all" and (e.status != "ok" or e.reward is None):
            continue
        if skip is not None and skip(regenerated_id(e.id, round_, 0)):
            continue
        try:
            yield from regenerate_one(
                e, controller, forward_model, reward_model, per_episode, round_, anchor_draws
            )
        except (ParseFailure, BackendError) as err:
            if on_error is not None:
                on_error(e, err)


def regenerate(
    episodes: Sequence[Episode],
    controller: HindsightController,
    forward_model: ForwardModel,
    reward_model: RewardModel,
    select: str = "unsuccessful",
    per_episode: int = 1,
    rounds: int = 1,
    anchor_draws: int = 0,
) -> list[Episode]:
    """All regenerations over ``rounds`` rounds (round r+1 works on round r's failures);
    ``anchor_draws`` > 0: anchored relabelling (:mod:`.anchored`)."""
    if rounds < 1:
        raise InvalidInput(f"rounds must be >= 1, got {rounds}")
    out: list[Episode] = []
    current: Sequence[Episode] = episodes
    for r in range(1, rounds + 1):
        chosen = select if r == 1 else "unsuccessful"
        new = list(
            iter_regenerate(
                current,
                controller,
                forward_model,
                reward_model,
                chosen,
                per_episode,
                r,
                anchor_draws=anchor_draws,
            )
        )
        out += new
        current = new
    return out


def source_model_reward(e: Episode, source: Episode) -> float | None:
    """The score the regeneration's own reward model gave its source (like with like); for
    files written before it was recorded, the source's reward if the regeneration's reward is
    not imagined (true-env ablation), else ``None``."""
    recorded = (e.outcome or {}).get("source_model_reward")
    if recorded is not None:
        return float(recorded)
    if e.reward_source.startswith("imagined:") or source.reward is None:
        return None
    return float(source.reward)


def preference_pairs(
    regenerated: Iterable[Episode], sources: dict[str, Episode], min_gain: float = 0.0
) -> list[dict[str, Any]]:
    """DPO pairs (context, chosen = rewritten turn, rejected = original turn) from regenerations
    whose reward beats their source's by more than ``min_gain`` — both scored by the same reward
    model (:func:`source_model_reward`), never an imagined score against a real outcome.
    ``sources`` maps ids to episodes and must hold every source, regenerations of earlier rounds
    included."""
    from ..agents.prompting import chat_messages

    pairs = []
    for e in regenerated:
        prov = e.provenance or {}
        src = sources.get(prov.get("source_id", ""))
        if src is None or e.reward is None:
            continue
        baseline = source_model_reward(e, src)
        if baseline is None or e.reward - baseline <= min_gain:
            continue
        i = prov["rewritten_turn"]
        pairs.append(
            {
                "prompt": chat_messages(env_domain(e.env_id), src.messages[:i]),
                "chosen": [{"role": "assistant", "content": e.turns[i].text}],
                "rejected": [{"role": "assistant", "content": src.turns[i].text}],
                "source_id": src.id,
                "regenerated_id": e.id,
                "gain": e.reward - baseline,
                "reward_source": e.reward_source,
            }
        )
    return pairs
