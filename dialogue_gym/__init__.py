"""dialogue-gym."""
