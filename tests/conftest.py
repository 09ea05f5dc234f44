"""Shared fixtures: the real data folder (tests using it skip when it is absent).

The data folder is found as the CLI finds it: ``pytest --data DIR``, else ``$DIALOGUE_GYM_DATA``,
else ``../shared/data`` beside this checkout (:mod:`dialogue_gym.data_paths`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One BLAS/OpenMP thread in the test processes and every CLI they start: the suite already runs
# one worker per core, and a second thread per process only contends on a busy 2-core machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def pytest_addoption(parser):
    """``--data DIR``: the real corpora, as the CLI's ``--data``."""
    parser.addoption("--data", default=None, help="the real data folder (as the CLI's --data)")


def pytest_collection_modifyitems(config, items):
    """Files with slow tests first: under pytest-xdist (``--dist loadfile``: one file per worker
    at a time) the long ones then start at once instead of trailing alone at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: file order kept otherwise


@pytest.fixture(scope="session")
def shared_data(pytestconfig) -> Path:
    """The real data folder holding both corpora, or skip the test saying where it looked."""
    from dialogue_gym.data_paths import missing_files, resolve_data_dir

    path, source = resolve_data_dir(pytestconfig.getoption("--data"))
    missing = missing_files(path)
    if missing:
        pytest.skip(f"the real corpora are not at {path} (from {source}): missing {missing[0]}")
    return path


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One torch thread for the whole suite: its models are tiny, and on a busy 2-core machine a
    second thread makes them slower, not faster (``benchmarks/bench_threads.py``)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def private_llm_cache(tmp_path_factory):
    """No test reads or writes the user's completion cache (``~/.cache/dialogue-gym``)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIALOGUE_GYM_CACHE_DIR", str(tmp_path_factory.mktemp("llm-cache")))
        yield
