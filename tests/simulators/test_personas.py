"""Given personas: ``reset(options={"persona": ...})`` fixes what is given and draws the rest."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dialogue_gym  # noqa: F401
from dialogue_gym.simulators.personas import (
    load_params,
    sample_counseling_persona,
    sample_persuasion_persona,
)


def test_given_survey_traits_are_kept_and_the_rest_follows_the_fitted_correlations():
    p = load_params("persuasion_persona")
    names, mean, std = p["traits"], np.array(p["mean"]), np.array(p["std"])
    j = names.index("agreeableness")
    high = float(mean[j] + 2 * std[j])
    draws = [
        sample_persuasion_persona(np.random.default_rng(s), {"traits": {"agreeableness": high}})
        for s in range(300)
    ]
    assert all(d.traits["agreeableness"] == round(high, 3) for d in draws)
    # Every other trait moves by the fitted covariance: its conditional mean is
    # mean + cov[k, j] / var[j] * (high - mean[j]).
    cov = np.array(p["cov"])
    for k, name in enumerate(names):
        if k == j:
            continue
        expected = mean[k] + cov[k, j] / cov[j, j] * (high - mean[j])
        got = np.mean([d.traits[name] for d in draws])
        assert abs(got - expected) < 0.25 * std[k], name


def test_a_full_persona_round_trips_through_reset():
    env = gym.make("Persuasion-v0", privileged_info=True)
    _, info = env.reset(seed=3)
    persona = info["privileged"]["persona"]
    _, info2 = env.reset(seed=99, options={"persona": persona})
    assert info2["privileged"]["persona"] == persona


def test_counseling_seeker_fields_are_fixed():
    env = gym.make("Counseling-v0", privileged_info=True)
    given = {"problem": "job crisis", "emotion": "anxiety", "intensity": 5}
    for seed in range(5):
        _, info = env.reset(seed=seed, options={"persona": given})
        got = info["privileged"]["persona"]
        assert {k: got[k] for k in given} == given
    d = sample_counseling_persona(np.random.default_rng(0), given={"intensity": 2})
    assert d.intensity == 2


@pytest.mark.parametrize(
    "options, message",
    [
        ({"persona": {"traits": {"height": 3.0}}}, "unknown persona trait"),
        ({"persona": {"traits": {"care": "high"}}}, "finite number"),
        ({"persona": {"main_type": "greedy"}}, "main_type"),
        ({"persona": {"colour": "red"}}, "unknown persuasion persona field"),
        ({"persona": "empathic"}, "must be a dict"),
        ({"mood": 1}, "unknown reset option"),
    ],
)
def test_bad_personas_name_the_problem(options, message):
    env = gym.make("Persuasion-v0")
    with pytest.raises(ValueError, match=message):
        env.reset(seed=0, options=options)


def test_bad_counseling_intensity_is_refused():
    env = gym.make("Counseling-v0")
    with pytest.raises(ValueError, match="intensity must be an integer 1-5"):
        env.reset(seed=0, options={"persona": {"intensity": 7}})
