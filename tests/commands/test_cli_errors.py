"""Bad input on every command that reads or writes files: one clear line, exit 2, no traceback,
and nothing half-written left behind."""

from __future__ import annotations

import pytest
from cli_run import run_cli

from dialogue_gym.cli import main


@pytest.fixture()
def files(tmp_path):
    """A missing file, a folder, a malformed JSONL, an empty file and an unwritable --out."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n{"id": "x"}\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    return {
        "missing": str(tmp_path / "missing.jsonl"),
        "folder": str(tmp_path),
        "bad": str(bad),
        "empty": str(empty),
        "unwritable": str(blocker / "out.jsonl"),  # its parent is a file: nothing can be written
        "out": str(tmp_path / "out.jsonl"),
    }


READERS = [
    # (command with {inp} and {out}, what the error names)
    "data stats {inp}",
    "data export {inp} --to sft --out {out}",
    "data export {inp} --to transitions-strategy --out {out}",
    "data convert --format p4g-json {inp} --out {out}",
    "data convert --format esconv-jsonl {inp} --out {out}",
    "hindsight --in {inp} --out {out}",
    "train --algo bc --data {inp} --out {out}",
]
EXPECT = {
    "missing": "No such file or directory",
    "folder": "Is a directory",
    "bad": "line 1",
    "empty": "empty",
}


@pytest.mark.parametrize("case", list(EXPECT))
@pytest.mark.parametrize("command", READERS)
def test_bad_input_gives_one_clear_line(command, case, files, capsys):
    argv = command.format(inp=files[case], out=files["out"]).split()
    if case in ("bad", "empty") and command.startswith("data convert"):
        pytest.skip("the converters read the corpora's own formats, checked below")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("dialogue-gym: error: ") and EXPECT[case] in err, err
    assert "Traceback" not in err
    assert not (files["out"] and __import__("os").path.exists(files["out"]))


def test_converters_name_malformed_corpus_files(files, capsys):
    for fmt in ("p4g-json", "esconv-jsonl"):
        for case in ("bad", "empty"):
            code = main(["data", "convert", "--format", fmt, files[case], "--out", files["out"]])
            err = capsys.readouterr().err
            assert code == 2 and err.startswith("dialogue-gym: error: "), err
            assert files[case] in err and "Traceback" not in err
    assert not __import__("os").path.exists(files["out"])


WRITERS = [
    "generate --env Persuasion-v0 --agent random --episodes 1 --out {out}",
    "evaluate --env Persuasion-v0 --agent random --episodes 1 --out {out}",
    "data export {inp} --to sft --out {out}",
    "hindsight --in {inp} --out {out}",
    "train --algo bc --data {inp} --out {out}",
    "sim-report --episodes 20 --out {out}",
]


@pytest.mark.parametrize("command", WRITERS)
def test_unwritable_out_is_refused_before_any_work(command, files, tmp_path, capsys):
    from dialogue_gym.generate import generate

    data = tmp_path / "ok.jsonl"
    generate("Persuasion-v0", "random", 3, data, progress=False)
    argv = command.format(inp=data, out=files["unwritable"]).split()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("dialogue-gym: error: ") and "a_file" in err, err
    assert "cannot write" in err and "Traceback" not in err


def test_a_real_process_prints_no_traceback(tmp_path):
    """End to end (the console entry, not ``main`` in-process): a missing file, exit 2."""

    proc = run_cli("data", "stats", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("dialogue-gym: error: ") and "nope.jsonl" in proc.stderr


def test_human_agent_with_no_input_stops_cleanly(tmp_path):
    """`generate --agent human` with stdin closed: an interrupt (130), no traceback, no file."""

    out = tmp_path / "h.jsonl"
    proc = run_cli(
        "generate",
        "--env",
        "Persuasion-v0",
        "--agent",
        "human",
        "--episodes",
        "1",
        "--out",
        str(out),
        stdin="",
        timeout=300,
    )
    assert proc.returncode == 130 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()


def test_bad_lines_beside_good_ones_are_named_and_skipped(tmp_path, capsys):
    """A file with valid episodes and a bad line: the command works and names the line."""
    from dialogue_gym.generate import generate

    data = tmp_path / "mixed.jsonl"
    generate("Persuasion-v0", "random", 2, data, progress=False)
    with open(data, "a") as f:
        f.write("{broken\n")
    assert main(["data", "stats", str(data)]) == 0
    out = capsys.readouterr().out
    assert "2 episodes" in out and "line 3" in out and "1 bad line(s)" in out
    sft = tmp_path / "sft.jsonl"
    assert main(["data", "export", str(data), "--to", "sft", "--out", str(sft)]) == 0
    assert "line 3" in capsys.readouterr().err and sft.exists()


def test_errors_have_one_hierarchy_with_the_builtin_bases():
    import gymnasium as gym

    from dialogue_gym import errors
    from dialogue_gym.domains import domain_of

    with pytest.raises(errors.InvalidOption) as e:  # gym.make re-raises it as its own type
        gym.make("Persuasion-v0", colour="blue")
    assert isinstance(e.value, TypeError) and "colour" in str(e.value)
    env = gym.make("Counseling-v0").unwrapped
    with pytest.raises(errors.UsageError, match="before reset"):
        env.step("Hello.")
    env.reset(seed=0)
    with pytest.raises(errors.InvalidOption):
        env.step(42)
    with pytest.raises(errors.InvalidInput, match="allowed: Persuasion-v0, Counseling-v0"):
        domain_of("Chess-v0")
    for cls in (errors.InvalidInput, errors.InvalidData, errors.InvalidOption):
        assert issubclass(cls, ValueError) and issubclass(cls, errors.DialogueGymError)
    assert issubclass(errors.BackendError, RuntimeError)
    assert issubclass(errors.UsageError, RuntimeError)


def test_cli_maps_our_errors_and_lets_bugs_show(monkeypatch, capsys):
    """Our InvalidInput exits 2 with one line; any other exception is a bug and propagates."""
    from dialogue_gym import errors
    from dialogue_gym.commands import listing

    def refuse(args):
        raise errors.InvalidInput("episodes must be >= 1, got 0")

    def buggy(args):
        return int("not a number")  # a plain ValueError from our own mistake

    monkeypatch.setattr(listing, "run", refuse)
    assert main(["list"]) == 2
    assert capsys.readouterr().err == "dialogue-gym: error: episodes must be >= 1, got 0\n"
    monkeypatch.setattr(listing, "run", buggy)
    with pytest.raises(ValueError, match="invalid literal"):
        main(["list"])


@pytest.mark.parametrize(
    "content, kind",
    [
        ('[{"dialogue_id": "x", "conversation": ["Hi", "Hello"]}]\n', "p4g-json"),
        (
            '{"dialog": [{"speaker": "usr", "content": "hi"}], "problem_type": "job"}\n',
            "esconv-jsonl",
        ),
        ('{"id": "x"}\n', None),
    ],
)
def test_a_corpus_file_read_as_episodes_points_to_the_converter(tmp_path, capsys, content, kind):
    path = tmp_path / "corpus.json"
    path.write_text(content)
    assert main(["data", "stats", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no valid episode" in err
    if kind:
        assert f"dialogue-gym data convert --format {kind} {path}" in err
    else:
        assert "data convert" not in err


def test_benchmark_reuse_needs_agents_and_a_finished_run(tmp_path, capsys):
    assert main(["benchmark", "--reuse", str(tmp_path)]) == 2
    assert "give --add-agent SPEC" in capsys.readouterr().err
    assert main(["benchmark", "--reuse", str(tmp_path), "--add-agent", "random"]) == 2
    assert "no finished benchmark" in capsys.readouterr().err


def test_benchmark_sizes_come_from_the_flags_and_bad_ones_are_refused(capsys):
    from dialogue_gym.cli import build_parser
    from dialogue_gym.commands.benchmark import config

    parse = build_parser().parse_args
    args = parse(["benchmark", "--quick", "--offline-steps", "700", "--ppo-steps", "64"])
    cfg = config(args)
    assert (cfg.offline_steps, cfg.ppo_steps, cfg.dataset_episodes) == (700, 64, 200)
    full = config(parse(["benchmark"]))
    assert (full.dataset_episodes, full.offline_steps, full.sweep_sizes) == (1000, 1000, (200, 500))
    for flag, name in (("--offline-steps", "offline_steps"), ("--seeds", "train_seeds")):
        assert main(["benchmark", flag, "0"]) == 2  # not silently the default
        assert f"{name} must be >= 1" in capsys.readouterr().err
