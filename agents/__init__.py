"""Agents: the common interface, random, scripted and oracle agents."""
