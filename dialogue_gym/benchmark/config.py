"""The benchmark's configuration: sizes, protocol, the methods and the rows it makes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domains import env_ids
from ..errors import InvalidInput
from .regimes import check_regime

HEADLINE_METHOD = "cql+hindsight"


EVAL_SEED = 1_000_000


BASELINES = ("random", "scripted", "human-like", "model-based", "oracle")


LABELS = {
    "model-based": "model-based (knows the dynamics, not the persona)",
    "oracle": "oracle (knows the persona: privileged)",
    HEADLINE_METHOD: "cql+hindsight (learned from the data)",
    "cql+hindsight(privileged)": "cql+hindsight(privileged) [ablation: simulator dynamics]",
    "cql+hindsight(oracle-fwd)": "cql+hindsight(oracle-fwd) [ablation: true env]",
    "cql+hindsight(penalized)": "cql+hindsight(penalized) [learned, disagreement-penalized]",
    "cql+hindsight(anchored)": "cql+hindsight(anchored) [learned, anchored to the outcome]",
    "cql+hindsight(ensembles)": "cql+hindsight(ensembles) [learned, forward + reward penalized]",
}


PIPELINES = ("learned", "privileged", "true-env")
"""Hindsight pipelines: one controller (the critic), three forward/reward pairs."""

ABLATION_METHODS = (
    "cql+hindsight(2 rounds)",
    "cql+hindsight(penalized)",
    "cql+hindsight(anchored)",
    "cql+hindsight(ensembles)",
    "cql+hindsight(privileged)",
    "cql+hindsight(oracle-fwd)",
)
"""The rows that ablate the headline method (a second round, the learned rewrites relabelled by
the disagreement-penalized reward ensemble, anchored to their sources' outcomes or valued by both
ensembles, privileged dynamics, the true env):
the full run makes them, ``quick()`` leaves them out (``BenchmarkConfig.ablations``)."""

SIMULATOR_ABLATIONS = ("cql+hindsight(privileged)", "cql+hindsight(oracle-fwd)")
"""The ablation rows that need the simulator's dynamics or the true env (not in ``real``)."""


