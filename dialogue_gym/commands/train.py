"""``dialogue-gym train``: a learner (BC, offline RL, PPO, language-model algorithms) on data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..domains import env_ids
from ..errors import InvalidInput
from .common import threads


def run(args: argparse.Namespace) -> int:
    """Train a strategy-level agent from a dataset (or PPO online) and save a checkpoint."""
    if args.algo in LM_ALGOS:
        return _train_lm(args)
    if args.algo == "critic":
        return _train_critic(args)
    if args.algo == "ppo":
        from ..agents.ppo import PPOArgs, save_ppo, train_ppo

        if not args.env:
            raise InvalidInput("--algo ppo trains online: give --env")
        ppo_args = PPOArgs(steps=args.steps or 20_000, seed=args.seed, threads=args.threads)
        agent, episodes = train_ppo(args.env, ppo_args)
        save_ppo(args.out, agent)
        print(f"ppo: {episodes} environment episodes; saved {args.out}")
        return 0
    from ..agents.bc import BCArgs, train_bc
    from ..agents.cql import CQLArgs, train_cql
    from ..agents.iql import IQLArgs, train_iql
    from ..agents.learned import save_checkpoint
    from ..agents.offline_data import OfflineData, concat
    from ..domains import env_domain

    if not args.data:
        raise InvalidInput(f"--algo {args.algo} learns offline: give --data FILE.jsonl")
    episodes = _read_all(args.data)
    domain = env_domain(episodes[0].env_id)
    data = OfflineData.from_episodes(episodes)
    if args.regenerated:
        data = concat(data, OfflineData.from_episodes(_read_all([args.regenerated])))
    kw = {
        "seed": args.seed,
        "threads": args.threads,
        "imagined_weight": args.imagined_weight,
        **({"steps": args.steps} if args.steps else {}),
    }
    agent = {
        "bc": lambda: train_bc(data, domain, BCArgs(**kw)),
        "filtered-bc": lambda: train_bc(data, domain, BCArgs(top_share=args.top_share, **kw)),
        "cql": lambda: train_cql(data, domain, CQLArgs(**kw)),
        "iql": lambda: train_iql(data, domain, IQLArgs(**kw)),
    }[args.algo]()
    agent.cfg.label = args.algo + ("+hindsight" if args.regenerated else "")
    agent.cfg.train["data"] = [str(p) for p in args.data]
    if args.regenerated:
        agent.cfg.train["regenerated"] = str(args.regenerated)
    save_checkpoint(args.out, agent.net, agent.cfg)
    print(
        f"{args.algo}: {len(data)} transitions; saved {args.out} "
        f"(use it as --agent learned:path={args.out})"
    )
    return 0


LM_ALGOS = ("sft", "filtered-sft", "ilql", "dpo")


def _read_all(paths: list[Path] | None) -> list:
    from ..jsonl import read_dataset

    return [e for p in paths or [] for e in read_dataset(p)]


def _train_lm(args: argparse.Namespace) -> int:
    """SFT / filtered SFT / ILQL / DPO of a transformers chat LM on a dataset."""
    from ..agents.lm_loading import LMOptions, load_lm, save_lm

    if not args.data or not args.model:
        raise InvalidInput(
            f"--algo {args.algo} needs --data FILE.jsonl and --model PATH|local:smollm2"
        )
    if args.algo == "dpo" and not args.regenerated:
        raise InvalidInput("--algo dpo learns from hindsight pairs: give --regenerated FILE.jsonl")
    options = LMOptions(device=args.device, dtype=args.dtype, lora_r=args.lora_r)
    originals = _read_all(args.data)
    regenerated = _read_all([args.regenerated] if args.regenerated else [])
    model, tokenizer = load_lm(args.model, options)
    hp = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr)) if v is not None}
    if args.algo == "ilql":
        from ..agents.ilql import ILQLArgs, dialogue_records, save_ilql, train_ilql

        ilql_args = ILQLArgs(steps=args.steps or 100, seed=args.seed, **hp)
        heads, log = train_ilql(
            model, tokenizer, dialogue_records(originals + regenerated), ilql_args, progress=True
        )
        save_ilql(args.out, model, tokenizer, heads, ilql_args, log)
        print(
            f"ilql: {log['dialogues']} dialogues, {log['action_tokens']} agent tokens, loss "
            f"{log['loss'][0]:.3f} -> {log['loss'][-1]:.3f} in {log['seconds']:.0f} s; saved "
            f"{args.out} (use it as --agent ilql:path={args.out},beta=1)"
        )
        return 0
    run_dir = Path(str(args.out) + ".run")
    if args.algo == "dpo":
        from ..agents.dpo import DPOArgs, train_dpo
        from ..hindsight import preference_pairs

        # sources: the originals and earlier rounds' regenerations (round 2 rewrites round 1)
        pairs = preference_pairs(regenerated, {e.id: e for e in originals + regenerated})
        out = train_dpo(
            model,
            tokenizer,
            pairs,
            DPOArgs(max_steps=args.steps or 50, seed=args.seed, **hp),
            output_dir=run_dir,
            progress=True,
        )
        what = f"{out['pairs']} pairs"
    else:
        from ..agents.sft import SFTArgs, train_sft
        from ..export import sft_records

        top = args.top_share if args.algo == "filtered-sft" else 1.0
        out = train_sft(
            model,
            tokenizer,
            sft_records(originals + regenerated),
            SFTArgs(
                max_steps=args.steps or 100, top_share=top, seed=args.seed, unit=args.sft_unit, **hp
            ),
            output_dir=run_dir,
            progress=True,
        )
        what = f"{out['records']} records"
    save_lm(model, tokenizer, args.out, training={**out, "model": args.model})
    losses = out["losses"]
    print(
        f"{args.algo}: {what}, loss {losses[0]:.3f} -> {losses[-1]:.3f}; "
        f"saved {args.out} (use it as --agent lm:path={args.out})"
    )
    return 0


def _train_critic(args: argparse.Namespace) -> int:
    """The utterance-level IQL critic of the ``rerank`` agent."""
    from ..agents.encoders import make_encoder
    from ..agents.rerank import CriticArgs, train_critic
    from ..export import utterance_transitions

    if not args.data:
        raise InvalidInput("--algo critic learns offline: give --data FILE.jsonl")
    episodes = _read_all(args.data) + _read_all([args.regenerated] if args.regenerated else [])
    transitions = utterance_transitions(episodes)
    hp = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr)) if v is not None}
    critic_args = CriticArgs(
        steps=args.steps or 2000,
        seed=args.seed,
        threads=args.threads,
        cql_alpha=args.critic_cql,
        **hp,
    )
    critic, log = train_critic(transitions, make_encoder(args.encoder), critic_args)
    critic.save(args.out, log)
    print(
        f"critic: {log['transitions']} transitions, encoder {args.encoder}, "
        f"{log['seconds']:.0f} s; saved {args.out} "
        f"(use it as --agent rerank:critic={args.out},k=4 --llm SPEC)"
    )
    return 0


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    t = sub.add_parser(
        "train",
        help="train bc|filtered-bc|cql|iql|ppo, an LM (sft|filtered-sft|ilql|dpo), "
        "or the critic of the rerank agent",
    )
    t.add_argument(
        "--algo",
        required=True,
        choices=("bc", "filtered-bc", "cql", "iql", "ppo", *LM_ALGOS, "critic"),
    )
    t.add_argument("--model", default=None, help="LM algos: a transformers folder or local:smollm2")
    t.add_argument("--data", type=Path, action="append", help="episodes (repeatable)")
    t.add_argument(
        "--regenerated",
        type=Path,
        default=None,
        help="hindsight episodes: more data; dpo: the pairs' source",
    )
    t.add_argument("--env", choices=env_ids(), help="for ppo")
    t.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--top-share", type=float, default=0.25, help="filtered-bc/-sft top share")
    t.add_argument("--batch-size", type=int, default=None, help="LM algos and critic")
    t.add_argument("--lr", type=float, default=None, help="LM algos and critic")
    t.add_argument("--device", default="cpu", help="LM algos: cpu | cuda | cuda:N | mps | auto")
    t.add_argument(
        "--dtype",
        default=None,
        choices=("float32", "bfloat16", "float16"),
        help="LM algos: weight dtype at load (default: as stored)",
    )
    t.add_argument("--lora-r", type=int, default=0, help="LM algos: LoRA rank (0: all weights)")
    t.add_argument("--encoder", default="minilm", help="critic: minilm | hash | hash:N")
    t.add_argument(
        "--threads",
        type=threads,
        default=1,
        help="bc/cql/iql/ppo/critic: torch threads (0: torch's default)",
    )
    t.add_argument(
        "--imagined-weight",
        type=float,
        default=1.0,
        help="bc/cql/iql: loss weight of transitions with imagined rewards (0-1)",
    )
    t.add_argument(
        "--critic-cql",
        type=float,
        default=0.0,
        help="critic: weight of the conservative term (0: plain IQL critic)",
    )
    t.add_argument(
        "--sft-unit",
        default="turn",
        choices=("turn", "dialogue"),
        help="sft: an example per agent turn, or per dialogue",
    )
    t.set_defaults(func=run)
