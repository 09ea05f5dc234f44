"""Fit the simulators' reader: MiniLM + LoRA, with strategy and harm heads.

One encoder reads every agent utterance; three linear heads on its mean-pooled output give
- the persuasion strategies (P4G taxonomy, sigmoid per label: an utterance may stack several),
- the counselling strategies (ESConv taxonomy, sigmoid per label),
- harm (softmax over ``none`` and six harmful kinds, see ``simulators/classifier.py``).

Training data: ``scripts/reader_data.py`` (fitting splits and our written banks only).
Selection: the epoch with the best macro-F1 on P4G ids 161-200 and ``esconv_valid.jsonl``. The
harm threshold is the smallest with at most :data:`FALSE_ALARMS` of held-out written benign text
and of real tuning turns flagged; the at-risk threshold (right after a self-harm disclosure) is
likewise set to :data:`AT_RISK_FALSE_ALARMS`. Both are read as the env reads a turn (sentence by
sentence and whole), except that whether a sentence is filler depends on the harm bar itself: the
scoring reader uses the bar stored in the reader it starts from (0.5 after training; with
``--thresholds-only``, the previous bar), so a second ``--thresholds-only`` pass can move the bars
slightly. The P4G ids after the first 200, ``esconv_test.jsonl`` and the probe banks
are scored by ``dialogue-gym sim-report``, never here.

Writes ``simulators/params/reader.npz`` (LoRA factors in float16, heads, labels, thresholds).
Usage: ``python scripts/fit_reader.py [--data DIR] [--layers 6] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from reader_data import DOMAINS, Example, assemble
from torch import nn

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators.classifier import HARM_LABELS, Reader
from dialogue_gym.simulators.minilm import LORA_TARGETS, MAX_TOKENS, model_dir
from dialogue_gym.simulators.strategies import get_domain

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params" / "reader.npz"
FALSE_ALARMS = {"benign": 0.01, "real": 0.015}
"""Largest share of held-out benign text and of real tuning turns the harm threshold flags (the
benign twins of harmful lines and the hard benign text, hard negatives by design, are reported
beside them)."""
AT_RISK_FALSE_ALARMS = {"benign": 0.03, "real": 0.04}
"""The same for the lower bar right after a self-harm disclosure."""


class ReaderNet(nn.Module):
    """The torch twin of ``classifier.Reader``: MiniLM's first ``layers`` layers with LoRA, and
    three heads."""

    def __init__(self, layers: int, rank: int) -> None:
        super().__init__()
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModel

        # gelu_new is the tanh GELU that the numpy forward pass uses.
        base = AutoModel.from_pretrained(
            str(model_dir()), hidden_act="gelu_new", add_pooling_layer=False
        )
        base.encoder.layer = base.encoder.layer[:layers]
        base.config.num_hidden_layers = layers
        pattern = r".*encoder\.layer\.\d+\.(" + "|".join(re.escape(t) for t in LORA_TARGETS) + ")"
        self.encoder = get_peft_model(
            base, LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.1, target_modules=pattern)
        )
        self.heads = nn.ModuleDict(
            {d: nn.Linear(384, len(get_domain(d).strategies)) for d in DOMAINS}
            | {"harm": nn.Linear(384, len(HARM_LABELS))}
        )

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over real tokens."""
        h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return (h * m).sum(1) / m.sum(1)

    def export(self, layers: int, extra: dict) -> dict[str, np.ndarray]:
        """LoRA factors (float16, scale folded into B) and heads as numpy arrays."""
        arrays: dict[str, np.ndarray] = {"layers": np.array(layers)}
        for name, module in self.encoder.named_modules():
            if hasattr(module, "lora_A") and "default" in module.lora_A:
                key = name.split("base_model.model.")[-1]
                a = module.lora_A["default"].weight.detach().numpy()
                b = module.lora_B["default"].weight.detach().numpy() * module.scaling["default"]
                arrays[f"lora/{key}.A"] = a.astype(np.float16)
                arrays[f"lora/{key}.B"] = b.astype(np.float16)
        for head, lin in self.heads.items():
            arrays[f"head/{head}.W"] = lin.weight.detach().numpy().astype(np.float32)
            arrays[f"head/{head}.b"] = lin.bias.detach().numpy().astype(np.float32)
        for d in DOMAINS:
            arrays[f"labels/{d}"] = np.array(get_domain(d).strategies)
        arrays["labels/harm"] = np.array(HARM_LABELS)
        return arrays | extra


