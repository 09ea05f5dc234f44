"""The ``dialogue-gym`` command line: environments, agents, datasets, hindsight, training.

Simulate and evaluate (demo, evaluate, play, list, sim-report), make and inspect datasets
(generate, data), regenerate them in hindsight (hindsight), train agents (train) and compare every
method (benchmark), run a user study in the browser (study). ``dialogue-gym COMMAND --help`` for
each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .domains import env_ids
from .errors import BackendError, InvalidData, InvalidInput, MissingDependency


def cmd_demo(args: argparse.Namespace) -> int:
    """One transcript, then random vs scripted vs oracle on both envs."""
    import gymnasium as gym

    from .agents.registry import make_agent
    from .evaluation import evaluate, format_table
    from .rollout import play_episode

    env = gym.make("Persuasion-v0", render_mode="ansi")
    result = play_episode(env, make_agent("scripted", "persuasion"), seed=args.seed)
    print("One Persuasion-v0 episode, scripted agent:\n")
    print(env.render())
    print(f"\n-> donation ${result.reward:.2f} ({result.end_reason})\n")
    results = [
        evaluate(name, env_id, args.episodes, args.seed)
        for env_id in env_ids()
        for name in ("random", "scripted", "oracle")
    ]
    print(format_table(results))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate one agent on one env; print the table, optionally save JSON."""
    from .agents.registry import is_privileged
    from .domains import env_domain
    from .evaluation import evaluate, format_table

    env_kwargs: dict = {"max_turns": args.max_turns}
    if args.simulator != "embedded":
        if is_privileged(args.agent):
            raise InvalidInput(f"agent {args.agent!r} reads the hidden persona: embedded only")
        if args.llm is None:
            raise InvalidInput("--simulator llm needs --llm SPEC (e.g. local:smollm2)")
        env_kwargs.update(simulator=args.simulator, llm=args.llm, llm_cache=not args.no_cache)
    judge = None
    if args.judge:
        from .llm.judge import LLMJudge

        judge = LLMJudge(env_domain(args.env), args.judge, cache=not args.no_cache)
    result = evaluate(
        _with_llm(args.agent, args.llm, args.no_cache),
        args.env,
        args.episodes,
        args.seed,
        out=args.out,
        oracle=not args.no_oracle,
        keep_transcripts=args.transcripts,
        concurrency=args.concurrency,
        judge=judge,
        backend=_backend(args),
        **env_kwargs,
    )
    print(format_table([result]))
    if args.out:
        print(f"saved {args.out}")
    return 0


def _with_llm(spec: str, llm: str | None, no_cache: bool) -> str:
    """Add ``--llm`` (and ``--no-cache``) to an LLM agent's spec unless it names its own."""
    from .agents.registry import needs_llm, parse_spec

    if not needs_llm(spec):
        return spec
    _, options = parse_spec(spec)
    extra = []
    if "llm" not in options:
        if llm is None:
            raise InvalidInput(f"agent {spec!r} needs --llm SPEC (or llm=SPEC in the agent spec)")
        extra.append(f"llm={llm}")
    if no_cache and "cache" not in options:
        extra.append("cache=false")
    if not extra:
        return spec
    return spec + ("," if ":" in spec else ":") + ",".join(extra)


def cmd_play(args: argparse.Namespace) -> int:
    """A person talks with an agent (--as user) or with the simulator (--as agent)."""
    from .play import play_as_agent, play_as_user

    if args.as_ == "agent":
        return play_as_agent(args.env, args.seed, args.out, args.max_turns)
    agent = _with_llm(args.agent, args.llm, args.no_cache)
    return play_as_user(args.env, agent, args.seed, args.out, args.max_turns)


