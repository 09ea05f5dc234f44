"""Hindsight regeneration: controllers, forward models, reward models (not yet implemented)."""
