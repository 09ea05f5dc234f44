"""What several subcommands share: LLM specs, env options, the execution backend, thread counts."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidInput


def with_llm(spec: str, llm: str | None, no_cache: bool) -> str:
    """Add ``--llm`` (and ``--no-cache``) to an LLM agent's spec unless it names its own."""
    from ..agents.registry import needs_llm, parse_spec

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


def env_kwargs_of(args: argparse.Namespace) -> dict:
    kw: dict = {"max_turns": args.max_turns}
    if args.simulator != "embedded":
        if args.llm is None:
            raise InvalidInput("--simulator llm needs --llm SPEC (e.g. local:smollm2)")
        kw.update(simulator=args.simulator, llm=args.llm, llm_cache=not args.no_cache)
    return kw


def add_backend_args(p: argparse.ArgumentParser) -> None:
    """``--backend``, ``--ray-address`` and ``--workers`` (dialogue_gym.executor)."""
    p.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="where the work runs: this machine, or Ray workers",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join (HOST:PORT, auto, ray://HOST:PORT); default: "
        "start Ray on this machine",
    )
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --backend ray)")


def backend_of(args: argparse.Namespace) -> Any:
    from ..executor import Backend

    return Backend(args.backend, args.ray_address, args.workers)


def threads(text: str) -> int | None:
    """``--threads N``: a positive count, or 0 for torch's own default (None)."""
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"threads must be >= 0, got {n}")
    return n or None
