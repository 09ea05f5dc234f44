"""The ``dialogue-gym`` command line: environments, agents, datasets, hindsight, training.

Simulate and evaluate (demo, evaluate, play, list, sim-report), make and inspect datasets
(generate, data), regenerate them in hindsight (hindsight), train agents (train) and compare every
method (benchmark), run a user study in the browser (study). ``dialogue-gym COMMAND --help`` for
each."""

from __future__ import annotations

import argparse
import sys

from .commands import (
    benchmark,
    data,
    demo,
    evaluate,
    generate,
    hindsight,
    listing,
    play,
    sim_report,
    train,
)
from .errors import BackendError, InvalidInput, MissingDependency
from .progress import quiet_library_bars

COMMANDS = (demo, evaluate, play, generate, data, hindsight, benchmark, train, sim_report)
"""The subcommand modules, in the order ``--help`` lists them (then ``study`` and ``list``)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from . import __version__
    from .domains import env_ids
    from .study.cli import add_parser as add_study_parser

    p = argparse.ArgumentParser(
        prog="dialogue-gym",
        description=__doc__.replace("``", "'"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"dialogue-gym {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    add_study_parser(sub, env_ids())
    listing.add_parser(sub)
    return p


OUTPUTS = ("out", "pairs", "png")
"""Arguments that name a file or folder a command writes (checked before it starts)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dialogue-gym`` console script: exit 2 for input that is not allowed
    (:class:`~.errors.InvalidInput`, a missing package, a file that cannot be read or written),
    1 for a backend that failed, 130 when interrupted; any other exception is a bug and keeps its
    traceback."""
    args = build_parser().parse_args(argv)
    quiet_library_bars()
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
