"""The paper's LM-level claim at CPU scale: SmolLM2 agents learned from real human dialogues,
with and without their hindsight regenerations.

1. **Data** (the benchmark's ``real`` regime): the real train dialogues of the env's corpus
   (the ESConv train conversations with their real intensity drops, or, with ``--env
   Persuasion-v0``, the 817 P4G persuasions with their real donations), cut to the turn limit
   (``real_episodes``).
2. **Hindsight**: the learned pipeline, every part fitted on those dialogues only (the ``critic``
   controller, the ``retrieval`` forward model, the ``learned`` reward model; ``--anchor-draws N``
   anchors each rewrite to its source's real outcome), rewrites the failed dialogues. The
   rewrites whose imagined outcome beats their source's (by the same reward model) are the DPO
   pairs.
3. **Training**, per training seed, each agent beside the same agent without hindsight:

   - SFT on real + regenerated dialogues, beside SFT on the real dialogues (same steps);
   - DPO on the hindsight pairs starting from SFT (real), beside SFT (real);
   - rerank (the best of ``--k`` samples of the untuned model by an utterance-level critic) with
     the critic of real + regenerated dialogues, beside the critic of the real ones.

4. **Evaluation** on held-out seeds of the embedded simulator, every agent on the same seeds;
   each hindsight agent minus its counterpart with a 95% interval and a paired test, Holm over
   the three. With ``--train-seeds`` >= 2 the interval is two-level (training runs and seeds,
   :func:`dialogue_gym.stats.difference_test`); with one, it covers the evaluation seeds only.

Usage::

    python examples/hindsight_lm.py --data ../shared/data            # CPU size: < 1 h, 2 cores
    python examples/hindsight_lm.py --data DIR --device cuda          # GPU size (see SIZES)

Every stage's output is kept in ``--out`` (regenerations, models, each evaluation), so a killed
run started again goes on where it stopped. Writes ``--out``/results.json and results.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import dialogue_gym
from dialogue_gym.agents.dpo import DPOArgs, train_dpo
from dialogue_gym.agents.encoders import make_encoder
from dialogue_gym.agents.lm_loading import LMOptions, load_lm, save_lm
from dialogue_gym.agents.offline_data import DEFAULT_MAX_TURNS
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.agents.rerank import CriticArgs, RerankAgent, load_critic, train_critic
from dialogue_gym.agents.sft import SFTArgs, train_sft
from dialogue_gym.benchmark.regimes import real_episodes
from dialogue_gym.domains import env_domain
from dialogue_gym.errors import InvalidInput
from dialogue_gym.evaluation import EvaluationResult
from dialogue_gym.export import sft_records, utterance_transitions
from dialogue_gym.files import atomic_write_text
from dialogue_gym.hindsight import preference_pairs, regenerate
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.hindsight.pipeline import make_controller, make_forward, make_reward
from dialogue_gym.jsonl import EpisodeWriter, read_episodes
from dialogue_gym.llm.transformers_backend import TransformersBackend
from dialogue_gym.stats import difference_test, fmt_ci, holm, mean_estimate

SIZES = {
    "cpu": {
        "steps": 40,
        "eval_episodes": 20,
        "train_seeds": 1,
        "k": 2,
        "critic_steps": 2000,
        "max_turns": 5,
        "max_tokens": 32,
    },
    "cuda": {
        "steps": 400,
        "eval_episodes": 200,
        "train_seeds": 3,
        "k": 8,
        "critic_steps": 5000,
        "max_turns": DEFAULT_MAX_TURNS,
        "max_tokens": 64,
    },
}
"""Defaults by device. The CPU size runs in under an hour on 2 cores: conversations of 5 agent
turns (the real dialogues cut there, as if played under that limit, and the env's limit) of at
most 32 tokens a turn, 20 held-out seeds, one training run, rerank from 2 samples (generation
dominates the time on a CPU, and a rerank turn costs k answers; the README has the measured
times). The GPU size: the env's 10 turns of 64 tokens, ten times the training steps, 200 seeds,
3 training runs (two-level intervals), 8 samples."""

PAIRS = (
    ("SFT + hindsight", "SFT"),
    ("SFT + DPO (hindsight pairs)", "SFT"),
    ("rerank (critic + hindsight)", "rerank (critic)"),
)
"""Each hindsight agent and the same agent without hindsight."""

REFERENCES = ("random", "scripted")
"""The embedded agents played on the same seeds for scale: no strategy, and the expert flow."""

HELD_OUT = 1_000_000
"""The first evaluation seed (the simulator's personas there were never trained on)."""


def _parser() -> argparse.ArgumentParser:
    """The example's options (``None``: the device's size, :data:`SIZES`)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Counseling by default: at the CPU size's 5 turns the Persuasion env hardly tells random,
    # the scripted flow and the oracle apart, and Counseling does (figures in the README)
    p.add_argument("--env", default="Counseling-v0", choices=("Persuasion-v0", "Counseling-v0"))
    p.add_argument(
        "--data", type=Path, required=True, help="the shared data folder (p4g/, esconv/)"
    )
    p.add_argument(
        "--model", default="local:smollm2", help="a transformers folder or local:smollm2"
    )
    p.add_argument("--dialogues", type=int, help="learn from the first N real dialogues (all)")
    p.add_argument("--steps", type=int, help="optimizer steps of every SFT and DPO run")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--eval-episodes", type=int, help="held-out seeds per agent")
    p.add_argument("--train-seeds", type=int, help="training runs per agent")
    p.add_argument("--k", type=int, help="rerank: samples per turn")
    p.add_argument("--critic-steps", type=int, help="rerank: the critic's gradient steps")
    p.add_argument("--max-turns", type=int, help="agent turns: the data's cut and the env's limit")
    p.add_argument("--anchor-draws", type=int, default=0, help="anchored relabelling (0: plain)")
    p.add_argument("--encoder", default="minilm", help="minilm or hash (hindsight and critic)")
    p.add_argument("--max-tokens", type=int, help="tokens per agent utterance")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default=None, choices=("float32", "bfloat16", "float16"))
    p.add_argument("--out", type=Path, default=Path("runs/hindsight_lm"))
    return p


def _sized(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the options left unset from the device's size."""
    size = SIZES["cuda" if args.device.startswith("cuda") else "cpu"]
    for key, value in size.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def check_options(args: argparse.Namespace) -> None:
    """Record the options in ``--out``/options.json, or, on a rerun, refuse options that differ
    from those the kept outputs were made with (they would be read back as if made with these)."""
    path = args.out / "options.json"
    given = {k: str(v) for k, v in sorted(vars(args).items()) if k != "out"}
    if not path.is_file():
        atomic_write_text(path, json.dumps(given, indent=1))
        return
    kept = json.loads(path.read_text())
    changed = sorted(k for k in given.keys() | kept.keys() if given.get(k) != kept.get(k))
    if changed:
        raise InvalidInput(
            f"{args.out} holds a run made with other options ({', '.join(changed)}: "
            f"{[kept.get(k) for k in changed]} there, {[given.get(k) for k in changed]} now); "
            "give a fresh --out, or the same options to go on with it"
        )


def hindsight_data(args: argparse.Namespace, timed: Any) -> tuple[list, list, list]:
    """The real dialogues, their regenerations and the DPO pairs (the regenerations are kept in
    ``--out``/regenerated.jsonl and read back on a rerun)."""
    originals = real_episodes(args.env, args.data, args.max_turns)[: args.dialogues]
    path = args.out / "regenerated.jsonl"
    if path.is_file():
        regen = read_episodes(path)[0]
    else:
        with timed("hindsight (fit + regenerate)"):
            enc = CachedEncoder(args.encoder)
            domain = env_domain(args.env)
            reward = make_reward("learned", domain, originals, enc)
            forward = make_forward("retrieval", originals, enc)
            controller = make_controller("critic", originals, enc)
            regen = regenerate(
                originals, controller, forward, reward, anchor_draws=args.anchor_draws
            )
        path.with_suffix(".tmp").unlink(missing_ok=True)
        with EpisodeWriter(path.with_suffix(".tmp")) as w:
            for e in regen:
                w.write(e)
        path.with_suffix(".tmp").replace(path)
    by_id = {e.id: e for e in originals + regen}
    return originals, regen, preference_pairs(regen, by_id)


def _train_lms(args, seed, originals, regen, pairs, timed) -> dict[str, Path]:
    """SFT (real), SFT (real + regenerated) and DPO from SFT (real) on the pairs: their folders
    under ``--out``/seed-N (a folder already there is kept)."""
    folder = args.out / f"seed-{seed}"
    paths = {
        "SFT": folder / "sft",
        "SFT + hindsight": folder / "sft-hindsight",
        "SFT + DPO (hindsight pairs)": folder / "sft-dpo",
    }
    options = LMOptions(device=args.device, dtype=args.dtype)
    base, tok = load_lm(args.model, options)
    sft_args = SFTArgs(max_steps=args.steps, batch_size=args.batch_size, seed=seed)
    for label, data in (("SFT", originals), ("SFT + hindsight", originals + regen)):
        if not paths[label].is_dir():
            with timed(f"train {label} (seed {seed})"):
                model = copy.deepcopy(base)
                log = train_sft(model, tok, sft_records(data), sft_args, folder / "sft.run")
                save_lm(model, tok, paths[label], training=log)
    if not paths["SFT + DPO (hindsight pairs)"].is_dir():
        with timed(f"train DPO (seed {seed})"):
            model, tok = load_lm(str(paths["SFT"]), options)
            dpo_args = DPOArgs(max_steps=args.steps, batch_size=args.batch_size, seed=seed)
            log = train_dpo(model, tok, pairs, dpo_args, folder / "dpo.run")
            save_lm(model, tok, paths["SFT + DPO (hindsight pairs)"], training=log)
    return paths


def _train_critics(args, seed, originals, regen, timed) -> dict[str, Path]:
    """The utterance-level critics of the real dialogues and of real + regenerated."""
    folder = args.out / f"seed-{seed}"
    paths = {
        "rerank (critic)": folder / "critic",
        "rerank (critic + hindsight)": folder / "critic-h",
    }
    critic_args = CriticArgs(steps=args.critic_steps, seed=seed)
    for label, data in (
        ("rerank (critic)", originals),
        ("rerank (critic + hindsight)", originals + regen),
    ):
        if not paths[label].is_dir():
            with timed(f"train {label} (seed {seed})"):
                critic, log = train_critic(
                    utterance_transitions(data), make_encoder(args.encoder), critic_args
                )
                critic.save(paths[label], log)
    return paths


def _evaluate(args, label: str, seed: int, agent: Any, timed) -> EvaluationResult:
    """``agent`` on the held-out seeds (kept in ``--out``/eval; read back on a rerun)."""
    path = args.out / "eval" / f"{label} (seed {seed}).json".replace(" ", "_")
    if path.is_file():
        return EvaluationResult.load(path)
    with timed(f"eval {label} (seed {seed})"):
        r = dialogue_gym.evaluate(
            agent,
            args.env,
            args.eval_episodes,
            seed=HELD_OUT,
            oracle=False,
            progress=False,
            max_turns=args.max_turns,
        )
    r.agent["label"] = label
    path.parent.mkdir(parents=True, exist_ok=True)
    r.save(path)
    return r


def run_seed(args, seed, data, untuned, timed) -> dict[str, EvaluationResult]:
    """Train every agent of one training seed and evaluate it (and, for seed 0, the
    :data:`REFERENCES` and the untuned model prompted) on the held-out seeds."""
    originals, regen, pairs = data
    domain = env_domain(args.env)
    lm = f"max_tokens={args.max_tokens},device={args.device}"
    results = {}
    if seed == 0:
        for name in REFERENCES:
            results[name] = _evaluate(args, name, 0, name, timed)
        prompting = make_agent(
            "prompting", domain, llm=untuned, cache=False, max_tokens=args.max_tokens
        )
        results["SmolLM2 (prompting)"] = _evaluate(args, "SmolLM2 (prompting)", 0, prompting, timed)
    for label, path in _train_lms(args, seed, originals, regen, pairs, timed).items():
        results[label] = _evaluate(args, label, seed, f"lm:path={path},{lm}", timed)
    for label, path in _train_critics(args, seed, originals, regen, timed).items():
        agent = RerankAgent(
            domain,
            untuned,
            load_critic(path),
            k=args.k,
            max_tokens=args.max_tokens,
            cache=False,
            seed=seed,
        )
        results[label] = _evaluate(args, label, seed, agent, timed)
    return results


def returns(results: list[EvaluationResult]) -> np.ndarray:
    """Per-seed returns of one agent's runs: ``(runs, seeds)``, ``nan`` for a failed episode."""
    rows = []
    for r in results:
        by_seed = {e.seed: (e.reward if e.status == "ok" else np.nan) for e in r.episodes}
        rows.append([by_seed.get(HELD_OUT + i, np.nan) for i in range(len(by_seed))])
    return np.array(rows, dtype=float)


def table(per_agent: dict[str, list[EvaluationResult]]) -> tuple[str, dict[str, Any]]:
    """The markdown table (every agent's mean, each hindsight agent minus its counterpart, Holm
    over the three differences) and its figures."""
    figures: dict[str, Any] = {"agents": {}, "differences": {}}
    lines = ["| agent | runs x seeds | mean return [95% CI] |", "| --- | --- | --- |"]
    for label, results in per_agent.items():
        x = returns(results)
        est = mean_estimate(x)
        figures["agents"][label] = {
            "mean": est.value,
            "ci95": est.as_list(),
            "shape": list(x.shape),
        }
        lines.append(
            f"| {label} | {x.shape[0]} x {x.shape[1]} | {fmt_ci(est.value, est.low, est.high)} |"
        )
    tests = [difference_test(returns(per_agent[a]), returns(per_agent[b])) for a, b in PAIRS]
    adjusted = holm([p for _, p in tests])
    lines += [
        "",
        "| hindsight - without | difference [95% CI] | p | Holm |",
        "| --- | --- | --- | --- |",
    ]
    for (a, b), (d, p), h in zip(PAIRS, tests, adjusted, strict=True):
        figures["differences"][f"{a} - {b}"] = {
            "diff": d.value,
            "ci95": d.as_list(),
            "p": p,
            "holm": h,
        }
        lines.append(
            f"| {a} - {b} | {fmt_ci(d.value, d.low, d.high, signed=True)} | {p:.3g} | {h:.3g} |"
        )
    return "\n".join(lines), figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the four steps; print and save the table; return the figures."""
    args = _sized(_parser().parse_args(argv))
    args.out.mkdir(parents=True, exist_ok=True)
    check_options(args)
    timings: dict[str, float] = {}

    @contextmanager
    def timed(name: str):
        start = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - start, 1)
        print(f"[{name}: {timings[name]:.0f} s]", flush=True)

    data = hindsight_data(args, timed)
    originals, regen, pairs = data
    print(f"{len(originals)} real dialogues, {len(regen)} regenerations, {len(pairs)} DPO pairs")
    base, tok = load_lm(args.model, LMOptions(device=args.device, dtype=args.dtype))
    untuned = TransformersBackend(base, tok, name=args.model)
    per_agent: dict[str, list[EvaluationResult]] = {}
    for seed in range(args.train_seeds):
        for label, r in run_seed(args, seed, data, untuned, timed).items():
            per_agent.setdefault(label, []).append(r)
    text, figures = table(per_agent)
    print(text)
    figures.update(
        {
            "env": args.env,
            "options": {k: str(v) for k, v in vars(args).items()},
            "real_dialogues": len(originals),
            "regenerated": len(regen),
            "pairs": len(pairs),
            "seconds": timings,
        }
    )
    atomic_write_text(args.out / "results.json", json.dumps(figures, indent=1, default=str))
    atomic_write_text(args.out / "results.md", text + "\n")
    print(f"wrote {args.out / 'results.json'} and results.md")
    return figures


if __name__ == "__main__":
    main()
