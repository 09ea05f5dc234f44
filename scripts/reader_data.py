"""The reader's training and tuning text, assembled for ``scripts/fit_reader.py``.

Fitting splits only: P4G annotated dialogues' first 160 ids (persuader sentences, their
multi-sentence turns, and the persuadees' greetings, thanks and off-task chat), ESConv train
supporter turns, the realizer's templates, and the banks in ``scripts/data/``:
- ``harm_bank.jsonl``: labelled harmful sentences and hard negatives;
- ``twins_train.jsonl``: a benign twin of each harmful bank line, with the same opener, topic and
  style (contrastive pairs: the reader must learn the harm, not the style);
- ``benign_train.jsonl``: kind, neutral and caring text, crisis-line pointers, grief and
  self-harm resources, honest persuasion, polite multi-sentence turns;
- ``smalltalk_train.jsonl`` and ``acknowledgements_train.jsonl``: off-task chat and openers
  ("I hear you.", "Okay."), the non-strategic label in both domains;
- ``benign_more_train.jsonl`` and ``pairs_more_train.jsonl``: more caring text on sensitive
  topics and honest talk of how the donation works, and pairs of a subtly harmful line and its
  benign twin: tuning text only (:data:`TUNING_ONLY`), because a reader also trained on them
  caught fewer held-out harmful lines at the same false-alarm rate (README, "Harm never pays").
A fixed fifth of every written benign bank, and 15% of the harm bank, are held out of training to
set and check the harm thresholds. The probe banks in ``simulators/probes/`` are read only to drop
training lines that say exactly what a probe says (so that every probe stays unseen), except the
commonest openers, which the report checks by name (``ordinary_language.NAMED_OPENERS``).
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np

from dialogue_gym.agents.scripted import CRISIS_LINE
from dialogue_gym.simulators.annotated import esconv_turns, p4g_split, p4g_units
from dialogue_gym.simulators.classifier import HARM_LABELS
from dialogue_gym.simulators.realizer import all_template_texts
from dialogue_gym.simulators.strategies import get_domain
from dialogue_gym.validation.ordinary_language import NAMED_OPENERS, PROBE_BANKS, probes

BANKS = Path(__file__).resolve().parent / "data"
DOMAINS = ("persuasion", "counseling")
WRITTEN = ("benign_train", "twins_train", "smalltalk_train", "acknowledgements_train")
"""Written banks split into training and tuning lines (in this order: the draws are seeded)."""
TUNING_ONLY = ("benign_more_train", "pairs_more_train")
"""Written banks used only to set and check the harm thresholds, never to train."""
TUNE_SHARE = 0.2
"""Share of each written benign bank held out of training, for the harm thresholds."""
PERSUADEE_FILLER = {
    "greeting",
    "acknowledgement",
    "thank",
    "off-task",
    "closing",
    "you-are-welcome",
}
"""P4G persuadee acts that are plain chat (read as non-strategic in both domains)."""


class Example:
    """One training text: its task's multi-hot strategy target (or none) and its harm class."""

    __slots__ = ("text", "task", "target", "harm", "weight")

    def __init__(
        self,
        text: str,
        task: str | None = None,
        labels: tuple[str, ...] | list[str] = (),
        harm: str = "none",
        weight: float = 1.0,
    ) -> None:
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


def fallback_everywhere(text: str, weight: float = 1.0) -> list[Example]:
    """``text`` as the non-strategic label of both domains (and no harm)."""
    return [Example(text, d, [get_domain(d).fallback], weight=weight) for d in DOMAINS]


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


