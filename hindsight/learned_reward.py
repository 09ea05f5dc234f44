"""A reward model learned from recorded episodes only: dialogue text in, outcome out.

What it knows: the text of recorded dialogues and their recorded outcomes — nothing of any
simulator, persona or evaluator. Each dialogue is embedded by a general sentence encoder
(:mod:`.features`) and a linear head is fitted with scikit-learn, its ridge strength chosen by
5-fold cross-validation on the training episodes:

- Persuasion (a donation in [0, 2]): a hurdle model, P(donation > 0) by logistic regression
  (chosen by log-loss, so the probability is calibrated) times the expected amount given a
  donation (ridge regression on the donors).
- Counseling (the drop in distress, in [-4, 4]): ridge regression. Where the recorded outcomes
  carry the initial intensity, a second ridge head reads it from the seeker's first two turns
  (:meth:`LearnedRewardModel.initial_intensity`), so imagination need not be told it.

Saved as a folder (``reward_model.json`` + ``weights.npz``, no pickle); scoring needs only numpy
and the encoder. ``dialogue-gym hindsight --reward learned:DIR`` uses it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..domains import domain_named, env_domain, env_key
from ..episode import REAL_REWARD, Episode, Turn
from ..errors import InvalidData, InvalidInput
from ..files import atomic_dir
from .base import RewardModel, clip_reward, single_env
from .features import CachedEncoder, dialogue_features, opening_features

FORMAT = "dialogue-gym learned reward model v1"
MIN_EPISODES = 20


@dataclass
class _Linear:
    """``y = ((x - mean) / scale) @ coef + intercept`` (a fitted scikit-learn head, as arrays)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.mean": self.mean,
            f"{prefix}.scale": self.scale,
            f"{prefix}.coef": self.coef,
            f"{prefix}.intercept": np.array(self.intercept),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> _Linear:
        return cls(
            arrays[f"{prefix}.mean"],
            arrays[f"{prefix}.scale"],
            arrays[f"{prefix}.coef"],
            float(arrays[f"{prefix}.intercept"]),
        )


def _fit_head(x: np.ndarray, y: np.ndarray, classify: bool, seed: int) -> _Linear:
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    if classify:
        with warnings.catch_warnings():  # scikit-learn 1.8 announces renamed defaults
            warnings.simplefilter("ignore", FutureWarning)
            model = LogisticRegressionCV(
                Cs=np.logspace(-4, 1, 12),
                cv=5,
                scoring="neg_log_loss",
                max_iter=2000,
                random_state=seed,
            ).fit(z, y)
        return _Linear(scaler.mean_, scale, model.coef_[0], float(model.intercept_[0]))
    model = RidgeCV(alphas=np.logspace(-1, 5, 13)).fit(z, y)
    return _Linear(scaler.mean_, scale, np.asarray(model.coef_), float(model.intercept_))


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(v, -30, 30)))


@dataclass
class TrainingRows:
    """A training set as arrays, one row per episode: dialogue features ``x`` and recorded
    rewards ``y``; for Counseling data that record the initial intensity, the seeker's opening
    features and the intensities (NaN where not recorded), else None."""

    x: np.ndarray
    y: np.ndarray
    openings: np.ndarray | None = None
    initial: np.ndarray | None = None

    def take(self, index: np.ndarray) -> TrainingRows:
        """The rows ``index`` (repeats allowed: a bootstrap resample)."""
        openings = None if self.openings is None else self.openings[index]
        initial = None if self.initial is None else self.initial[index]
        return TrainingRows(self.x[index], self.y[index], openings, initial)


def usable_episodes(
    episodes: Sequence[Episode], what: str, minimum: int
) -> tuple[str, list[Episode]]:
    """The env and the episodes a reward model learns from (status ok, turns, a recorded reward
    that is not imagined); ``InvalidInput`` naming ``what`` if fewer than ``minimum``."""
    usable = [e for e in episodes if e.status == "ok" and e.reward is not None and e.turns]
    usable = [e for e in usable if e.reward_source == REAL_REWARD]
    env = single_env(usable, "a reward model is fitted on")
    if len(usable) < minimum:
        raise InvalidInput(
            f"{what} needs at least {minimum} episodes with a recorded reward; got {len(usable)}"
        )
    return env, usable


