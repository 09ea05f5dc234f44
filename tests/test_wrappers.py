"""The SB3 wrappers: strategy actions and history features pass SB3's env checker."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.mark.parametrize("env_id", ["Persuasion-v0", "Counseling-v0"])
def test_sb3_check_env_passes_on_wrapped_envs(env_id):
    from stable_baselines3.common.env_checker import check_env

    from dialogue_gym.wrappers import make_vector_env

    env = make_vector_env(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert [str(w.message) for w in caught] == []
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    obs2, reward, term, trunc, info = env.step(0)
    assert isinstance(info["utterance"], str) and not np.array_equal(obs, obs2)


def test_featurizer_sees_revealed_concerns():
    from dialogue_gym.wrappers import HistoryFeaturizer

    f = HistoryFeaturizer("persuasion")
    msgs = [
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How do I know this charity is legit?"},
    ]
    x = f(msgs, 1, 10)
    j = f.size - 2 * len(f.cue_names) + f.cue_names.index("legitimacy")
    assert x[j] == 1.0 and x[f.n_hash] == pytest.approx(0.1)
