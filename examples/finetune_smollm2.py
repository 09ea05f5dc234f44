"""Fine-tune SmolLM2-135M-Instruct as the agent: SFT vs ILQL on original + hindsight dialogues.

1. Play ``--episodes`` dialogues of the human-like behaviour policy on the embedded simulator.
2. Regenerate the failed ones in hindsight (transcript controller, privileged-dynamics forward
   and reward models: a privileged pipeline, which never reads the hidden persona).
3. Fine-tune two copies of SmolLM2 on originals + regenerations: SFT (loss on agent turns) and
   ILQL (Q/V heads, value-shifted decoding).
4. Evaluate the untuned model (zero-shot prompting), SFT and ILQL on the same held-out seeds with
   ``dialogue_gym.evaluate``, beside the behaviour policy; paired t-tests between them.

Usage (the CPU defaults take about half an hour on 2 cores)::

    python examples/finetune_smollm2.py [--env Counseling-v0] [--steps 30] [--eval-episodes 20]
    python examples/finetune_smollm2.py --device cuda --steps 300 --eval-episodes 100   # a GPU

Writes ``--out``/results.json (figures and timings) and the two model folders, which the agents
``lm:path=OUT/sft`` and ``ilql:path=OUT/ilql,beta=B`` load.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dialogue_gym
from dialogue_gym.agents.ilql import ILQLArgs, dialogue_records, save_ilql, train_ilql
from dialogue_gym.agents.lm_loading import LMOptions, load_lm, save_lm
from dialogue_gym.agents.registry import make_agent
from dialogue_gym.agents.sft import SFTArgs, train_sft
from dialogue_gym.comparison import compare, format_table
from dialogue_gym.domains import env_domain
from dialogue_gym.export import sft_records
from dialogue_gym.files import atomic_write_text
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    PrivilegedDynamicsForwardModel,
    PrivilegedDynamicsRewardModel,
    TranscriptController,
    regenerate,
)
from dialogue_gym.jsonl import read_episodes
from dialogue_gym.llm.transformers_backend import TransformersBackend


def _parser() -> argparse.ArgumentParser:
    """The example's options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", default="Counseling-v0", choices=("Persuasion-v0", "Counseling-v0"))
    p.add_argument(
        "--model", default="local:smollm2", help="a transformers folder or local:smollm2"
    )
    p.add_argument("--episodes", type=int, default=200, help="behaviour episodes to learn from")
    p.add_argument("--steps", type=int, default=30, help="optimizer steps of SFT and of ILQL")
    p.add_argument("--batch-size", type=int, default=4, help="SFT records / ILQL dialogues a step")
    p.add_argument("--beta", type=float, default=1.0, help="ILQL decoding strength")
    p.add_argument(
        "--sft-unit",
        default="turn",
        choices=("turn", "dialogue"),
        help="SFT examples: per agent turn, or per dialogue like ILQL",
    )
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--max-tokens", type=int, default=48, help="tokens per agent utterance")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default=None, choices=("float32", "bfloat16", "float16"))
    p.add_argument("--lora-r", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/finetune_smollm2"))
    return p


def _tests(results: dict) -> dict:
    """ILQL vs SFT vs prompting, paired by seed (printed and returned)."""
    tests = {}
    for a, b in (
        ("smollm2 + ILQL", "smollm2 + SFT"),
        ("smollm2 + ILQL", "smollm2 (prompting)"),
        ("smollm2 + SFT", "smollm2 (prompting)"),
    ):
        c = compare(results[a], results[b])
        tests[f"{a} - {b}"] = {"diff": c.diff, "ci95": c.ci95, "p": c.p_value, "test": c.test}
        print(
            f"{a} - {b}: {c.diff:+.3f} [{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}], "
            f"p = {c.p_value:.3g} ({c.test})"
        )
    return tests


def _evaluate_all(
    args: argparse.Namespace, domain: str, untuned: Any, device: str, timed: Any
) -> dict:
    """The behaviour policy, the untuned model prompted, and the two fine-tuned copies on the
    same held-out seeds."""
    held_out = 1_000_000
    agents = {
        "human-like": "human-like",
        "smollm2 (prompting)": make_agent(
            "prompting", domain, llm=untuned, cache=False, max_tokens=args.max_tokens
        ),
        "smollm2 + SFT": f"lm:path={args.out / 'sft'},max_tokens={args.max_tokens},device={device}",
        "smollm2 + ILQL": f"ilql:path={args.out / 'ilql'},beta={args.beta},"
        f"max_tokens={args.max_tokens},device={device}",
    }
    results = {}
    for label, agent in agents.items():
        with timed(f"eval {label}"):
            r = dialogue_gym.evaluate(
                agent, args.env, args.eval_episodes, seed=held_out, oracle=False
            )
        r.agent["label"] = label
        results[label] = r
    return results


def main(argv: list[str] | None = None) -> dict:
    """Run the four steps; print the table; return (and save) the figures."""
    args = _parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    domain = env_domain(args.env)
    timings: dict[str, float] = {}

    @contextmanager
    def timed(name: str):
        start = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - start, 1)
        print(f"[{name}: {timings[name]:.0f} s]", flush=True)

    # 1-2. behaviour data and its hindsight regenerations
    data = args.out / "episodes.jsonl"
    with timed("generate"):
        generate(args.env, "human-like", args.episodes, data, progress=False)
    originals = read_episodes(data)[0]
    with timed("hindsight"):
        controller, forward = TranscriptController(), PrivilegedDynamicsForwardModel()
        regen = regenerate(originals, controller, forward, PrivilegedDynamicsRewardModel())
    episodes = originals + regen
    print(f"{len(originals)} episodes + {len(regen)} hindsight regenerations")

    # 3. two fine-tuned copies of the model
    options = LMOptions(device=args.device, dtype=args.dtype, lora_r=args.lora_r)
    with timed("load"):
        base, tok = load_lm(args.model, options)
    with timed("train_sft"):
        model = copy.deepcopy(base)
        sft_args = SFTArgs(max_steps=args.steps, batch_size=args.batch_size, unit=args.sft_unit)
        sft = train_sft(model, tok, sft_records(episodes), sft_args, args.out / "sft.run")
        save_lm(model, tok, args.out / "sft", training=sft)
    with timed("train_ilql"):
        model = copy.deepcopy(base)
        # ILQLArgs' defaults suit short runs (targets at Polyak 0.1 track the heads within about
        # ten steps; see ILQLArgs.polyak).
        ilql_args = ILQLArgs(steps=args.steps, batch_size=args.batch_size)
        heads, ilql_log = train_ilql(
            model, tok, dialogue_records(episodes), ilql_args, progress=True
        )
        save_ilql(args.out / "ilql", model, tok, heads, ilql_args, ilql_log)
    del model, heads

    # 4. evaluation on held-out seeds
    device = options.resolved_device()
    results = _evaluate_all(
        args, domain, TransformersBackend(base, tok, name=args.model), device, timed
    )
    print(format_table(list(results.values())))
    tests = _tests(results)
    figures = {
        "env": args.env,
        "device": device,
        "model": args.model,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "sft_unit": args.sft_unit,
        "episodes": len(originals),
        "regenerated": len(regen),
        "sft_records": sft["records"],
        "sft_loss": [sft["losses"][0], sft["losses"][-1]],
        "ilql_dialogues": ilql_log["dialogues"],
        "ilql_loss": [ilql_log["loss"][0], ilql_log["loss"][-1]],
        "beta": args.beta,
        "eval_episodes": args.eval_episodes,
        "results": {k: r.summary for k, r in results.items()},
        "tests": tests,
        "seconds": timings,
        "rewards": {k: {e.seed: e.reward for e in r.episodes} for k, r in results.items()},
    }
    atomic_write_text(args.out / "results.json", json.dumps(figures, indent=1, default=str))
    print(f"wrote {args.out / 'results.json'}")
    return figures


if __name__ == "__main__":
    main()
