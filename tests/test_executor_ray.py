"""The Ray backend gives what the local one gives: a Ray head on 127.0.0.1 started by this module
(``ray.init`` here; the CLI runs join it with ``--ray-address``), shut down at the end.

Same episodes, evaluations, regenerations and benchmark figures on either backend; a worker
killed mid-run and a driver killed mid-run lose and duplicate nothing; LLM users keep the
per-worker concurrency limit and the shared completion cache, and their API key reaches the
workers through the environment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from dialogue_gym import evaluate  # noqa: E402
from dialogue_gym.executor import LOCAL_RAY_CONFIG, Backend, runtime_env  # noqa: E402
from dialogue_gym.generate import generate  # noqa: E402
from dialogue_gym.llm.fake_server import FakeChatServer  # noqa: E402

pytestmark = pytest.mark.slow  # the fast subset (-m 'not slow') leaves this file out

KEY = "sk-ray-test-key-0123"


@pytest.fixture(scope="module")
def head():
    """A Ray head on 127.0.0.1 for this module; its GCS address for ``--ray-address``."""
    saved = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = KEY  # forwarded to workers by the runtime environment
    ray.init(
        _node_ip_address="127.0.0.1",
        num_cpus=2,
        include_dashboard=False,
        runtime_env=runtime_env(),
        log_to_driver=False,
        _system_config=LOCAL_RAY_CONFIG,
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = saved


def _lines(path: Path) -> list[dict]:
    """Episodes of a JSONL file without their wall-clock timestamps."""
    out = []
    for line in path.read_text().splitlines():
        e = json.loads(line)
        for t in e["turns"]:
            t.pop("timestamp")
        out.append(e)
    return out


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialogue_gym.cli", *args]


def test_generate_evaluate_and_hindsight_match_the_local_backend(head, tmp_path):
    ray_backend = Backend("ray", head, workers=2)
    for where, backend in (("local", Backend()), ("ray", ray_backend)):
        generate(
            "Persuasion-v0",
            "human-like",
            40,
            tmp_path / f"{where}.jsonl",
            seed=7,
            progress=False,
            backend=backend,
        )
    assert _lines(tmp_path / "ray.jsonl") == _lines(tmp_path / "local.jsonl")
    local = evaluate("scripted", "Counseling-v0", 8, seed=3, progress=False)
    remote = evaluate("scripted", "Counseling-v0", 8, seed=3, progress=False, backend=ray_backend)
    assert [e.reward for e in remote.episodes] == [e.reward for e in local.episodes]
    for key in ("mean_return", "ci95", "success_rate", "normalized_score", "oracle_mean_return"):
        assert remote.summary[key] == local.summary[key]
    from dialogue_gym.hindsight.pipeline import run

    for where, backend in (("local", Backend()), ("ray", ray_backend)):
        summary = run(
            tmp_path / "local.jsonl",
            tmp_path / f"regen-{where}.jsonl",
            encoder="hash:256",
            progress=False,
            backend=backend,
        )
        assert summary["written_now"] > 0 and not summary["errors"]
    assert _lines(tmp_path / "regen-ray.jsonl") == _lines(tmp_path / "regen-local.jsonl")


def test_benchmark_figures_match_the_local_backend(head, tmp_path):
    from tiny_benchmark import tiny

    from dialogue_gym.benchmark import BenchmarkConfig, run_benchmark

    def cfg() -> BenchmarkConfig:
        sizes = dict(dataset_episodes=30, eval_episodes=4, offline_steps=5, ppo_steps=32)
        return tiny(encoder="hash:256", **sizes)

    run_benchmark(cfg(), tmp_path / "local", log=lambda m: None)
    run_benchmark(
        cfg(), tmp_path / "ray", log=lambda m: None, backend=Backend("ray", head, workers=2)
    )

    def figures(where: str) -> list:
        results = json.loads((tmp_path / where / "benchmark.json").read_text())["results"]
        for r in results:  # wall-clock times differ; nothing else may
            r.pop("seconds"), r.pop("stage_seconds")
        return json.loads(
            json.dumps(results).replace("wall_time_s", "x"),
            object_hook=lambda d: {k: v for k, v in d.items() if k not in ("x", "throughput_eps")},
        )

    assert figures("ray") == figures("local")
    assert (tmp_path / "local" / "benchmark.md").read_text() == (
        tmp_path / "ray" / "benchmark.md"
    ).read_text()
    for name in ("behaviour-seed1.jsonl", "regenerated-true-env-seed1.jsonl"):
        assert _lines(tmp_path / "ray" / "Counseling-v0" / name) == _lines(
            tmp_path / "local" / "Counseling-v0" / name
        )


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.time() < deadline and proc.poll() is None:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} did not reach {n} episodes while the run was going")


def _ray_worker_pids() -> list[int]:
    """Processes of our Ray actors (Ray titles them ``ray::RayWorker``)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if title.startswith(b"ray::RayWorker"):
            pids.append(int(proc.name))
    return pids


