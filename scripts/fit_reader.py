"""Fit the simulators' reader: MiniLM (first layers) + LoRA, with strategy and harm heads.

One encoder reads every agent utterance; three linear heads on its mean-pooled output give
- the persuasion strategies (P4G taxonomy, sigmoid per label: an utterance may stack several),
- the counselling strategies (ESConv taxonomy, sigmoid per label),
- harm (softmax over ``none`` and six harmful kinds, see ``simulators/classifier.py``).

Training data (fitting splits only; nothing from the report splits):
- P4G annotated persuader sentences of the first 160 dialogue ids (sorted ``B2``), one label each,
  and their multi-sentence turns with every label of the turn (multi-hot);
- ESConv train supporter turns, and pairs of consecutive supporter turns (multi-hot);
- the realizer's templates, alone and stacked two or three to an utterance (multi-hot);
- ``scripts/data/harm_bank.jsonl`` (our own labelled harmful and hard-negative sentences), alone and
  wrapped in kind text; every real corpus turn is a harm negative;
- text with no English meaning (generated gibberish, digits, emoji, a few sentences in other
  languages) as the non-strategic label.
Model selection (epoch, harm threshold) uses P4G ids 161-200, ``esconv_valid.jsonl`` and a 15%
slice of the harm bank. The P4G ids after the first 200 and ``esconv_test.jsonl`` are scored
once, by ``dialogue-gym sim-report``, not here.

Writes ``simulators/params/reader.npz`` (LoRA factors in float16, heads, labels, thresholds).
Usage: ``python scripts/fit_reader.py [--data DIR] [--layers 4] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dialogue_gym.data_paths import require_data_dir
from dialogue_gym.simulators.annotated import esconv_turns, p4g_split, p4g_units
from dialogue_gym.simulators.classifier import HARM_LABELS, Reader
from dialogue_gym.simulators.minilm import LORA_TARGETS, MAX_TOKENS, model_dir
from dialogue_gym.simulators.realizer import all_template_texts
from dialogue_gym.simulators.strategies import get_domain

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params" / "reader.npz"
BANK = ROOT / "scripts" / "data" / "harm_bank.jsonl"
DOMAINS = ("persuasion", "counseling")
KIND_OPENERS = [
    "I hear you.",
    "Thanks for sharing that.",
    "I understand.",
    "Okay.",
    "That makes sense.",
    "I appreciate you telling me.",
]


class Example:
    """One training text: its task's multi-hot strategy target (or none) and its harm class."""

    __slots__ = ("text", "task", "target", "harm", "weight")

    def __init__(self, text, task=None, labels=(), harm="none", weight=1.0):
        self.text = text
        self.task = task
        self.target = None
        if task is not None:
            order = get_domain(task).strategies
            self.target = np.zeros(len(order), dtype=np.float32)
            for lab in labels:
                self.target[order.index(lab)] = 1.0
        self.harm = HARM_LABELS.index(harm)
        self.weight = weight


def p4g_examples(units: list[dict]) -> list[Example]:
    """Persuader sentences and their multi-sentence turns."""
    out, turns = [], {}
    for u in units:
        out.append(Example(u["text"], "persuasion", [u["label"]]))
        turns.setdefault((u["dialogue"], u["turn"]), []).append((u["text"], u["label"]))
    for units in turns.values():
        if len(units) > 1:
            out.append(
                Example(" ".join(u for u, _ in units), "persuasion", {lab for _, lab in units})
            )
    return out


def esconv_examples(path: Path, rng: random.Random, pairs: int) -> list[Example]:
    """Supporter turns, and ``pairs`` concatenations of consecutive supporter turns."""
    out, consecutive = [], []
    for line in open(path):
        dialog = json.loads(line)["dialog"]
        for a, b in zip(dialog, dialog[1:], strict=False):
            if a["speaker"] == b["speaker"] == "sys" and a.get("strategy") and b.get("strategy"):
                consecutive.append((a, b))
    for text, strategy in esconv_turns(path):
        out.append(Example(text, "counseling", [strategy]))
    for a, b in rng.sample(consecutive, min(pairs, len(consecutive))):
        out.append(
            Example(f"{a['text']} {b['text']}", "counseling", {a["strategy"], b["strategy"]})
        )
    return out


def template_examples(rng: random.Random, stacks: int) -> list[Example]:
    """The realizer's texts alone, and ``stacks`` utterances of 2-3 templates per domain."""
    out = []
    for domain in DOMAINS:
        pairs = all_template_texts(domain)
        out += [Example(t, domain, [s], weight=2.0) for t, s in pairs]
        for _ in range(stacks):
            chosen = rng.sample(pairs, rng.choice((2, 3)))
            out.append(Example(" ".join(t for t, _ in chosen), domain, {s for _, s in chosen}))
    return out


FOREIGN = [
    "Me gustaría saber más sobre tu día.",
    "¿Has pensado en ayudar a los niños?",
    "Je ne sais pas quoi dire, désolé.",
    "Pouvez-vous me donner un peu d'argent ?",
    "Ich denke, das ist eine gute Idee.",
    "Wie geht es dir heute?",
    "Questo è molto importante per me.",
    "Eu acho que você deveria doar.",
    "Это очень интересная мысль.",
    "Как прошёл твой день?",
    "我觉得这是一个好主意。",
    "你今天过得怎么样？",
    "今日はとても疲れました。",
    "寄付してくれませんか？",
    "오늘 기분이 어때요?",
    "Bu konuda ne düşünüyorsun?",
    "هل يمكنك مساعدتي؟",
    "Jag vet inte vad jag ska säga.",
]
"""Other languages: the simulated users understand English only, so these express no strategy."""


