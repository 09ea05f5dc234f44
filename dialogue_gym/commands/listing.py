"""``dialogue-gym list``: the registered environments, agents and simulators."""

from __future__ import annotations

import argparse
from typing import Any

from ..domains import env_ids


def run(args: argparse.Namespace) -> int:
    """Print the registered environments, agents and simulators."""
    from ..agents.registry import agent_entries
    from ..simulators import SIMULATORS

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


def add_parser(sub: Any) -> None:
    """Add the subcommand to ``sub`` (the CLI's subparsers)."""
    ls = sub.add_parser("list", help="environments, agents and simulators")
    ls.set_defaults(func=run)