def _env_kwargs(args: argparse.Namespace) -> dict:
    kw: dict = {"max_turns": args.max_turns}
    if args.simulator != "embedded":
        if args.llm is None:
            raise InvalidInput("--simulator llm needs --llm SPEC (e.g. local:smollm2)")
        kw.update(simulator=args.simulator, llm=args.llm, llm_cache=not args.no_cache)
    return kw


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate (or finish) a simulated dataset."""
    from .agents.registry import is_privileged
    from .generate import generate

    if args.simulator != "embedded" and is_privileged(args.agent):
        raise InvalidInput(f"agent {args.agent!r} reads the hidden persona: embedded only")
    summary = generate(
        args.env, _with_llm(args.agent, args.llm, args.no_cache), args.episodes, args.out,
        seed=args.seed, concurrency=args.concurrency, backend=_backend(args), **_env_kwargs(args),
    )  # fmt: skip
    print(summary)
    return 130 if summary.interrupted else 0


def cmd_data(args: argparse.Namespace) -> int:
    """``data stats`` / ``data export`` / ``data convert``."""
    if args.data_command == "stats":
        from .data_stats import dataset_stats, format_stats, outcome_histogram

        print(format_stats(dataset_stats(args.file)))
        png = args.png or Path(str(args.file) + ".outcomes.png")
        try:
            outcome_histogram(args.file, png)
            print(f"  histogram: {png}")
        except ImportError:
            print("  (install matplotlib, e.g. the [data] extra, for the histogram)")
        return 0
    if args.data_command == "export":
        return _export(args)
    return _convert(args)


def _export(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from . import export
    from .files import atomic_write_text
    from .jsonl import read_dataset

    episodes = read_dataset(args.file)
    out = Path(args.out)
    if args.to == "parquet":
        export.to_parquet(episodes, out)
        n = len(episodes)
    elif args.to == "transitions-strategy":
        arrays = export.strategy_transitions(episodes)
        n = len(arrays["actions"])
        _require_records(n, args)
        tmp = out.with_name(out.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        tmp.replace(out)
    else:
        make = export.sft_records if args.to == "sft" else export.utterance_transitions
        rows = make(episodes)
        n = len(rows)
        _require_records(n, args)
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"wrote {n} records to {out}")
    return 0


def _require_records(n: int, args: argparse.Namespace) -> None:
    if n == 0:
        raise InvalidInput(
            f"{args.file} gives no {args.to} records (its episodes have no usable agent turns "
            "or all failed); nothing written"
        )


def _convert(args: argparse.Namespace) -> int:
    from . import loaders
    from .jsonl import write_episodes

    load = {
        "p4g-json": loaders.load_p4g_json,
        "p4g-corpus": loaders.load_p4g_corpus,
        "esconv-jsonl": loaders.load_esconv_jsonl,
        "esconv-json": loaders.load_esconv_json,
    }[args.format]
    try:
        episodes = load(args.source)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise InvalidData(f"{args.source} is not in the {args.format} form ({e!r})") from None
    if not episodes:
        raise InvalidInput(f"{args.source} holds no dialogue in the {args.format} form")
    n = write_episodes(args.out, episodes)
    print(f"wrote {n} episodes to {args.out}")
    return 0


def cmd_hindsight(args: argparse.Namespace) -> int:
    """Regenerate a dataset with the hindsight pipeline."""
    from .hindsight.cli import run

    summary = run(
        args.inp, args.out, args.controller, args.forward, args.reward, args.select,
        args.per_episode, args.rounds, args.pairs, fit_on=args.fit_on, encoder=args.encoder,
        backend=_backend(args),
    )  # fmt: skip
    print(
        f"{summary['written_now']} regenerated now, {summary['regenerated_in_file']} in "
        f"{args.out}, from {summary['selected']} selected of {summary['sources']} episodes; "
        f"{len(summary['errors'])} errors"
        + (f"; {summary['pairs']} preference pairs -> {args.pairs}" if args.pairs else "")
    )
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    """``200,500`` -> (200, 500); '' -> ()."""
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"want sizes like 200,500; got {text!r}") from None


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Run the benchmark and print its Markdown table."""
    from .benchmark import BenchmarkConfig, run_benchmark

    envs = tuple(args.env) if args.env else env_ids()
    cfg = BenchmarkConfig.quick(envs) if args.quick else BenchmarkConfig(envs=envs)
    if args.dataset_episodes:
        cfg.dataset_episodes = args.dataset_episodes
    if args.eval_episodes:
        cfg.eval_episodes = args.eval_episodes
    if args.seeds:
        cfg.train_seeds = args.seeds
    cfg.resample_data = not args.shared_data
    cfg.imagined_weight = args.imagined_weight
    cfg.threads = args.threads
    cfg.added_agents = tuple(args.add_agent or ())
    if args.encoder:
        cfg.encoder = args.encoder
    cfg.llm, cfg.llm_episodes = args.llm, args.llm_episodes
    if args.sweep_sizes is not None:
        cfg.sweep_sizes = args.sweep_sizes
    else:  # the default sizes that fit the dataset
        cfg.sweep_sizes = tuple(n for n in cfg.sweep_sizes if n < cfg.dataset_episodes)
    cfg.__post_init__()
    _, md = run_benchmark(cfg, args.out, log=lambda m: print(m, file=sys.stderr, flush=True),
                          backend=_backend(args))  # fmt: skip
    print(md)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a strategy-level agent from a dataset (or PPO online) and save a checkpoint."""
    if args.algo in LM_ALGOS:
        return _train_lm(args)
    if args.algo == "critic":
        return _train_critic(args)
    if args.algo == "ppo":
        from .agents.ppo import PPOArgs, save_ppo, train_ppo

        if not args.env:
            raise InvalidInput("--algo ppo trains online: give --env")
        ppo_args = PPOArgs(steps=args.steps or 20_000, seed=args.seed, threads=args.threads)
        agent, episodes = train_ppo(args.env, ppo_args)
        save_ppo(args.out, agent)
        print(f"ppo: {episodes} environment episodes; saved {args.out}")
        return 0
    from .agents.bc import BCArgs, train_bc
    from .agents.cql import CQLArgs, train_cql
    from .agents.iql import IQLArgs, train_iql
    from .agents.learned import save_checkpoint
    from .agents.offline_data import OfflineData, concat
    from .domains import env_domain

    if not args.data:
        raise InvalidInput(f"--algo {args.algo} learns offline: give --data FILE.jsonl")
    episodes = _read_all(args.data)
    domain = env_domain(episodes[0].env_id)
    data = OfflineData.from_episodes(episodes)
    if args.regenerated:
        data = concat(data, OfflineData.from_episodes(_read_all([args.regenerated])))
    kw = {"seed": args.seed, "threads": args.threads, "imagined_weight": args.imagined_weight,
          **({"steps": args.steps} if args.steps else {})}  # fmt: skip
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
    print(f"{args.algo}: {len(data)} transitions; saved {args.out} "
          f"(use it as --agent policy:path={args.out})")  # fmt: skip
    return 0


LM_ALGOS = ("sft", "filtered-sft", "ilql", "dpo")


def _read_all(paths: list[Path] | None) -> list:
    from .jsonl import read_dataset

    return [e for p in paths or [] for e in read_dataset(p)]


def _train_lm(args: argparse.Namespace) -> int:
    """SFT / filtered SFT / ILQL / DPO of a transformers chat LM on a dataset."""
    from .agents.lm_loading import LMOptions, load_lm, save_lm

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
        from .agents.ilql import ILQLArgs, dialogue_records, save_ilql, train_ilql

        ilql_args = ILQLArgs(steps=args.steps or 100, seed=args.seed, **hp)
        heads, log = train_ilql(model, tokenizer, dialogue_records(originals + regenerated),
                                ilql_args, progress=True)  # fmt: skip
        save_ilql(args.out, model, tokenizer, heads, ilql_args, log)
        print(f"ilql: {log['dialogues']} dialogues, {log['action_tokens']} agent tokens, loss "
              f"{log['loss'][0]:.3f} -> {log['loss'][-1]:.3f} in {log['seconds']:.0f} s; saved "
              f"{args.out} (use it as --agent ilql:path={args.out},beta=1)")  # fmt: skip
        return 0
    run_dir = Path(str(args.out) + ".run")
    if args.algo == "dpo":
        from .agents.dpo import DPOArgs, train_dpo
        from .hindsight import preference_pairs

        # sources: the originals and earlier rounds' regenerations (round 2 rewrites round 1)
        pairs = preference_pairs(regenerated, {e.id: e for e in originals + regenerated})
        out = train_dpo(model, tokenizer, pairs,
                        DPOArgs(max_steps=args.steps or 50, seed=args.seed, **hp),
                        output_dir=run_dir, progress=True)  # fmt: skip
        what = f"{out['pairs']} pairs"
    else:
        from .agents.sft import SFTArgs, train_sft
        from .export import sft_records

        top = args.top_share if args.algo == "filtered-sft" else 1.0
        out = train_sft(model, tokenizer, sft_records(originals + regenerated),
                        SFTArgs(max_steps=args.steps or 100, top_share=top, seed=args.seed,
                                unit=args.sft_unit, **hp),
                        output_dir=run_dir, progress=True)  # fmt: skip
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
    from .agents.encoders import make_encoder
    from .agents.rerank import CriticArgs, train_critic
    from .export import utterance_transitions

    if not args.data:
        raise InvalidInput("--algo critic learns offline: give --data FILE.jsonl")
    episodes = _read_all(args.data) + _read_all([args.regenerated] if args.regenerated else [])
    transitions = utterance_transitions(episodes)
    hp = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr)) if v is not None}
    critic_args = CriticArgs(steps=args.steps or 2000, seed=args.seed, threads=args.threads,
                             cql_alpha=args.critic_cql, **hp)  # fmt: skip
    critic, log = train_critic(transitions, make_encoder(args.encoder), critic_args)
    critic.save(args.out, log)
    print(f"critic: {log['transitions']} transitions, encoder {args.encoder}, "
          f"{log['seconds']:.0f} s; saved {args.out} "
          f"(use it as --agent rerank:critic={args.out},k=4 --llm SPEC)")  # fmt: skip
    return 0


def cmd_sim_report(args: argparse.Namespace) -> int:
    """Run the simulator report."""
    from .data_paths import ENV_VAR, missing_files, require_data_dir, resolve_data_dir
    from .simulators.report import main

    if args.data_limit is not None and args.data_limit < 1:
        raise InvalidInput(f"--data-limit must be >= 1, got {args.data_limit}")
    data, source = resolve_data_dir(args.data)
    if source == "the default" and missing_files(data):
        print(f"(no corpora at {data}: the real-data checks are skipped; point at them with "
              f"--data DIR or {ENV_VAR}=DIR)", file=sys.stderr)  # fmt: skip
        data = None
    else:
        data = require_data_dir(args.data)  # given on purpose: missing files are an error
    budget = {k: v for k, v in (("iterations", args.search_iterations),
                                ("samples", args.search_samples)) if v is not None}  # fmt: skip
    for k, v in budget.items():
        if v < 1:
            raise InvalidInput(f"--search-{k} must be >= 1, got {v}")
    if "samples" in budget:
        budget["elite"] = max(1, min(20, budget["samples"] // 10))
    return main(args.episodes, args.seed, data, args.out, args.data_limit, budget or None)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered environments, agents and simulators."""
    from .agents.registry import agent_entries
    from .simulators import SIMULATORS

    print("environments:")
    for env_id in env_ids():
        print(f"  {env_id}")
    print("agents:")
    for e in agent_entries():
        print(f"  {e.name:12s} {e.description}{' [embedded only]' if e.privileged else ''}")
    print("simulators:")
    for s in SIMULATORS:
        print(f"  {s}")
    return 0