def test_killed_worker_and_killed_driver_lose_and_duplicate_nothing(head, tmp_path):
    args = [
        "generate",
        "--env",
        "Counseling-v0",
        "--agent",
        "human-like",
        "--episodes",
        "240",
        "--seed",
        "11",
    ]
    generate("Counseling-v0", "human-like", 240, tmp_path / "local.jsonl", seed=11, progress=False)
    out = tmp_path / "ray.jsonl"
    ray_args = [
        *args,
        "--out",
        str(out),
        "--backend",
        "ray",
        "--ray-address",
        head,
        "--workers",
        "2",
    ]
    # a worker killed mid-run: Ray restarts it and retries its tasks
    proc = subprocess.Popen(_cli(*ray_args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _wait_for_lines(out, 20, proc, time.time() + 120)
    workers = _ray_worker_pids()
    assert workers, "no Ray worker found to kill"
    os.kill(workers[0], signal.SIGKILL)
    assert proc.wait(timeout=300) == 0, proc.stdout.read().decode()[-2000:]
    assert _lines(out) == _lines(tmp_path / "local.jsonl")
    # the driver killed mid-run: a rerun skips what was written and writes the rest once
    out.unlink()
    proc = subprocess.Popen(_cli(*ray_args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _wait_for_lines(out, 20, proc, time.time() + 120)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    written = len(out.read_text().splitlines())
    assert 0 < written < 240
    rerun = subprocess.run(_cli(*ray_args), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "already there" in rerun.stdout
    episodes = _lines(out)
    assert len({e["id"] for e in episodes}) == len(episodes) == 240
    assert sorted(episodes, key=lambda e: e["seed"]) == _lines(tmp_path / "local.jsonl")


def _user(body: dict) -> str:
    time.sleep(0.05)  # long enough for requests to overlap
    return '{"donation": 0.5}' if "JSON" in body["messages"][-1]["content"] else "Go on."


def test_llm_users_keep_the_concurrency_limit_cache_and_key_on_ray(head, tmp_path):
    ray_backend = Backend("ray", head, workers=2)
    with FakeChatServer(_user) as server:
        kw = {"simulator": "llm", "llm": f"{server.url}#fake", "max_turns": 2, "progress": False}
        generate(
            "Persuasion-v0",
            "scripted",
            12,
            tmp_path / "llm.jsonl",
            concurrency=2,
            backend=ray_backend,
            **kw,
        )
        first = server.requests
        assert 0 < server.max_in_flight <= 2 * 2  # workers x threads per worker
        assert server.api_keys == {KEY}  # from the workers' environment
        generate(
            "Persuasion-v0",
            "scripted",
            12,
            tmp_path / "again.jsonl",
            concurrency=2,
            backend=ray_backend,
            **kw,
        )
        assert server.requests == first  # the shared completion cache answered every request
    assert _lines(tmp_path / "again.jsonl") == _lines(tmp_path / "llm.jsonl")
    with pytest.raises(ValueError, match="number of workers sets the parallelism"):
        generate(
            "Persuasion-v0",
            "scripted",
            2,
            tmp_path / "x.jsonl",
            concurrency=2,
            backend=ray_backend,
            progress=False,
        )


def test_every_command_takes_the_ray_backend_from_the_command_line(head, tmp_path, capsys):
    from dialogue_gym.cli import main

    ray_args = ["--backend", "ray", "--ray-address", head, "--workers", "2"]
    data = tmp_path / "data.jsonl"
    assert (
        main(
            [
                "generate",
                "--env",
                "Persuasion-v0",
                "--agent",
                "human-like",
                "--episodes",
                "30",
                "--out",
                str(data),
                *ray_args,
            ]
        )
        == 0
    )
    for where, extra in (("local", []), ("ray", ray_args)):
        assert (
            main(
                [
                    "evaluate",
                    "--env",
                    "Persuasion-v0",
                    "--agent",
                    "scripted",
                    "--episodes",
                    "6",
                    "--no-oracle",
                    "--out",
                    str(tmp_path / f"eval-{where}.json"),
                    *extra,
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "hindsight",
                    "--in",
                    str(data),
                    "--out",
                    str(tmp_path / f"h-{where}.jsonl"),
                    "--encoder",
                    "hash:128",
                    *extra,
                ]
            )
            == 0
        )
    evals = [json.loads((tmp_path / f"eval-{w}.json").read_text()) for w in ("local", "ray")]
    assert [e["reward"] for e in evals[0]["episodes"]] == [
        e["reward"] for e in evals[1]["episodes"]
    ]
    assert _lines(tmp_path / "h-ray.jsonl") == _lines(tmp_path / "h-local.jsonl")
    bad = subprocess.run(
        _cli(
            "generate",
            "--env",
            "Persuasion-v0",
            "--agent",
            "scripted",
            "--episodes",
            "2",
            "--out",
            str(tmp_path / "x.jsonl"),
            "--backend",
            "ray",
            "--ray-address",
            "127.0.0.1:1",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "cannot reach the Ray cluster at 127.0.0.1:1" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "x.jsonl").exists()


CRASHING_AGENT = """
import os
from dialogue_gym.agents.base import Agent

class Crash(Agent):
    name = "crash"

    def __init__(self, domain):
        self.seed = None

    def reset(self, seed=None):
        self.seed = seed

    def act(self, observation, info):
        if self.seed == 2:
            os._exit(1)  # the worker process dies on this episode, every time
        return "Hello."
"""


def test_failures_on_ray_are_one_clear_error(head, tmp_path):
    """A task's own exception arrives as itself (a backend error stays a BackendError, not a
    wrapped Ray traceback); a worker that dies on the same episode every time stops the run
    after a bounded number of restarts."""
    from dialogue_gym.errors import BackendError
    from dialogue_gym.llm.fake_server import Fault

    ray_backend = Backend("ray", head, workers=2)
    with FakeChatServer(_user) as server:
        server.inject(*[Fault("status", status=401)] * 50)
        with pytest.raises(BackendError) as err:
            generate(
                "Persuasion-v0",
                "scripted",
                4,
                tmp_path / "x.jsonl",
                backend=ray_backend,
                simulator="llm",
                llm=f"{server.url}#fake",
                progress=False,
            )
    assert type(err.value) is BackendError and "ray::" not in str(err.value)
    agent = tmp_path / "crash.py"
    agent.write_text(CRASHING_AGENT)
    t = time.time()
    with pytest.raises(BackendError, match="a Ray worker died 4 times"):
        evaluate(
            f"{agent}:Crash",
            "Persuasion-v0",
            4,
            seed=0,
            progress=False,
            oracle=False,
            backend=ray_backend,
        )
    assert time.time() - t < 240
