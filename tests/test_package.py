"""Packaging: one import namespace, registration on import, the console script."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
from cli_run import run_cli

import dialogue_gym


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True
    )
    return out.stdout.strip()


def test_import_registers_both_envs():
    assert dialogue_gym.env_ids() == ("Persuasion-v0", "Counseling-v0")
    for env_id in dialogue_gym.env_ids():
        assert env_id in gym.registry
        assert gym.spec(env_id).entry_point == dialogue_gym.domain_of(env_id).entry_point


def test_module_colon_id_works_without_prior_import():
    code = (
        "import gymnasium as gym; env = gym.make('dialogue_gym:Counseling-v0'); "
        "obs, info = env.reset(seed=1); print(type(env.unwrapped).__name__)"
    )
    assert _run(code) == "CounselingEnv"


def test_subpackages_live_under_dialogue_gym_and_no_top_level_agents():
    code = (
        "import importlib.util as u; import dialogue_gym.agents, dialogue_gym.simulators, "
        "dialogue_gym.hindsight; print(u.find_spec('agents') is None, "
        "u.find_spec('simulators') is None, u.find_spec('hindsight') is None)"
    )
    assert _run(code) == "True True True"


def test_import_stays_light():
    code = (
        "import sys, dialogue_gym, gymnasium as gym; gym.make('Persuasion-v0').reset(seed=0); "
        "print(sorted(m for m in ('torch', 'transformers', 'stable_baselines3', 'sklearn') "
        "if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_console_script_lists_envs():
    out = run_cli("list")
    assert out.returncode == 0
    assert "Persuasion-v0" in out.stdout and "Counseling-v0" in out.stdout
