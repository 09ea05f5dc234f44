"""The simulator report (``dialogue-gym sim-report``): checks of the simulated users against
the corpora, held-out probes and sensible agents."""
