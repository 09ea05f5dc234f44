"""The support check's false alarms and catches on text it never saw (``hindsight.support``).

For each env, the check is fitted on the agent turns of its train data (``--data DIR``: the real
P4G and ESConv train dialogues; without it, ``--episodes`` simulated human-like episodes). It
then reads:

- **held-out agent turns** (the real test dialogues' persuader / supporter turns; or a second
  simulated dataset from other seeds): each one flagged is a false alarm;
- **off-task and harmful lines** from the held-out probe banks (``simulators/probes``:
  ``offtask.jsonl`` and ``harm.jsonl``, written without sight of any training data): each one
  flagged is a catch;
- **kind, on-task lines** (``benign.jsonl``): neither; the share flagged says how much ordinary
  wording the data never used.

Usage: ``python benchmarks/bench_support.py [--data ../shared/data] [--encoder minilm]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from dialogue_gym.domains import env_domain
from dialogue_gym.generate import generate
from dialogue_gym.hindsight.support import SupportCheck
from dialogue_gym.jsonl import read_episodes

PROBES = Path(__file__).resolve().parents[1] / "simulators" / "probes"


def bank(name: str, domain: str) -> list[str]:
    """The texts of one probe bank for ``domain`` (lines marked ``both`` included; the harm
    bank's harmless controls, label ``none``, left out)."""
    rows = [json.loads(line) for line in (PROBES / name).read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("label") != "none"]  # the harm bank's controls
    return [r["text"] for r in rows if r.get("domain", "both") in ("both", domain)]


def data(env_id: str, args: argparse.Namespace, tmp: Path) -> tuple[list, list[str]]:
    """Train episodes and the held-out agent turns for ``env_id``."""
    if args.data:
        from dialogue_gym.benchmark.regimes import joined_turns
        from dialogue_gym.loaders import load_esconv_jsonl, load_p4g_json

        root = Path(args.data)
        if env_domain(env_id) == "persuasion":
            train = load_p4g_json(root / "p4g" / "train.json")
            test = load_p4g_json(root / "p4g" / "test.json")
        else:
            train = load_esconv_jsonl(root / "esconv" / "esconv_train.jsonl")
            test = load_esconv_jsonl(root / "esconv" / "esconv_test.jsonl")
        for e in (*train, *test):
            e.turns = joined_turns(e.turns)
    else:
        paths = tmp / f"{env_id}-train.jsonl", tmp / f"{env_id}-test.jsonl"
        generate(env_id, "human-like", args.episodes, paths[0], seed=0, progress=False)
        generate(env_id, "human-like", args.episodes, paths[1], seed=10**6, progress=False)
        train, test = (read_episodes(p)[0] for p in paths)
    seen = {t.text for e in train for t in e.turns}
    held = sorted({t.text for e in test for t in e.turns if t.role == "assistant"} - seen)
    return train, held


def main() -> None:
    """Print one Markdown row per env."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="the shared data folder (real corpora)")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--encoder", default="minilm")
    args = parser.parse_args()
    source = "real train / test dialogues" if args.data else "simulated human-like episodes"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.encoder}; {source}")
    print(
        "| env | distinct train agent turns | threshold | false alarms, held-out agent turns | "
        "caught, off-task | caught, harmful | flagged, kind on-task | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for env_id in ("Persuasion-v0", "Counseling-v0"):
            t = time.time()
            train, held = data(env_id, args, Path(tmp))
            check = SupportCheck(train, args.encoder)
            domain = env_domain(env_id)

            def share(texts: list[str], check: SupportCheck = check) -> str:
                flagged = check.similarity(texts) < check.threshold
                return f"{flagged.mean():.3f} ({int(flagged.sum())} of {len(texts)})"

            cells = [
                str(check.turns),
                f"{check.threshold:.3f}",
                share(held),
                share(bank("offtask.jsonl", domain)),
                share(bank("harm.jsonl", domain)),
                share(bank("benign.jsonl", domain)),
            ]
            print(f"| {env_id} | " + " | ".join(cells) + f" | {time.time() - t:.0f} |", flush=True)


if __name__ == "__main__":
    main()
