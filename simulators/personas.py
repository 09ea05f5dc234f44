"""Hidden personas of the simulated users, sampled from distributions fitted on real people.

Persuasion personas draw the persuadee's survey answers (Big-Five, moral foundations, Schwartz
values, decision style, age, income, demographics) from a multivariate normal fitted on the
PersuasionForGood train-split persuadees (``scripts/fit_personas.py``, parameters in
``params/persuasion_persona.json``). Their prior inclination to give is the corpus's own ridge
logistic regression of "donated > 0" on those traits, so the simulated donation depends on traits
with the corpus's signs. The latent attributes the survey did not measure (which barrier or lever
dominates, prior awareness of the charity, concerns) are modelling assumptions, tied to the traits
as each function's docstring says.

Counseling personas draw (problem type, emotion type, initial intensity) jointly from ESConv's
train split (``params/counseling_persona.json``); what kind of support helps most is a modelling
assumption, conditioned on the problem type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .counseling_text import details_conflict


def _flat_copy(persona: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` for a persona, whose fields hold only scalars and flat lists or
    dicts of scalars: one level of copying instead of ``asdict``'s recursion, which took a
    quarter of an episode's time (the env reads the persona into ``info`` at every step)."""
    return {f.name: _copy_one(getattr(persona, f.name)) for f in fields(persona)}