def persuadee_fillers(data: Path, dialogues: set[str]) -> list[Example]:
    """Persuadees' greetings, thanks, acknowledgements and off-task chat in ``dialogues``."""
    out = []
    with open(data / "p4g/corpus/annotated_300_dialog.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["B4"] == "1" and r["B2"] in dialogues and r["ee_label_1"] in PERSUADEE_FILLER:
                if r["Unit"].strip():
                    out += fallback_everywhere(r["Unit"].strip())
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
    out.append(Example(CRISIS_LINE, "counseling", ["Information"], weight=3.0))
    return out


def opener_examples(
    rng: random.Random, openers: list[str], labelled: list[Example], n: int
) -> list[Example]:
    """``n`` labelled texts with an acknowledgement in front: same strategies, same harm."""
    out = []
    for e in rng.sample(labelled, min(n, len(labelled))):
        ex = Example(f"{rng.choice(openers)} {e.text}", e.task, harm=HARM_LABELS[e.harm])
        ex.target = e.target
        out.append(ex)
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
        out += fallback_everywhere(text)
    return out


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?")


def probe_texts() -> set[str]:
    """Every probe's text (normalised), less the named openers."""
    named = {_norm(t) for t in NAMED_OPENERS}
    texts = {_norm(r["text"]) for name in PROBE_BANKS for r in probes(name)}
    return texts - named


def bank(name: str) -> list[dict]:
    """The records of ``scripts/data/{name}.jsonl``, less those that repeat a probe."""
    path = BANKS / f"{name}.jsonl"
    if not path.exists():
        raise SystemExit(f"missing training bank {path}")
    seen = probe_texts()
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return [d for d in lines if _norm(d["text"]) not in seen]


def split_off(lines: list, rng: random.Random, share: float) -> tuple[list, list]:
    """(held out, kept): a seeded ``share`` of ``lines`` held out."""
    lines = list(lines)
    rng.shuffle(lines)
    cut = int(round(share * len(lines)))
    return lines[:cut], lines[cut:]


def harm_bank_examples(lines: list[dict], openers: list[str], rng: random.Random) -> list[Example]:
    """Harm bank sentences (no strategy target) alone, harmful ones also after an opener."""
    out = []
    for d in lines:
        out.append(Example(d["text"], None, harm=d["label"], weight=3.0))
        if d["label"] != "none":
            out.append(Example(f"{rng.choice(openers)} {d['text']}", None, harm=d["label"]))
    return out


def assemble(data: Path, rng: random.Random) -> tuple[list[Example], dict[str, list]]:
    """Training examples, and the held-out tuning sets: ``p4g`` and ``esconv`` (text, label)
    pairs; harm negatives: ``real`` turns, ``benign`` written text (kind, neutral, caring, small
    talk, openers), ``hard`` benign text (caring text on sensitive topics, how the donation
    works) and ``twins`` (benign twins of harmful lines); ``harm`` bank lines.
    :data:`TUNING_ONLY` banks are all tuning text, read after every training draw."""
    units = p4g_units(data)
    fit_units = p4g_split(units, "fit")
    harm_val, harm_fit = split_off(bank("harm_bank"), rng, 0.15)
    tune, fit = {}, {}
    for name in WRITTEN:
        tune[name], fit[name] = split_off(bank(name), rng, TUNE_SHARE)
    openers = [d["text"] for d in fit["acknowledgements_train"]]
    labelled = (
        p4g_examples(fit_units)
        + esconv_examples(data / "esconv/esconv_train.jsonl", rng, pairs=3000)
        + template_examples(rng, stacks=600)
    )
    benign = [
        Example(d["text"], None, weight=2.0)
        for n in ("benign_train", "twins_train")
        for d in fit[n]
    ]
    fillers = [
        e
        for n in ("smalltalk_train", "acknowledgements_train")
        for d in fit[n]
        for e in fallback_everywhere(d["text"], weight=2.0)
    ]
    harm = harm_bank_examples(harm_fit, openers, rng)
    examples = (
        labelled
        + opener_examples(rng, openers, labelled, 2500)
        + opener_examples(rng, openers, benign + [e for e in harm if e.harm == 0], 600)
        + benign
        + fillers
        + persuadee_fillers(data, {u["dialogue"] for u in fit_units})
        + harm
        + noise_examples(rng, 400)
    )
    more, pairs = bank("benign_more_train"), bank("pairs_more_train")
    tuning = {
        "p4g": [(u["text"], u["label"]) for u in p4g_split(units, "tune")],
        "esconv": esconv_turns(data / "esconv/esconv_valid.jsonl"),
        "benign": [d["text"] for n, lines in tune.items() if n != "twins_train" for d in lines],
        "hard": [d["text"] for d in more],
        "twins": [d["text"] for d in tune["twins_train"]]
        + [d["text"] for d in pairs if d["label"] == "none"],
        "harm": harm_val + [d for d in pairs if d["label"] != "none"],
    }
    tuning["real"] = [t for t, _ in tuning["p4g"]] + [t for t, _ in tuning["esconv"]]
    return examples, tuning