def _add_backend_args(p: argparse.ArgumentParser) -> None:
    """``--backend``, ``--ray-address`` and ``--workers`` (dialogue_gym.executor)."""
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where the work runs: this machine, or Ray workers")  # fmt: skip
    p.add_argument("--ray-address", default=None,
                   help="Ray cluster to join (HOST:PORT, auto, ray://HOST:PORT); default: "
                   "start Ray on this machine")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --backend ray)")


def _backend(args: argparse.Namespace) -> Any:
    from .executor import Backend

    return Backend(args.backend, args.ray_address, args.workers)


def _threads(text: str) -> int | None:
    """``--threads N``: a positive count, or 0 for torch's own default (None)."""
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"threads must be >= 0, got {n}")
    return n or None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from . import __version__

    p = argparse.ArgumentParser(
        prog="dialogue-gym",
        description=__doc__.replace("``", "'"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"dialogue-gym {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="a transcript and a random/scripted/oracle comparison")
    d.add_argument("--episodes", type=int, default=300, help="episodes per env and agent")
    d.add_argument("--seed", type=int, default=0, help="first episode seed")
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("evaluate", help="evaluate an agent on an environment")
    e.add_argument("--env", required=True, choices=env_ids())
    e.add_argument("--agent", required=True, help="registered agent, e.g. scripted:noise=0.2")
    e.add_argument("--episodes", type=int, default=100)
    e.add_argument("--seed", type=int, default=0, help="first episode seed")
    e.add_argument("--max-turns", type=int, default=10)
    e.add_argument("--simulator", default="embedded", choices=("embedded", "llm"))
    e.add_argument(
        "--llm",
        default=None,
        help="chat backend for an LLM user or agent: "
        "local:smollm2 | openai:MODEL | http://HOST:PORT/v1#MODEL | hf:PATH",
    )
    e.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    e.add_argument("--concurrency", type=int, default=1, help="episodes played at once")
    e.add_argument("--judge", default=None, help="backend spec of an LLM judge (optional)")
    e.add_argument("--out", type=Path, default=None, help="save the result as JSON")
    e.add_argument("--no-oracle", action="store_true", help="skip the fraction-of-oracle run")
    e.add_argument("--transcripts", action="store_true", help="keep transcripts in the JSON")
    _add_backend_args(e)
    e.set_defaults(func=cmd_evaluate)

    pl = sub.add_parser("play", help="talk with an agent or with the simulated user")
    pl.add_argument("--env", required=True, choices=env_ids())
    pl.add_argument(
        "--as", dest="as_", required=True, choices=("user", "agent"),
        help="user: you are the persuadee/help-seeker; agent: you talk to the simulator",
    )  # fmt: skip
    pl.add_argument("--agent", default="scripted", help="the agent you talk to (--as user)")
    pl.add_argument("--llm", default=None, help="chat backend of an LLM agent")
    pl.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--max-turns", type=int, default=10)
    pl.add_argument("--out", type=Path, default=Path("transcript.json"))
    pl.set_defaults(func=cmd_play)

    g = sub.add_parser("generate", help="generate a simulated dataset (resumable JSONL)")
    g.add_argument("--env", required=True, choices=env_ids())
    g.add_argument("--agent", required=True, help="registered agent spec, e.g. human-like")
    g.add_argument("--episodes", type=int, required=True)
    g.add_argument("--out", type=Path, required=True, help="the JSONL file (appended to)")
    g.add_argument("--seed", type=int, default=0, help="seed of episode 0 (episode i: seed+i)")
    g.add_argument("--concurrency", type=int, default=1,
                   help="worker processes (embedded) or threads (LLM simulator)")  # fmt: skip
    g.add_argument("--max-turns", type=int, default=10)
    g.add_argument("--simulator", default="embedded", choices=("embedded", "llm"))
    g.add_argument("--llm", default=None, help="chat backend for an LLM user or agent")
    g.add_argument("--no-cache", action="store_true", help="do not use the completion cache")
    _add_backend_args(g)
    g.set_defaults(func=cmd_generate)

    data = sub.add_parser("data", help="dataset tools: stats, export, convert")
    dsub = data.add_subparsers(dest="data_command", required=True)
    st = dsub.add_parser("stats", help="counts, outcomes, turns, strategies, PNG histogram")
    st.add_argument("file", type=Path)
    st.add_argument(
        "--png", type=Path, default=None, help="histogram path (default FILE.outcomes.png)"
    )
    ex = dsub.add_parser("export", help="to Parquet, SFT records or offline-RL transitions")
    ex.add_argument("file", type=Path)
    ex.add_argument(
        "--to",
        required=True,
        choices=("parquet", "sft", "transitions-strategy", "transitions-utterance"),
    )
    ex.add_argument("--out", type=Path, required=True)
    cv = dsub.add_parser("convert", help="a real corpus to the Episode JSONL format")
    cv.add_argument("source", type=Path, help="corpus file (or the p4g/corpus folder)")
    cv.add_argument(
        "--format", required=True, choices=("p4g-json", "p4g-corpus", "esconv-jsonl", "esconv-json")
    )
    cv.add_argument("--out", type=Path, required=True)
    data.set_defaults(func=cmd_data)

    from .hindsight.cli import CONTROLLERS, FORWARDS, REWARDS

    h = sub.add_parser("hindsight", help="regenerate a dataset (hindsight relabeling)")
    h.add_argument("--in", dest="inp", type=Path, required=True, help="episodes (JSONL)")
    h.add_argument("--out", type=Path, required=True, help="regenerated episodes (appended)")
    h.add_argument("--controller", default="critic", help=CONTROLLERS)
    h.add_argument("--forward", default="retrieval", help=FORWARDS)
    h.add_argument("--reward", default="learned", help=REWARDS)
    h.add_argument("--fit-on", type=Path, default=None,
                   help="episodes to fit the learned components on (default: --in)")  # fmt: skip
    h.add_argument("--encoder", default="minilm",
                   help="sentence encoder of the learned components: minilm | hash:N")  # fmt: skip
    h.add_argument(
        "--select",
        default="unsuccessful",
        choices=("unsuccessful", "all"),
        help="unsuccessful: the episodes with the lowest outcome (no donation; no relief)",
    )
    h.add_argument("--per-episode", type=int, default=1)
    h.add_argument("--rounds", type=int, default=1)
    h.add_argument("--pairs", type=Path, default=None, help="also write DPO preference pairs")
    _add_backend_args(h)
    h.set_defaults(func=cmd_hindsight)

    b = sub.add_parser("benchmark", help="BC, filtered BC, offline RL +/- hindsight, PPO")
    b.add_argument("--env", action="append", choices=env_ids(), help="repeatable; default both")
    b.add_argument("--quick", action="store_true", help="small sizes (about 8 minutes on 2 cores)")
    b.add_argument("--dataset-episodes", type=int, default=None)
    b.add_argument("--eval-episodes", type=int, default=None)
    b.add_argument("--seeds", type=int, default=None, help="training seeds")
    b.add_argument("--shared-data", action="store_true",
                   help="one behaviour dataset for every training seed (intervals then cover the "
                   "initialization only; default: a fresh dataset per seed)")  # fmt: skip
    b.add_argument("--imagined-weight", type=float, default=1.0,
                   help="loss weight of transitions with imagined rewards (0-1)")  # fmt: skip
    b.add_argument("--threads", type=_threads, default=1,
                   help="torch threads of the learners (0: torch's default)")  # fmt: skip
    b.add_argument("--add-agent", action="append", metavar="SPEC",
                   help="your agent in the table (repeatable): a registered name, "
                   "pkg.module:MyAgent or file.py:MyAgent, then :key=value options")  # fmt: skip
    b.add_argument("--encoder", default=None,
                   help="sentence encoder of the learned hindsight models: minilm (default) | "
                   "hash:N")  # fmt: skip
    b.add_argument("--sweep-sizes", type=_sizes, default=None, metavar="N,N",
                   help="smaller datasets for the data-size sweep (default 200,500; quick: "
                   "100; '' for none)")  # fmt: skip
    b.add_argument("--llm", default=None, metavar="SPEC",
                   help="a chat backend whose forward and reward models join the imagination "
                   "gap table (gap only): local:smollm2, http://HOST:PORT/v1#MODEL")  # fmt: skip
    b.add_argument("--llm-episodes", type=int, default=30, metavar="N",
                   help="unsuccessful episodes per run the --llm pair rewrites")  # fmt: skip
    b.add_argument("--out", type=Path, default=Path("runs/benchmark"))
    _add_backend_args(b)
    b.set_defaults(func=cmd_benchmark)

    t = sub.add_parser(
        "train", help="train bc|filtered-bc|cql|iql|ppo, an LM (sft|filtered-sft|ilql|dpo), "
        "or the critic of the rerank agent",
    )  # fmt: skip
    t.add_argument(
        "--algo", required=True,
        choices=("bc", "filtered-bc", "cql", "iql", "ppo", *LM_ALGOS, "critic"),
    )  # fmt: skip
    t.add_argument("--model", default=None, help="LM algos: a transformers folder or local:smollm2")
    t.add_argument("--data", type=Path, action="append", help="episodes (repeatable)")
    t.add_argument("--regenerated", type=Path, default=None,
                   help="hindsight episodes: more data; dpo: the pairs' source")  # fmt: skip
    t.add_argument("--env", choices=env_ids(), help="for ppo")
    t.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--top-share", type=float, default=0.25, help="filtered-bc/-sft top share")
    t.add_argument("--batch-size", type=int, default=None, help="LM algos and critic")
    t.add_argument("--lr", type=float, default=None, help="LM algos and critic")
    t.add_argument("--device", default="cpu", help="LM algos: cpu | cuda | cuda:N | mps | auto")
    t.add_argument("--dtype", default=None, choices=("float32", "bfloat16", "float16"),
                   help="LM algos: weight dtype at load (default: as stored)")  # fmt: skip
    t.add_argument("--lora-r", type=int, default=0, help="LM algos: LoRA rank (0: all weights)")
    t.add_argument("--encoder", default="minilm", help="critic: minilm | hash | hash:N")
    t.add_argument("--threads", type=_threads, default=1,
                   help="bc/cql/iql/ppo/critic: torch threads (0: torch's default)")  # fmt: skip
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
    t.add_argument("--sft-unit", default="turn", choices=("turn", "dialogue"),
                   help="sft: an example per agent turn, or per dialogue")  # fmt: skip
    t.set_defaults(func=cmd_train)

    r = sub.add_parser(
        "sim-report",
        help="calibration, adaptivity, revelation, manipulation, replay, perception, harm, "
        "ordinary language",
    )
    r.add_argument("--episodes", type=int, default=500, help="episodes per env and agent")
    r.add_argument("--seed", type=int, default=100_000, help="first episode seed")
    r.add_argument(
        "--data", type=Path, default=None, help="corpora ($DIALOGUE_GYM_DATA or ../shared/data)"
    )
    r.add_argument("--out", type=Path, default=None, help="also write the report as JSON")
    r.add_argument("--search-iterations", type=int, default=None,
                   help="open-loop search iterations (default 12)")  # fmt: skip
    r.add_argument("--search-samples", type=int, default=None,
                   help="scripts per search iteration (default 200; elite a tenth)")  # fmt: skip
    r.add_argument(
        "--data-limit",
        type=int,
        default=None,
        help="use only the first N real dialogues and texts in the real-data checks (a quick run)",
    )
    r.set_defaults(func=cmd_sim_report)

    from .study.cli import add_parser as add_study_parser

    add_study_parser(sub, env_ids())

    ls = sub.add_parser("list", help="environments, agents and simulators")
    ls.set_defaults(func=cmd_list)
    return p


OUTPUTS = ("out", "pairs", "png")
"""Arguments that name a file or folder a command writes (checked before it starts)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dialogue-gym`` console script: exit 2 for input that is not allowed
    (:class:`~.errors.InvalidInput`, a missing package, a file that cannot be read or written),
    1 for a backend that failed, 130 when interrupted; any other exception is a bug and keeps its
    traceback."""
    args = build_parser().parse_args(argv)
    try:
        from .files import check_writable

        for name in OUTPUTS:
            if getattr(args, name, None) is not None:
                check_writable(getattr(args, name))
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("dialogue-gym: interrupted", file=sys.stderr)
        return 130
    except (InvalidInput, MissingDependency) as e:
        print(f"dialogue-gym: error: {e}", file=sys.stderr)
        return 2
    except BackendError as e:  # not a result: nothing was recorded for the work in flight
        print(f"dialogue-gym: backend error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a missing file, a folder where a file was expected, no permission
        where = f"{e.filename}: " if e.filename else ""
        print(f"dialogue-gym: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