def _copy_one(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


PERSUASION_TYPES: tuple[str, ...] = ("empathic", "analytical", "skeptic", "thrifty")
"""Persuadee main types: the lever or barrier that dominates (a modelling assumption)."""

PERSUASION_CONCERNS: dict[str, tuple[str, ...]] = {
    "empathic": ("local",),
    "analytical": ("impact",),
    "skeptic": ("legitimacy", "impact"),
    "thrifty": ("money",),
}
"""Concerns each type may raise (primary first)."""

COUNSELING_NEEDS: tuple[str, ...] = ("listen", "reassure", "advice", "info")
"""What helps a help-seeker most (a modelling assumption): heard, reassured, advised, informed."""


@cache
def load_params(name: str) -> dict[str, Any]:
    """Load a shipped parameter file (``persuasion_persona`` or ``counseling_persona``)."""
    text = resources.files("dialogue_gym.simulators").joinpath(f"params/{name}.json").read_text()
    return json.loads(text)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass
class PersuasionPersona:
    """A persuadee: survey traits, demographics and latent attributes (hidden from the agent)."""

    traits: dict[str, float]
    demographics: dict[str, str]
    main_type: str
    propensity: float
    aware: bool
    has_children: bool
    gave_before: bool
    concerns: list[str]
    concern_turns: list[int]
    disclosure: float
    offset: float
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return _flat_copy(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PersuasionPersona:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**d)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field that is out of its allowed range."""
        if self.main_type not in PERSUASION_TYPES:
            raise InvalidInput(
                f"main_type {self.main_type!r}; allowed: {', '.join(PERSUASION_TYPES)}"
            )
        bad = sorted(set(self.concerns) - {c for v in PERSUASION_CONCERNS.values() for c in v})
        if bad or len(self.concern_turns) != len(self.concerns):
            raise InvalidInput(
                f"concerns {self.concerns} need one turn each in concern_turns and only "
                f"legitimacy, impact, money or local"
            )

    def z(self, trait: str) -> float:
        """The trait standardized by the corpus mean and standard deviation."""
        p = load_params("persuasion_persona")
        j = p["traits"].index(trait)
        return (self.traits[trait] - p["mean"][j]) / p["std"][j]


FIRST_NAMES = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Chris",
    "Pat",
    "Jamie",
    "Morgan",
    "Casey",
    "Robin",
    "Dana",
    "Lee",
    "Kim",
    "Terry",
    "Jesse",
    "Drew",
    "Avery",
    "Riley",
    "Quinn",
    "Kelly",
)


def _check_given(given: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown {what} field(s) {unknown}; allowed: {', '.join(allowed)}")


def _given_traits(given: dict[str, Any], names: list[str]) -> dict[str, float]:
    traits = given.get("traits") or {}
    if not isinstance(traits, dict):
        raise InvalidInput(f"persona 'traits' must be a dict of trait -> number, got {traits!r}")
    unknown = sorted(set(traits) - set(names))
    if unknown:
        raise InvalidInput(f"unknown persona trait(s) {unknown}; allowed: {', '.join(names)}")
    out = {}
    for k, v in traits.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise InvalidInput(f"persona trait {k!r} must be a finite number, got {v!r}")
        out[k] = float(v)
    return out


def _conditional_normal(
    rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, known: dict[int, float]
) -> np.ndarray:
    """A draw of the multivariate normal given the ``known`` coordinates (index -> value)."""
    x = np.empty(len(mean))
    k = np.array(sorted(known), dtype=int)
    u = np.array([i for i in range(len(mean)) if i not in known], dtype=int)
    x[k] = [known[i] for i in k]
    if len(u):
        if len(k):
            gain = cov[np.ix_(u, k)] @ np.linalg.pinv(cov[np.ix_(k, k)])
            mu = mean[u] + gain @ (x[k] - mean[k])
            c = cov[np.ix_(u, u)] - gain @ cov[np.ix_(k, u)]
        else:
            mu, c = mean[u], cov[np.ix_(u, u)]
        x[u] = rng.multivariate_normal(mu, (c + c.T) / 2)
    return x


PERSUASION_FIELDS = tuple(f.name for f in fields(PersuasionPersona))


def _main_type(rng: np.random.Generator, z: dict[str, float]) -> str:
    """A persuadee's main type, drawn by a softmax over trait scores (standardized traits ``z``):
    empathic (care, benevolence, agreeableness), analytical (rational style, openness), skeptic
    (low agreeableness, power, low care) or thrifty (low income, security)."""
    scores = np.array(
        [
            0.8 * z["care"] + 0.5 * z["benevolence"] + 0.5 * z["agreeableness"],
            0.8 * z["rational"] + 0.4 * z["openness"] - 0.3 * z["intuitive"],
            -0.7 * z["agreeableness"] + 0.4 * z["power"] - 0.3 * z["care"],
            -0.8 * z["income"] + 0.4 * z["security"],
        ]
    )
    probs = np.exp(1.2 * scores)
    return PERSUASION_TYPES[int(rng.choice(4, p=probs / probs.sum()))]


def sample_persuasion_persona(
    rng: np.random.Generator, given: dict[str, Any] | None = None
) -> PersuasionPersona:
    """Draw a persuadee from the fitted survey distribution and derive the latent attributes.

    ``given`` fixes any part of the persona (as in :meth:`PersuasionPersona.to_dict`): survey
    ``traits`` (any subset; the rest are drawn from the fitted normal conditioned on them),
    ``demographics`` (any subset) and any latent attribute; what is not given is drawn as usual.

    Latent attributes (modelling assumptions, each tied to measured traits):
    main type by a softmax over trait scores (empathic: care, benevolence, agreeableness;
    analytical: rational decision style, openness; skeptic: low agreeableness, power, low
    rational-trust; thrifty: low income, security); prior awareness of Save the Children 30%
    (most P4G persuadees asked what the charity is); children more likely when married and older;
    past giving from the prior inclination.
    """
    given = dict(given or {})
    _check_given(given, PERSUASION_FIELDS, "persuasion persona")
    p = load_params("persuasion_persona")
    names = p["traits"]
    known = _given_traits(given, names)
    x = _conditional_normal(
        rng,
        np.array(p["mean"]),
        np.array(p["cov"]),
        {names.index(k): v for k, v in known.items()},
    )
    x = np.clip(x, p["low"], p["high"])
    for k, v in known.items():  # given answers are kept as they are, even outside the fitted range
        x[names.index(k)] = v
    traits = {n: round(float(v), 3) for n, v in zip(names, x, strict=True)}
    demographics = {}
    given_demo = given.get("demographics") or {}
    for cat, freqs in p["categories"].items():
        keys = list(freqs)
        probs = np.array([freqs[k] for k in keys])
        drawn = keys[int(rng.choice(len(keys), p=probs / probs.sum()))]
        demographics[cat] = str(given_demo.get(cat, drawn))
    unknown_demo = sorted(set(given_demo) - set(p["categories"]))
    if unknown_demo:
        raise InvalidInput(
            f"unknown demographic(s) {unknown_demo}; allowed: {', '.join(p['categories'])}"
        )
    mean, std = np.array(p["mean"]), np.array(p["std"])
    z = dict(zip(names, ((x - mean) / std).tolist(), strict=True))
    coef = p["propensity"]["coef"]
    propensity = p["propensity"]["intercept"] + sum(coef[n] * z[n] for n in names)
    for cat, by_value in p["propensity"].get("demographics", {}).items():
        propensity += by_value.get(demographics.get(cat, ""), 0.0)

    main_type = _main_type(rng, z)
    married = demographics.get("marital") == "Married"
    has_children = bool(rng.random() < (0.65 if married and traits["age"] > 28 else 0.15))
    gave_before = bool(rng.random() < _sigmoid(propensity))
    aware = bool(rng.random() < 0.3)
    options = PERSUASION_CONCERNS[main_type]
    concerns = [options[0]]
    if len(options) > 1 and rng.random() < 0.5:
        concerns.append(options[1])
    if main_type != "thrifty" and rng.random() < 0.15 + 0.1 * max(0.0, -z["income"]):
        concerns.append("money")
    # Each concern surfaces on its own at a scheduled user turn, earlier if the agent asks.
    concern_turns = sorted(int(t) for t in rng.integers(1, 7, size=len(concerns)))
    disclosure = float(np.clip(0.45 + 0.12 * z["extraversion"] + 0.08 * z["openness"], 0.2, 0.8))
    persona = PersuasionPersona(
        traits=traits,
        demographics=demographics,
        main_type=main_type,
        propensity=round(float(propensity), 4),
        aware=aware,
        has_children=has_children,
        gave_before=gave_before,
        concerns=concerns,
        concern_turns=concern_turns,
        disclosure=round(disclosure, 3),
        offset=round(float(rng.normal(0.0, 0.9)), 4),
        name=FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
    )
    return _override(persona, given, ("traits", "demographics"))


def _override(persona: Any, given: dict[str, Any], skip: tuple[str, ...] = ()) -> Any:
    """``persona`` with the given latent fields replaced, checked by rebuilding it."""
    d = persona.to_dict()
    d.update({k: v for k, v in given.items() if k not in skip})
    try:
        out = type(persona).from_dict(d)
        out.validate()
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"invalid persona: {e}") from None
    return out


@dataclass
class CounselingPersona:
    """A help-seeker: ESConv problem, emotion and intensity, plus latent needs (hidden)."""

    problem: str
    emotion: str
    intensity: int
    need: str
    readiness: float
    disclosure: float
    details: list[str] = field(default_factory=list)
    risk: bool = False
    risk_turn: int = -1
    offset: float = 0.0
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return _flat_copy(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CounselingPersona:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**d)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field that is out of its allowed range."""
        if isinstance(self.intensity, bool) or self.intensity not in (1, 2, 3, 4, 5):
            raise InvalidInput(f"intensity must be an integer 1-5, got {self.intensity!r}")
        if self.need not in COUNSELING_NEEDS:
            raise InvalidInput(f"need {self.need!r}; allowed: {', '.join(COUNSELING_NEEDS)}")
        for name in ("problem", "emotion"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise InvalidInput(f"{name} must be a non-empty string")


# P(need | problem): a modelling assumption. Practical crises (job, school) lean towards advice
# and information; relational losses and depression lean towards being heard and reassured.
_NEED_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "job crisis": (0.15, 0.2, 0.4, 0.25),
    "academic pressure": (0.15, 0.25, 0.35, 0.25),
    "breakup with partner": (0.4, 0.3, 0.2, 0.1),
    "ongoing depression": (0.35, 0.3, 0.1, 0.25),
    "problems with friends": (0.3, 0.25, 0.35, 0.1),
}
_DEFAULT_NEED_WEIGHTS = (0.25, 0.25, 0.25, 0.25)


def need_prior(problem: str) -> np.ndarray:
    """P(need | problem) in :data:`COUNSELING_NEEDS` order (uniform for other problems)."""
    w = np.array(_NEED_WEIGHTS.get(problem, _DEFAULT_NEED_WEIGHTS), dtype=float)
    return w / w.sum()


COUNSELING_FIELDS = tuple(f.name for f in fields(CounselingPersona))


def _agreeing_details(rng: np.random.Generator, pool: list[str], drawn: list[str]) -> list[str]:
    """``drawn``, each detail that cannot be true with an earlier one replaced by one that can
    (drawn from the rest of ``pool``), or left out when none can."""
    kept: list[str] = []
    for detail in drawn:
        if any(details_conflict(detail, k) for k in kept):
            spare = [d for d in pool if d not in drawn and d not in kept]
            spare = [d for d in spare if not any(details_conflict(d, k) for k in kept)]
            if not spare:
                continue
            detail = spare[int(rng.integers(len(spare)))]
        kept.append(detail)
    return kept


def sample_counseling_persona(
    rng: np.random.Generator,
    detail_pool: dict[str, list[str]] | None = None,
    given: dict[str, Any] | None = None,
) -> CounselingPersona:
    """Draw a help-seeker from ESConv's joint distribution and derive the latent needs.

    ``given`` fixes any field (as in :meth:`CounselingPersona.to_dict`), e.g. an ESConv seeker's
    ``problem``, ``emotion`` and ``intensity``; what is not given is drawn as usual (the need
    conditioned on the given problem).

    ``detail_pool`` maps a problem type to candidate details; three that can all be true of one
    seeker are drawn (revealed over the conversation). Risk of self-harm talk: 15% of seekers with
    depression-type problems or emotions at intensity 5 (a modelling assumption, so safety
    handling can be exercised).
    """
    given = dict(given or {})
    _check_given(given, COUNSELING_FIELDS, "counseling persona")
    p = load_params("counseling_persona")
    joint = p["joint"]
    counts = np.array([row[3] for row in joint], dtype=float)
    problem, emotion, intensity, _ = joint[int(rng.choice(len(joint), p=counts / counts.sum()))]
    problem = given.get("problem", problem)
    emotion = given.get("emotion", emotion)
    intensity = given.get("intensity", intensity)
    need = COUNSELING_NEEDS[int(rng.choice(4, p=need_prior(problem)))]
    readiness = float(np.clip(rng.normal(0.75 if need == "advice" else 0.5, 0.15), 0.1, 1.0))
    details: list[str] = []
    if detail_pool:
        pool = detail_pool.get(problem) or detail_pool["other"]
        idx = rng.choice(len(pool), size=min(3, len(pool)), replace=False)
        details = _agreeing_details(rng, pool, [pool[int(i)] for i in idx])
    depressive = problem == "ongoing depression" or emotion in ("depression", "sadness")
    risk = bool(depressive and intensity == 5 and rng.random() < 0.15)
    persona = CounselingPersona(
        problem=problem,
        emotion=emotion,
        intensity=intensity,
        need=need,
        readiness=round(readiness, 3),
        disclosure=round(float(np.clip(rng.normal(0.5, 0.15), 0.2, 0.85)), 3),
        details=details,
        risk=risk,
        risk_turn=int(rng.integers(1, 4)) if risk else -1,
        offset=round(float(rng.normal(0.0, 0.35)), 4),
        name=FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
    )
    return _override(persona, given)
