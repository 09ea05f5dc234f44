"""Packaging: one import namespace, registration on import, the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80


def _project_sources() -> list[Path]:
    root = Path(__file__).resolve().parents[1]
    folders = ("dialogue_gym", "agents", "simulators", "hindsight", "scripts", "benchmarks")
    folders += ("examples",)
    return [p for folder in folders for p in sorted((root / folder).rglob("*.py"))]


def test_no_file_or_function_outgrows_the_size_a_reader_can_hold():
    """One job per file: no source file over 500 lines, no function over 80 (tests excepted)."""
    import ast

    long_files, long_functions = [], []
    for path in _project_sources():
        text = path.read_text()
        if text.count("\n") > MAX_FILE_LINES:
            long_files.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.name}:{node.name}: {size} lines")
    assert not long_files and not long_functions, long_files + long_functions
