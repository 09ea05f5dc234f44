"""``dialogue-gym benchmark``: does offline RL on hindsight-regenerated data beat imitation?

Per environment and training seed ``s``:

1. generate a behaviour dataset with the human-like (noisy scripted) policy — a fresh one per
   training seed (seeds ``s * dataset_episodes ...``), so the intervals cover the variance of the
   data as well as of the network's initialization (``resample_data=False``: one dataset for
   every seed, whose intervals then cover the initialization only);
2. regenerate its unsuccessful episodes with hindsight pipelines that share one controller (the
   offline critic fitted on the data) and differ in the forward and reward models:
   ``learned`` (retrieval forward model and learned reward model: recorded data only — the
   headline), ``privileged`` (the simulator's own dynamics, persona inferred: a labelled
   ablation) and ``true-env`` (the evaluation env itself, "oracle forward model", which costs real
   environment episodes: every one it plays is counted); a second round of the learned pipeline
   regenerates its regenerations that are still unsuccessful. With ``llm`` (a chat backend), an
   LLM forward and reward pair rewrites a few unsuccessful episodes too (gap only). Every
   imagined regeneration is replayed in the true env, for the report only (the imagination gap
   of each pipeline);
3. train BC, filtered BC, CQL and IQL on the original data, CQL and IQL on original + learned
   regenerations, CQL on original + two learned rounds, on original + privileged and on
   original + true-env regenerations, and PPO online; with ``sweep_sizes``, CQL and CQL +
   hindsight(learned) again on the first N episodes of each dataset (the data-size sweep).

Then evaluate every method, and the random, scripted, human-like, model-based (knows the
dynamics, not the persona) and oracle agents, on the same held-out seeds, and write a Markdown and
JSON table and a PNG chart. Statistics (:class:`~dialogue_gym.stats.MethodReturns`): each
mean's 95% interval covers training seeds and evaluation seeds; so do the normalized score
``(x - random) / (oracle - random)`` and the tests of CQL + hindsight against every other method
(paired by evaluation seed), whose p-values are Holm-corrected as one family per env. The spread
of the per-training-seed means is shown beside each row.
"""

from __future__ import annotations

from .chart import bar_chart
from .config import (
    BASELINES,
    EVAL_SEED,
    HEADLINE_METHOD,
    METHOD_NAMES,
    OFFLINE_METHODS,
    BenchmarkConfig,
)
from .data import imagination_gap, llm_pair
from .report import markdown
from .returns import returns_of
from .run import run_benchmark, run_env

__all__ = [
    "BASELINES",
    "EVAL_SEED",
    "HEADLINE_METHOD",
    "METHOD_NAMES",
    "OFFLINE_METHODS",
    "BenchmarkConfig",
    "bar_chart",
    "imagination_gap",
    "llm_pair",
    "markdown",
    "returns_of",
    "run_benchmark",
    "run_env",
]