def training_rows(encoder: CachedEncoder, episodes: Sequence[Episode], domain: str) -> TrainingRows:
    """Embed ``episodes`` once (the expensive part) into :class:`TrainingRows`."""
    x = np.stack([dialogue_features(encoder, e.turns) for e in episodes])
    y = np.array([float(e.reward) for e in episodes])
    init = [e.outcome.get("initial_intensity") for e in episodes]
    if domain == "persuasion" or sum(v is not None for v in init) < MIN_EPISODES:
        return TrainingRows(x, y)
    none = np.zeros(encoder.dim, dtype=np.float32)
    openings = np.stack(
        [
            none if v is None else opening_features(encoder, e.turns)
            for e, v in zip(episodes, init, strict=True)
        ]
    )
    initial = np.array([np.nan if v is None else float(v) for v in init])
    return TrainingRows(x, y, openings, initial)


def _known_initial(rows: TrainingRows) -> np.ndarray | None:
    """The rows whose initial intensity is recorded, if enough to fit its head; else None."""
    if rows.initial is None:
        return None
    known = ~np.isnan(rows.initial)
    return known if known.sum() >= MIN_EPISODES else None


def training_meta(domain: str, rows: TrainingRows) -> dict[str, Any]:
    """The training set's size and constant guesses (the bars :func:`accuracy` compares with)."""
    meta: dict[str, Any] = {}
    if domain == "persuasion":
        meta["train_share_given"] = float((rows.y > 0).mean())
    else:
        known = _known_initial(rows)
        if known is not None:
            meta["train_mean_initial_intensity"] = float(rows.initial[known].mean())
    meta.update(n_train=len(rows.y), train_mean_reward=float(rows.y.mean()))
    return meta


def write_model_folder(
    path: str | Path, meta_name: str, meta: dict[str, Any], npz_name: str, arrays: dict
) -> Path:
    """Write a model folder atomically: ``meta`` as JSON in ``meta_name`` and ``arrays`` in the
    npz file ``npz_name`` (no pickle)."""
    with atomic_dir(path) as tmp:
        (tmp / meta_name).write_text(json.dumps(meta, indent=2) + "\n")
        np.savez(tmp / npz_name, **arrays)
    return Path(path)


def read_model_meta(
    path: str | Path, meta_name: str, fmt: str, what: str, hint: str = ""
) -> dict[str, Any]:
    """The JSON ``meta_name`` of a model folder written by :func:`write_model_folder`, checked to
    be of format ``fmt``; ``InvalidInput`` naming ``what`` (and ``hint``) if it is not there."""
    meta_file = Path(path) / meta_name
    if not meta_file.is_file():
        raise InvalidInput(f"{path} is not {what} (no {meta_name}){hint}")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != fmt:
        raise InvalidData(f"{meta_file}: unknown format {meta.get('format')!r}; want {fmt!r}")
    return meta