@dataclass
class BenchmarkConfig:
    """Sizes and protocol of one benchmark run (``quick()`` for the short version)."""

    envs: tuple[str, ...] = field(default_factory=env_ids)
    """The env ids to benchmark (default: every registered one)."""
    dataset_episodes: int = 1000
    """Behaviour episodes per env and training seed (the offline methods' environment budget).
    The full default (1,000 episodes, 1,000 offline steps) is sized to the README's time for the
    full run; 1,500 and 2,000 (``--dataset-episodes 1500 --offline-steps 2000``) detect smaller
    Counseling differences (README, Power)."""
    eval_episodes: int = 200
    """Held-out evaluation episodes per method and training seed."""
    train_seeds: int = 3
    offline_steps: int = 1000
    """Gradient steps of BC, CQL and IQL."""
    ppo_steps: int = 10_000
    """PPO environment steps per training seed."""
    top_share: float = 0.25
    """Filtered BC keeps exactly this top share of episodes by return."""
    resample_data: bool = True
    """A new behaviour dataset (and its regenerations) per training seed; False: one for all."""
    imagined_weight: float = 1.0
    """Loss weight of transitions whose reward a hindsight model imagined (1: same as real)."""
    model_based_samples: int = 6
    """Personas the model-based reference plans over."""
    threads: int | None = 1
    """torch threads of the learners and of the learned agents' evaluation."""
    added_agents: tuple[str, ...] = ()
    """A user's agents (any spec: a registered name or ``module:Object``) evaluated on the same
    seeds and put in the table, each with its own tests against every other row."""
    encoder: str = "minilm"
    """Sentence encoder of the learned hindsight models (``hash:N``: no model)."""
    sweep_sizes: tuple[int, ...] = (200, 500)
    """Smaller behaviour datasets (first N episodes of each run's) for the data-size sweep."""
    llm: str | None = None
    """A chat backend spec (``local:smollm2``, ``http://HOST:PORT/v1#MODEL``, ...): its forward
    and reward models (:mod:`~dialogue_gym.hindsight.llm`) join the imagination gap table as the
    ``llm`` pair, on the critic's rewrites of ``llm_episodes`` unsuccessful episodes per run.
    Gap only: no method trains on them (an LLM continuation per episode is costly)."""
    llm_episodes: int = 30
    """Unsuccessful episodes per run that the ``llm`` pair regenerates (the first ones)."""
    ablations: bool = True
    """Make the ablation rows (:data:`ABLATION_METHODS`) and their pipelines' imagination-gap
    rows; False (``quick()``): the headline rows and the learned pipeline's gap only."""
    regime: str = "human-like"
    """Where the behaviour data come from (:mod:`.regimes`): ``human-like`` (the noisy scripted
    flow), ``narrow`` (``corpus-mix``: the real corpora's strategy shares per turn) or ``real``
    (the train corpus itself, its first ``dataset_episodes`` dialogues or all it has, the same
    for every run, so ``resample_data`` is off; needs ``data_dir``; of the ablations it makes
    the ones that need no simulator: the true env cannot replay a real person, so the
    imagination gap is not measured either)."""
    data_dir: str | None = None
    """The corpora folder, for the ``real`` regime."""

    def __post_init__(self) -> None:
        for name in ("dataset_episodes", "eval_episodes", "train_seeds", "offline_steps"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.ppo_steps < 2:
            raise InvalidInput(f"ppo_steps must be >= 2, got {self.ppo_steps}")
        if self.train_seeds * self.dataset_episodes > EVAL_SEED:
            raise InvalidInput(
                f"train_seeds * dataset_episodes must stay below the evaluation seeds "
                f"({EVAL_SEED}), got {self.train_seeds * self.dataset_episodes}"
            )
        if not 0 < self.top_share <= 1 or not 0 <= self.imagined_weight <= 1:
            raise InvalidInput("need 0 < top_share <= 1 and 0 <= imagined_weight <= 1")
        self.added_agents = tuple(self.added_agents)
        self.sweep_sizes = tuple(sorted(set(self.sweep_sizes)))
        if any(not 20 <= n < self.dataset_episodes for n in self.sweep_sizes):
            raise InvalidInput(
                f"sweep sizes must be >= 20 and below dataset_episodes ({self.dataset_episodes}), "
                f"got {list(self.sweep_sizes)}"
            )
        check_regime(self.regime)
        if self.regime == "real" and self.data_dir is None:
            raise InvalidInput("the real regime needs the corpora (data_dir, --data)")
        if self.regime == "real":
            self.resample_data = False  # one corpus: the same data for every run
        if self.llm_episodes < 1:
            raise InvalidInput(f"llm_episodes must be >= 1, got {self.llm_episodes}")
        if len(set(self.added_agents)) != len(self.added_agents):
            raise InvalidInput(f"added agents must differ, got {list(self.added_agents)}")

    @classmethod
    def quick(cls, envs: tuple[str, ...] | None = None) -> BenchmarkConfig:
        """Small sizes, the headline rows only (no ablation rows, no data-size sweep), sized to
        the README's time for the quick run (``benchmarks/bench_benchmark.py`` measures it)."""
        return cls(
            envs=envs or env_ids(),
            dataset_episodes=200,
            eval_episodes=50,
            train_seeds=3,
            offline_steps=300,
            ppo_steps=1024,
            model_based_samples=3,
            sweep_sizes=(),
            ablations=False,
        )

    def offline_methods(self) -> tuple[str, ...]:
        """The offline rows this run makes (the ablations only if :attr:`ablations`; in the
        ``real`` regime none that needs the simulator's dynamics or the true env)."""
        real = self.regime == "real"
        return tuple(
            m
            for m in OFFLINE_METHODS
            if (self.ablations or m not in ABLATION_METHODS)
            and not (real and m in SIMULATOR_ABLATIONS)
        )

    def pipelines(self) -> tuple[str, ...]:
        """The hindsight pipelines this run regenerates with (the learned one only, without
        the ablations or in the ``real`` regime: no simulator holds a real person)."""
        return PIPELINES if self.ablations and self.regime != "real" else ("learned",)

    def relabellings(self) -> tuple[str, ...]:
        """The learned pipeline's second round and relabellings this run makes (the ablations
        that need no simulator, so the ``real`` regime has them too)."""
        return ("learned2", "penalized", "anchored", "imagination") if self.ablations else ()


OFFLINE_METHODS: dict[str, tuple[str, str]] = {
    "bc": ("bc", "orig"),
    "filtered-bc": ("filtered-bc", "orig"),
    "cql": ("cql", "orig"),
    "iql": ("iql", "orig"),
    HEADLINE_METHOD: ("cql", "learned"),
    "iql+hindsight": ("iql", "learned"),
    "cql+hindsight(2 rounds)": ("cql", "learned2"),
    "cql+hindsight(penalized)": ("cql", "penalized"),
    "cql+hindsight(anchored)": ("cql", "anchored"),
    "cql+hindsight(ensembles)": ("cql", "imagination"),
    "cql+hindsight(privileged)": ("cql", "privileged"),
    "cql+hindsight(oracle-fwd)": ("cql", "true-env"),
}
"""Each offline method: (algorithm, its dataset: the original, or the original plus the
regenerations of a pipeline; ``learned2``: two rounds of the learned pipeline; ``penalized``: the
learned rewrites relabelled by the disagreement-penalized reward ensemble; ``anchored``: the
learned rewrites anchored to their sources' recorded outcomes, :mod:`hindsight.anchored`;
``imagination``: the learned rewrites valued by a forward and a reward ensemble, penalized by the
disagreement of both, :mod:`hindsight.forward_ensemble`)."""


METHOD_NAMES = {*BASELINES, *OFFLINE_METHODS, "ppo"}
"""Every row the benchmark makes itself (an added agent must not take one of these names)."""