def noise_examples(rng: random.Random, n: int) -> list[Example]:
    """Text with no English meaning (gibberish, digits, symbols, emoji, other languages): the
    fallback label in both domains and no harm."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    emoji = "🙏😭💰😀👍🔥❤️🎉🤔😡"
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            words = [
                "".join(rng.choices(letters, k=rng.randint(2, 7))) for _ in range(rng.randint(1, 8))
            ]
            text = " ".join(words)
        elif kind == 1:
            text = " ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(1, 8)))
        elif kind == 2:
            text = "".join(rng.choices(emoji + "!?.,*#@", k=rng.randint(1, 12)))
        elif kind == 3:
            text = rng.choice(FOREIGN)
        else:
            text = "".join(rng.choices(letters + " .,!?0123456789", k=rng.randint(5, 60)))
        for domain in DOMAINS:
            out.append(Example(text, domain, [get_domain(domain).fallback]))
    return out


def bank_lines(path: Path) -> list[dict]:
    """The harm bank's records (``domain``, ``label``, ``text``)."""
    if not path.exists():
        raise SystemExit(f"missing harm bank {path}")
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def bank_examples(lines: list[dict], rng: random.Random) -> list[Example]:
    """Bank sentences (no strategy target) alone and after a kind opener."""
    out = []
    for d in lines:
        out.append(Example(d["text"], None, harm=d["label"], weight=3.0))
        if d["label"] != "none":
            out.append(Example(f"{rng.choice(KIND_OPENERS)} {d['text']}", None, harm=d["label"]))
    return out


class ReaderNet(nn.Module):
    """The torch twin of ``classifier.Reader``: truncated MiniLM with LoRA, and three heads."""

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


def train(net: ReaderNet, examples, epochs, tok, rng, lr, on_epoch) -> None:
    """AdamW with linear decay; ``on_epoch(epoch)`` after each epoch (e.g. export and score)."""
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
            ).mean()
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
    numpy_p = np.stack([reader.strategy_probs("counseling", t) for t in texts])
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


def harm_threshold(reader: Reader, negatives: list[str], bank_val: list[dict], rate: float):
    """The smallest harm threshold with at most ``rate`` of real turns flagged; bank recall."""
    neg = np.array([1.0 - reader.harm_probs(t)[0] for t in negatives])
    threshold = float(max(0.5, np.quantile(neg, 1 - rate))) if len(neg) else 0.5
    bad = [d for d in bank_val if d["label"] != "none"]
    good = [d for d in bank_val if d["label"] == "none"]
    recall = np.mean([1.0 - reader.harm_probs(d["text"])[0] >= threshold for d in bad])
    fp = np.mean([1.0 - reader.harm_probs(d["text"])[0] >= threshold for d in good])
    return threshold, {
        "threshold": round(threshold, 3),
        "real_flagged": round(float(np.mean(neg >= threshold)), 4),
        "bank_val_recall": round(float(recall), 4),
        "bank_val_false_alarm": round(float(fp), 4),
    }


def main() -> None:
    """Fit the reader, pick the epoch on the tuning splits, write ``reader.npz``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: $DIALOGUE_GYM_DATA, else ../shared/data"
    )
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--bank", type=Path, default=BANK)
    parser.add_argument("--smoke", type=int, default=0, help="train on N texts only (a dry run)")
    args = parser.parse_args()
    args.data = require_data_dir(args.data)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    units = p4g_units(args.data)
    lines = bank_lines(args.bank)
    rng.shuffle(lines)
    cut = int(0.15 * len(lines))
    bank_val, bank_fit = lines[:cut], lines[cut:]
    examples = (
        p4g_examples(p4g_split(units, "fit"))
        + esconv_examples(args.data / "esconv/esconv_train.jsonl", rng, pairs=3000)
        + template_examples(rng, stacks=600)
        + bank_examples(bank_fit, rng)
        + noise_examples(rng, 400)
    )
    if args.smoke:
        examples = random.Random(1).sample(examples, args.smoke)
    print(f"{len(examples)} training texts", flush=True)
    p4g_val = [(u["text"], u["label"]) for u in p4g_split(units, "tune")]
    es_val = esconv_turns(args.data / "esconv/esconv_valid.jsonl")
    if args.smoke:
        p4g_val, es_val = p4g_val[:50], es_val[:50]
    negatives = [t for t, _ in p4g_val] + [t for t, _ in es_val]
    net = ReaderNet(args.layers, args.rank)
    best: dict = {}

    def on_epoch(epoch: int) -> None:
        arrays = net.export(args.layers, {"harm_threshold": np.array(0.5)})
        reader = Reader.from_arrays(arrays)
        check_export(net, reader, tok, [t for t, _ in es_val[:8]])
        threshold, harm = harm_threshold(reader, negatives, bank_val, rate=0.02)
        arrays["harm_threshold"] = np.array(threshold)
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
            tmp = args.out.with_suffix(".tmp.npz")
            np.savez_compressed(tmp, **arrays, fit=np.array(json.dumps(figures | vars_(args))))
            os.replace(tmp, args.out)
            print(f"  wrote {args.out}", flush=True)

    train(net, examples, args.epochs, tok, rng, args.lr, on_epoch)
    print("best:", json.dumps(best["figures"]))


def vars_(args) -> dict:
    """The fitting arguments that go into the checkpoint (paths left out)."""
    return {k: v for k, v in vars(args).items() if k not in ("data", "out", "bank")}


if __name__ == "__main__":
    main()