class LearnedRewardModel(RewardModel):
    """Text-in, outcome-out reward model fitted on recorded episodes (see the module docstring)."""

    name = "learned"

    def __init__(
        self,
        env_id: str,
        encoder: str,
        heads: dict[str, _Linear],
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.env_id = env_key(env_id)
        self.domain = env_domain(self.env_id)
        self.encoder_spec = encoder
        self.encoder = CachedEncoder(encoder)
        self.heads = heads
        self.meta = meta or {}

    # -- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls, episodes: Sequence[Episode], encoder: str = "minilm", seed: int = 0
    ) -> LearnedRewardModel:
        """Fit on the episodes' text and recorded rewards (one env; imagined rewards are not
        used: a reward model trained on another model's guesses would learn the guesses)."""
        env, usable = usable_episodes(episodes, "a learned reward model", MIN_EPISODES)
        rows = training_rows(CachedEncoder(encoder), usable, env_domain(env))
        return cls.from_rows(env, encoder, rows, seed)

    @classmethod
    def from_rows(
        cls, env_id: str, encoder: str, rows: TrainingRows, seed: int = 0
    ) -> LearnedRewardModel:
        """Fit the heads on precomputed :class:`TrainingRows` (what :meth:`fit` does once the
        dialogues are embedded; an ensemble fits its members on resampled rows)."""
        model = cls(env_id, encoder, {})
        x, y = rows.x, rows.y
        if model.domain == "persuasion":
            given = y > 0
            if given.all() or not given.any():
                raise InvalidInput("the episodes need both donors and non-donors to fit a reward")
            model.heads["p_given"] = _fit_head(x, given.astype(int), True, seed)
            model.heads["amount"] = _fit_head(x[given], y[given], False, seed)
        else:
            model.heads["value"] = _fit_head(x, y, False, seed)
            known = _known_initial(rows)
            if known is not None:
                xo, yo = rows.openings[known], rows.initial[known]
                model.heads["initial_intensity"] = _fit_head(xo, yo, False, seed)
        model.meta.update(training_meta(model.domain, rows))
        return model

    # -- scoring -------------------------------------------------------------------------------

    def predict(self, turns: Sequence[Turn]) -> float:
        """The expected outcome of ``turns`` (not clipped)."""
        return float(self.predict_features(dialogue_features(self.encoder, turns)))

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """:meth:`predict` from dialogue features: one vector, or one row per dialogue."""
        if self.domain == "persuasion":
            amount = np.clip(self.heads["amount"](x), 0.0, None)
            return self.p_success_features(x) * amount
        return self.heads["value"](x)

    def p_success(self, turns: Sequence[Turn]) -> float:
        """Persuasion: the calibrated probability that the persuadee donates anything."""
        return float(self.p_success_features(dialogue_features(self.encoder, turns)))

    def p_success_features(self, x: np.ndarray) -> np.ndarray:
        """:meth:`p_success` from dialogue features: one vector, or one row per dialogue."""
        if "p_given" not in self.heads:
            raise InvalidInput("p_success is defined for the Persuasion reward model only")
        return _sigmoid(self.heads["p_given"](x))

    def initial_intensity(self, turns: Sequence[Turn]) -> float | None:
        """Counseling: the seeker's initial distress (1-5) read from their first turns, or None
        where the training outcomes did not record it."""
        head = self.heads.get("initial_intensity")
        if head is None:
            return None
        return float(np.clip(head(opening_features(self.encoder, turns)), 1.0, 5.0))

    def score(self, episode: Episode, turns: list[Turn], seed: int) -> float:
        """The predicted outcome of ``turns``, clipped to the task's range (``seed`` unused)."""
        check_episode_env(self.env_id, episode)
        return clip_reward(self.env_id, self.predict(turns))

    def succeeds(self, episode: Episode, turns: list[Turn]) -> bool | None:
        """Persuasion: a donation is more likely than not (the score is an expected amount, so
        it is above 0 for every dialogue); Counseling: None (the expected drop is judged)."""
        return self.p_success(turns) >= 0.5 if self.domain == "persuasion" else None

    def config(self) -> dict[str, Any]:
        """Name, encoder and training size (saved in provenance)."""
        return {"name": self.name, "oracle": False, "encoder": self.encoder_spec, **self.meta}

    # -- held-out accuracy ---------------------------------------------------------------------

    def evaluate(self, episodes: Sequence[Episode]) -> dict[str, float]:
        """Held-out accuracy on episodes with recorded rewards (:func:`accuracy`)."""
        return accuracy(self, episodes)

    # -- saving --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model to the folder ``path`` (atomically)."""
        meta = {
            "format": FORMAT,
            "env_id": self.env_id,
            "encoder": self.encoder_spec,
            "heads": sorted(self.heads),
            "meta": self.meta,
        }
        return write_model_folder(
            path, "reward_model.json", meta, "weights.npz", self.head_arrays()
        )

    @classmethod
    def load(cls, path: str | Path) -> LearnedRewardModel:
        """Load a folder written by :meth:`save` (a clear error if it is not one)."""
        meta = read_model_meta(path, "reward_model.json", FORMAT, "a learned reward model")
        with np.load(Path(path) / "weights.npz") as arrays:
            heads = heads_from_arrays(arrays, meta["heads"])
        return cls(meta["env_id"], meta["encoder"], heads, meta.get("meta"))

    def head_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The heads as named arrays (``{prefix}{head}.coef`` ...), for one npz file."""
        arrays: dict[str, np.ndarray] = {}
        for name, head in self.heads.items():
            arrays.update(head.arrays(prefix + name))
        return arrays


def heads_from_arrays(arrays: Any, names: Sequence[str], prefix: str = "") -> dict[str, Any]:
    """The heads ``names`` read back from :meth:`LearnedRewardModel.head_arrays`' arrays."""
    return {name: _Linear.from_arrays(arrays, prefix + name) for name in names}


