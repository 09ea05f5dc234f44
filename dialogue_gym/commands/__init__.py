"""One module per ``dialogue-gym`` subcommand, each with ``add_parser(sub)`` and ``run(args)``."""
