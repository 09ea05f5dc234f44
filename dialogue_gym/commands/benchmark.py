"""``dialogue-gym benchmark``: every method on the same seeds, with intervals and tests."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..domains import env_ids
from ..errors import InvalidInput
from .common import add_backend_args, backend_of, threads


def _sizes(text: str) -> tuple[int, ...]:
    """``200,500`` -> (200, 500); '' -> ()."""
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"want sizes like 200,500; got {text!r}") from None


SIZING = (
    "env",
    "quick",
    "dataset_episodes",
    "eval_episodes",
    "seeds",
    "encoder",
    "sweep_sizes",
    "ablations",
)
"""Options that shape a run: with ``--reuse``, those given must match the run's."""


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (or add agents to a finished run) and print its Markdown table."""
    from ..benchmark import run_benchmark
    from ..benchmark.add import add_agents

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.action == "compare":
        from ..benchmark.compare import compare_runs

        print(compare_runs(args.a, args.b), end="")
        return 0
    if args.reuse is not None:
        if not args.add_agent:
            raise InvalidInput("--reuse DIR adds agents to a finished run: give --add-agent SPEC")
        given = any(getattr(args, k) not in (None, False) for k in SIZING)
        _, md = add_agents(args.reuse, tuple(args.add_agent), config(args) if given else None, log)
    else:
        regimes, note = regimes_of(args)
        if note:
            log(note)
        kwargs = dict(backend=backend_of(args), workers=args.processes, progress=not args.quiet)
        if len(regimes) == 1:
            _, md = run_benchmark(config(args), args.out, log=log, **kwargs)
        else:
            from ..benchmark.over_regimes import run_regimes

            _, md = run_regimes(config(args), regimes, args.out, log=log, **kwargs)
    print(md)
    return 0


def regimes_of(args: argparse.Namespace) -> tuple[tuple[str, ...], str | None]:
    """The behaviour regimes the options ask for (``--regime``, ``--regimes`` or the default
    of :func:`~dialogue_gym.benchmark.over_regimes.default_regimes`) and a note on any the
    default left out."""
    from ..benchmark.over_regimes import default_regimes, parse_regimes
    from ..data_paths import missing_files, resolve_data_dir

    if args.regime and args.regimes:
        raise InvalidInput("give --regime (one) or --regimes (several), not both")
    if args.regimes:
        return parse_regimes(args.regimes), None
    if args.regime:
        return (args.regime,), None
    return default_regimes(args.quick, not missing_files(resolve_data_dir(args.data)[0]))


def config(args: argparse.Namespace) -> Any:
    """The :class:`~dialogue_gym.benchmark.BenchmarkConfig` the options ask for."""
    from ..benchmark import BenchmarkConfig

    envs = tuple(args.env) if args.env else env_ids()
    cfg = BenchmarkConfig.quick(envs) if args.quick else BenchmarkConfig(envs=envs)
    if args.dataset_episodes is not None:
        cfg.dataset_episodes = args.dataset_episodes
    if args.eval_episodes is not None:
        cfg.eval_episodes = args.eval_episodes
    if args.seeds is not None:
        cfg.train_seeds = args.seeds
    if args.offline_steps is not None:
        cfg.offline_steps = args.offline_steps
    if args.ppo_steps is not None:
        cfg.ppo_steps = args.ppo_steps
    cfg.resample_data = not args.shared_data
    cfg.imagined_weight = args.imagined_weight
    cfg.threads = args.threads
    cfg.added_agents = tuple(args.add_agent or ())
    if args.encoder:
        cfg.encoder = args.encoder
    cfg.llm, cfg.llm_episodes = args.llm, args.llm_episodes
    if args.ablations is not None:
        cfg.ablations = args.ablations
    regimes, _ = regimes_of(args)
    cfg.regime = regimes[0]
    if "real" in regimes:
        from ..data_paths import require_data_dir

        cfg.data_dir = str(require_data_dir(args.data))
    if args.sweep_sizes is not None:
        cfg.sweep_sizes = args.sweep_sizes
    else:  # the default sizes that fit the dataset
        cfg.sweep_sizes = tuple(n for n in cfg.sweep_sizes if n < cfg.dataset_episodes)
    cfg.__post_init__()
    return cfg


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    b = sub.add_parser("benchmark", help="BC, filtered BC, offline RL +/- hindsight, PPO")
    b.add_argument("--env", action="append", choices=env_ids(), help="repeatable; default both")
    b.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, headline rows only (about 3 min on 2 cores)",
    )
    b.add_argument("--dataset-episodes", type=int, default=None)
    b.add_argument("--eval-episodes", type=int, default=None)
    b.add_argument("--seeds", type=int, default=None, help="training seeds")
    b.add_argument(
        "--offline-steps",
        type=int,
        default=None,
        help="gradient steps of BC, CQL and IQL (default 1000; quick: 300)",
    )
    b.add_argument(
        "--ppo-steps",
        type=int,
        default=None,
        help="PPO environment steps per training seed (default 10000; quick: 1024)",
    )
    b.add_argument(
        "--shared-data",
        action="store_true",
        help="one behaviour dataset for every training seed (intervals then cover the "
        "initialization only; default: a fresh dataset per seed)",
    )
    b.add_argument(
        "--imagined-weight",
        type=float,
        default=1.0,
        help="loss weight of transitions with imagined rewards (0-1)",
    )
    b.add_argument(
        "--threads",
        type=threads,
        default=1,
        help="torch threads of the learners (0: torch's default)",
    )
    _add_method_args(b)
    _add_output_args(b)
    add_backend_args(b)
    b.set_defaults(func=run, action="run")
    actions = b.add_subparsers(dest="action", metavar="compare A B", required=False)
    c = actions.add_parser(
        "compare", help="two finished runs side by side, with paired tests where seeds match"
    )
    c.add_argument("a", type=Path, metavar="A", help="a run's output folder")
    c.add_argument("b", type=Path, metavar="B", help="another run's output folder")


def _add_method_args(b: argparse.ArgumentParser) -> None:
    """The options of the rows: added agents, the hindsight encoder, the sweep, the behaviour
    regime, the LLM pair."""
    from ..benchmark.regimes import REGIMES

    b.add_argument(
        "--add-agent",
        action="append",
        metavar="SPEC",
        help="your agent in the table (repeatable): a registered name, "
        "pkg.module:MyAgent or file.py:MyAgent, then :key=value options",
    )
    b.add_argument(
        "--encoder",
        default=None,
        help="sentence encoder of the learned hindsight models: minilm (default) | hash:N",
    )
    b.add_argument(
        "--sweep-sizes",
        type=_sizes,
        default=None,
        metavar="N,N",
        help="smaller datasets for the data-size sweep (default 200,500; quick: none; '' for none)",
    )
    b.add_argument(
        "--ablations",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the ablation rows (two rounds, the penalized, the anchored and the both-ensembles "
        "relabelling, privileged dynamics, true env) and their gap rows (default: on; off with "
        "--quick; --regime real makes the ones that need no simulator)",
    )
    b.add_argument(
        "--regime",
        choices=REGIMES,
        default=None,
        help="one behaviour-data regime, its report in --out itself: human-like (the noisy "
        "scripted flow), narrow (corpus-mix: the real corpora's strategy shares per turn) or "
        "real (the train corpus itself; needs the corpora)",
    )
    b.add_argument(
        "--regimes",
        default=None,
        metavar="LIST",
        help="several regimes, comma-separated, or all: one run each in OUT/REGIME/ and a page "
        "over them in OUT/benchmark.md (default: human-like, narrow and, where the corpora "
        "are found, real; --quick: human-like only)",
    )
    b.add_argument(
        "--data", type=Path, default=None, help="the corpora for --regime real (../shared/data)"
    )
    b.add_argument(
        "--llm",
        default=None,
        metavar="SPEC",
        help="a chat backend whose forward and reward models join the imagination "
        "gap table (gap only): local:smollm2, http://HOST:PORT/v1#MODEL",
    )
    b.add_argument(
        "--llm-episodes",
        type=int,
        default=30,
        metavar="N",
        help="unsuccessful episodes per run the --llm pair rewrites",
    )


def _add_output_args(b: argparse.ArgumentParser) -> None:
    """Where the run goes, how many processes share it, and ``--reuse``."""
    b.add_argument("--out", type=Path, default=Path("runs/benchmark"))
    b.add_argument(
        "--processes",
        type=int,
        default=min(4, os.cpu_count() or 1),
        metavar="N",
        help="processes on this machine that share the independent tasks (baselines, training "
        "seeds' data, each seed's methods); the tables are the same for any N (default: the "
        "cores, at most 4)",
    )
    b.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (the one-line summary of each stage still prints)",
    )
    b.add_argument(
        "--reuse",
        type=Path,
        default=None,
        metavar="DIR",
        help="add the --add-agent agents to the finished run in DIR: only they are evaluated "
        "(on the run's seeds), and DIR's tables are written again with their rows",
    )