def check_episode_env(env_id: str, episode: Episode) -> None:
    """``InvalidInput`` unless ``episode`` is of the env ``env_id`` a reward model was fitted on."""
    if env_key(episode.env_id) != env_id:
        raise InvalidInput(
            f"this reward model was fitted on {env_id}; the episode is {episode.env_id}"
        )


class OutcomePredictor(Protocol):
    """What :func:`accuracy` reads of a reward model (a single one or an ensemble)."""

    env_id: str
    domain: str
    meta: dict[str, Any]

    def predict(self, turns: Sequence[Turn]) -> float:
        """The expected outcome of ``turns`` (not clipped)."""

    def p_success(self, turns: Sequence[Turn]) -> float:
        """Persuasion: the probability that the persuadee donates anything."""

    def initial_intensity(self, turns: Sequence[Turn]) -> float | None:
        """Counseling: the seeker's initial distress read from their first turns, or None."""


def evaluable(episodes: Sequence[Episode]) -> list[Episode]:
    """The episodes a reward model can be evaluated on (status ok, turns, a recorded reward)."""
    usable = [e for e in episodes if e.status == "ok" and e.reward is not None and e.turns]
    if not usable:
        raise InvalidInput("no episode with a recorded reward to evaluate on")
    return usable


def accuracy(model: OutcomePredictor, episodes: Sequence[Episode]) -> dict[str, float]:
    """Held-out accuracy on episodes with recorded rewards: AUC of the score for success (the
    domain's criterion: a donation; a drop of 2 or a final intensity of 2 or less), MAE and
    Pearson correlation of the clipped prediction, its bias, and for Persuasion the Brier
    score and expected calibration error of P(donation > 0). ``*_constant`` keys give the
    same error for a constant guess (the training mean): the bar a text model must clear."""
    from sklearn.metrics import roc_auc_score

    usable = evaluable(episodes)
    y = np.array([float(e.reward) for e in usable])
    pred = np.array([clip_reward(model.env_id, model.predict(e.turns)) for e in usable])
    rule = domain_named(model.domain).is_success
    success = np.array([rule(float(e.reward), e.outcome) for e in usable])
    ranked = pred
    out: dict[str, float] = {"n": float(len(usable))}
    if model.domain == "persuasion":
        ranked = np.array([model.p_success(e.turns) for e in usable])
        out["brier"] = float(np.mean((ranked - success) ** 2))
        out["brier_constant"] = float(np.mean((model.meta["train_share_given"] - success) ** 2))
        out["ece"] = _ece(ranked, success)
    out["auc"] = (
        float(roc_auc_score(success, ranked)) if 0 < success.sum() < len(success) else np.nan
    )
    out["mae"] = float(np.mean(np.abs(pred - y)))
    out["mae_constant"] = float(np.mean(np.abs(model.meta["train_mean_reward"] - y)))
    out["bias"] = float(np.mean(pred - y))
    out["corr"] = float(np.corrcoef(pred, y)[0, 1]) if pred.std() > 0 else np.nan
    inits = [(e.outcome.get("initial_intensity"), e) for e in usable]
    inits = [(v, e) for v, e in inits if v is not None]
    guesses = [model.initial_intensity(e.turns) for _, e in inits]
    if inits and None not in guesses and "train_mean_initial_intensity" in model.meta:
        guess = np.array(guesses)
        truth = np.array([v for v, _ in inits], dtype=float)
        out["initial_intensity_mae"] = float(np.mean(np.abs(guess - truth)))
        constant = model.meta["train_mean_initial_intensity"]
        out["initial_intensity_mae_constant"] = float(np.mean(np.abs(constant - truth)))
    return out


def _ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the share-weighted gap between mean probability and the
    observed rate, over equal-width probability bins."""
    edges = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = edges == b
        if m.any():
            total += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(total)