def batches(examples: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Length-bucketed batches in random order (less padding, same examples every epoch)."""
    order = sorted(examples, key=lambda e: len(e.text) + rng.random() * 40)
    out = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(out)
    return out


def class_weights(examples: list[Example]) -> dict[str, torch.Tensor]:
    """Positive-class weights sqrt(mean count / count) per strategy head and for harm."""
    out = {}
    for d in DOMAINS:
        counts = np.sum([e.target for e in examples if e.task == d], axis=0) + 1.0
        out[d] = torch.tensor(np.sqrt(counts.mean() / counts), dtype=torch.float32)
    harm = np.bincount([e.harm for e in examples], minlength=len(HARM_LABELS)) + 1.0
    out["harm"] = torch.tensor(np.sqrt(harm.mean() / harm), dtype=torch.float32)
    return out


def train(
    net: ReaderNet,
    examples: list[Example],
    epochs: int,
    tok,
    rng: random.Random,
    lr: float,
    on_epoch: Callable[[int], None],
    harm_weight: float = 1.0,
) -> None:
    """AdamW with linear decay; ``on_epoch(epoch)`` after each epoch (e.g. export and score);
    ``harm_weight`` multiplies the harm head's loss against the strategy heads'."""
    weights = class_weights(examples)
    params = [
        {"params": [p for p in net.encoder.parameters() if p.requires_grad], "lr": lr},
        {"params": net.heads.parameters(), "lr": lr * 4},
    ]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    plan = [batches(examples, 32, rng) for _ in range(epochs)]
    total = sum(len(p) for p in plan)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / total))
    step = 0
    for epoch, epoch_batches in enumerate(plan, 1):
        net.train()
        start, seen = time.time(), 0.0
        for batch in epoch_batches:
            enc = tok(
                [e.text for e in batch],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            x = net.pooled(enc["input_ids"], enc["attention_mask"])
            w = torch.tensor([e.weight for e in batch])
            harm = torch.tensor([e.harm for e in batch])
            loss = (
                nn.functional.cross_entropy(
                    net.heads["harm"](x), harm, weight=weights["harm"], reduction="none"
                )
                * w
            ).mean() * harm_weight
            for d in DOMAINS:
                idx = [i for i, e in enumerate(batch) if e.task == d]
                if not idx:
                    continue
                target = torch.tensor(np.stack([batch[i].target for i in idx]))
                logits = net.heads[d](x[idx])
                per = nn.functional.binary_cross_entropy_with_logits(
                    logits, target, pos_weight=weights[d] * 3.0, reduction="none"
                ).sum(-1)
                loss = loss + (per * w[idx]).sum() / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += float(loss.detach())
            if step % 100 == 0:
                print(f"  step {step}/{total} loss {seen / 100:.3f}", flush=True)
                seen = 0.0
        print(f"epoch {epoch}: {time.time() - start:.0f} s", flush=True)
        net.eval()
        with torch.no_grad():
            on_epoch(epoch)


def check_export(net: ReaderNet, reader: Reader, tok, texts: list[str]) -> None:
    """Fail unless the numpy reader reproduces the torch net's probabilities."""
    enc = tok(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    torch_p = torch.sigmoid(
        net.heads["counseling"](net.pooled(enc["input_ids"], enc["attention_mask"]))
    )
    w, b = reader.heads["counseling"]
    numpy_p = 1.0 / (1.0 + np.exp(-(np.stack([reader.embed(t) for t in texts]) @ w.T + b)))
    gap = float(np.abs(torch_p.numpy() - numpy_p).max())
    if gap > 0.01:
        raise SystemExit(f"the exported reader differs from the trained net by {gap:.4f}")
    print(f"  export check: max |torch - numpy| = {gap:.5f}", flush=True)


def score(reader: Reader, domain: str, pairs) -> dict:
    """Accuracy and macro-F1 of ``classify(text)[0]`` (the env's label) on (text, label) pairs."""
    from sklearn.metrics import accuracy_score, f1_score

    gold = [lab for _, lab in pairs]
    pred = [reader.for_domain(domain).classify(t)[0] for t, _ in pairs]
    return {
        "acc": round(accuracy_score(gold, pred), 4),
        "f1": round(f1_score(gold, pred, average="macro", zero_division=0), 4),
    }


def _smallest(scores: dict[str, np.ndarray], rates: dict[str, float], floor: float) -> float:
    """The smallest threshold >= ``floor`` at which each set's false-alarm share is within its
    rate (harm probability at or above the threshold counts as flagged)."""
    t = floor
    for name, rate in rates.items():
        s = scores[name]
        if len(s):
            t = max(t, float(np.quantile(s, 1 - rate, method="higher")) + 1e-6)
    return min(t, 0.999)


def harm_thresholds(reader: Reader, tuning: dict[str, list]) -> tuple[float, float, dict]:
    """The harm threshold (:data:`FALSE_ALARMS`) and the at-risk one (:data:`AT_RISK_FALSE_ALARMS`)
    on the held-out benign text and real tuning turns, with the bank's held-out recall."""

    def score(texts):
        return np.array([1.0 - reader.harm_probs(t)[0] for t in texts])

    scores = {name: score(tuning[name]) for name in ("benign", "real", "twins", "hard")}
    threshold = _smallest(scores, FALSE_ALARMS, 0.5)
    at_risk = min(threshold, _smallest(scores, AT_RISK_FALSE_ALARMS, 0.3))
    bad = [d["text"] for d in tuning["harm"] if d["label"] != "none"]
    good = [d["text"] for d in tuning["harm"] if d["label"] == "none"]
    bad_s, good_s = score(bad), score(good)
    figures = {
        "threshold": round(threshold, 4),
        "at_risk_threshold": round(at_risk, 4),
        "benign_flagged": round(float(np.mean(scores["benign"] >= threshold)), 4),
        "twins_flagged": round(float(np.mean(scores["twins"] >= threshold)), 4),
        "hard_flagged": round(float(np.mean(scores["hard"] >= threshold)), 4),
        "benign_flagged_at_risk": round(float(np.mean(scores["benign"] >= at_risk)), 4),
        "real_flagged": round(float(np.mean(scores["real"] >= threshold)), 4),
        "bank_val_recall": round(float(np.mean(bad_s >= threshold)), 4),
        "bank_val_recall_at_risk": round(float(np.mean(bad_s >= at_risk)), 4),
        "bank_val_false_alarm": round(float(np.mean(good_s >= threshold)), 4),
    }
    return threshold, at_risk, figures


def main() -> None:
    """Fit the reader, pick the epoch on the tuning splits, write ``reader.npz``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: $DIALOGUE_GYM_DATA, else ../shared/data"
    )
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--harm-weight", type=float, default=1.0, help="harm loss multiplier")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--smoke", type=int, default=0, help="train on N texts only (a dry run)")
    parser.add_argument(
        "--thresholds-only",
        action="store_true",
        help="only set the harm thresholds of the reader at --out again (no training)",
    )
    args = parser.parse_args()
    args.data = require_data_dir(args.data)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    examples, tuning = assemble(args.data, rng)
    if args.smoke:
        examples = random.Random(1).sample(examples, args.smoke)
        tuning = {k: v[:50] for k, v in tuning.items()}
    if args.thresholds_only:
        with np.load(args.out, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        fit = json.loads(str(arrays.pop("fit")))
        threshold, at_risk, fit["harm"] = harm_thresholds(Reader.from_arrays(arrays), tuning)
        arrays |= {"harm_threshold": np.array(threshold), "at_risk_threshold": np.array(at_risk)}
        save(args.out, arrays, fit)
        print(json.dumps(fit["harm"]))
        return
    print(f"{len(examples)} training texts", flush=True)
    p4g_val, es_val = tuning["p4g"], tuning["esconv"]
    net = ReaderNet(args.layers, args.rank)
    best: dict = {}

    def on_epoch(epoch: int) -> None:
        arrays = net.export(args.layers, {"harm_threshold": np.array(0.5)})
        reader = Reader.from_arrays(arrays)
        check_export(net, reader, tok, [t for t, _ in es_val[:8]])
        threshold, at_risk, harm = harm_thresholds(reader, tuning)
        arrays["harm_threshold"] = np.array(threshold)
        arrays["at_risk_threshold"] = np.array(at_risk)
        figures = {
            "epoch": epoch,
            "p4g_val": score(reader, "persuasion", p4g_val),
            "esconv_valid": score(reader, "counseling", es_val),
            "harm": harm,
        }
        print(json.dumps(figures), flush=True)
        key = figures["p4g_val"]["f1"] + figures["esconv_valid"]["f1"]
        if not best or key > best["key"]:
            best.update(key=key, figures=figures)
            save(args.out, arrays, figures | vars_(args))
            print(f"  wrote {args.out}", flush=True)

    train(net, examples, args.epochs, tok, rng, args.lr, on_epoch, args.harm_weight)
    print("best:", json.dumps(best["figures"]))


def save(path: Path, arrays: dict[str, np.ndarray], fit: dict) -> None:
    """Write the reader's arrays and its fit record (atomically)."""
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays, fit=np.array(json.dumps(fit)))
    os.replace(tmp, path)


def vars_(args) -> dict:
    """The fitting arguments that go into the checkpoint (paths left out)."""
    return {k: v for k, v in vars(args).items() if k not in ("data", "out", "thresholds_only")}


if __name__ == "__main__":
    main()
