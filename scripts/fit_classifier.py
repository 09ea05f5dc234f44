"""Fit the utterance -> strategy classifiers and report their accuracy.

Persuasion: persuader sentences of ``p4g/corpus/annotated_300_dialog.csv``, fitting on the first
200 dialogue ids (sorted ``B2``) only; the last 100 are scored once, for the report. Corpus labels
map onto the taxonomy: the 10 strategies as they are; ``proposition-of-donation``,
``ask-donation-amount``, ``ask-donate-more``, ``confirm-donation`` -> ``proposition-of-donation``;
every other act (greeting, thanks, acknowledgement, small talk...) -> ``non-strategy``.
Counseling: supporter turns of ``esconv/esconv_train.jsonl``; ``esconv_test.jsonl`` is scored once.
Both add the realizer's templates (weight 3) so that the agents' own text is read back reliably.
The regularization strength is chosen on a held-out part of the fitting split (persuasion: ids
161-200; counseling: ``esconv_valid.jsonl``), then the model is refitted on the whole split.

Writes ``simulators/params/classifier_<domain>.npz``.
Usage: ``python scripts/fit_classifier.py [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from dialogue_gym.simulators.classifier import StrategyClassifier, features
from dialogue_gym.simulators.realizer import all_template_texts
from dialogue_gym.simulators.strategies import get_domain

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "simulators" / "params"
ASK = {"proposition-of-donation", "ask-donation-amount", "ask-donate-more", "confirm-donation"}


def p4g_sentences(data: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(dialogue id, sentence, mapped label) of persuader sentences, and the sorted ids."""
    strategies = set(get_domain("persuasion").strategies)
    rows = []
    with open(data / "p4g/corpus/annotated_300_dialog.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["B4"] != "0" or not r["Unit"].strip():
                continue
            label = r["er_label_1"]
            if label in ASK:
                label = "proposition-of-donation"
            elif label not in strategies:
                label = "non-strategy"
            rows.append((r["B2"], r["Unit"], label))
    return rows, sorted({r[0] for r in rows})


def esconv_turns(path: Path) -> list[tuple[str, str]]:
    """(supporter text, strategy) of every supporter turn in an ESConv .jsonl file."""
    out = []
    for line in open(path):
        for t in json.loads(line)["dialog"]:
            if t["speaker"] == "sys" and t.get("strategy") and t["text"].strip():
                out.append((t["text"], t["strategy"]))
    return out


def fit(texts, labels, weights, domain: str, c: float) -> StrategyClassifier:
    """Fit TF-IDF + multinomial logistic regression and wrap it as a numpy classifier."""
    labels_order = list(get_domain(domain).strategies)
    vec = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=2, dtype=np.float64)
    x = vec.fit_transform(texts)
    y = np.array([labels_order.index(lab) for lab in labels])
    lr = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    lr.fit(x, y, sample_weight=np.asarray(weights, dtype=float))
    coef = np.zeros((len(labels_order), x.shape[1]))
    intercept = np.full(len(labels_order), -30.0)
    coef[lr.classes_] = lr.coef_
    intercept[lr.classes_] = lr.intercept_
    vocab = vec.get_feature_names_out().tolist()
    return StrategyClassifier(domain, vocab, vec.idf_, coef, intercept, labels_order)


def save(clf: StrategyClassifier, domain: str, c: float) -> None:
    """Write the classifier's arrays (atomically)."""
    vocab = sorted(clf.index, key=clf.index.get)
    tmp = OUT / f"classifier_{domain}.tmp.npz"
    np.savez_compressed(
        tmp,
        vocab=np.array(vocab),
        idf=clf.idf.astype(np.float32),
        coef=clf.coef_t.T.astype(np.float32),
        intercept=clf.intercept.astype(np.float32),
        labels=np.array(clf.labels),
        c=np.array(c),
    )
    os.replace(tmp, OUT / f"classifier_{domain}.npz")


def score(clf: StrategyClassifier, pairs) -> tuple[float, float]:
    """Top-1 accuracy and macro-F1 of ``clf.top`` on (text, label) pairs."""
    gold = [lab for _, lab in pairs]
    pred = [clf.top(t) for t, _ in pairs]
    return accuracy_score(gold, pred), f1_score(gold, pred, average="macro", zero_division=0)


def template_accuracy(clf: StrategyClassifier, domain: str) -> float:
    """Share of the realizer's texts whose first classified label is their strategy."""
    pairs = all_template_texts(domain)
    return float(np.mean([clf.classify(t)[0] == s for t, s in pairs]))


def run_persuasion(data: Path) -> dict:
    """Fit, tune and report the persuasion classifier."""
    rows, ids = p4g_sentences(data)
    fit_ids, report_ids = set(ids[:200]), set(ids[200:])
    tune_fit, tune_val = set(ids[:160]), set(ids[160:200])
    templates = all_template_texts("persuasion")

    def build(id_set):
        pairs = [(s, lab) for b2, s, lab in rows if b2 in id_set]
        texts = [t for t, _ in pairs] + [t for t, _ in templates]
        labels = [lab for _, lab in pairs] + [lab for _, lab in templates]
        weights = [1.0] * len(pairs) + [3.0] * len(templates)
        return texts, labels, weights

    best = max(
        (score(fit(*build(tune_fit), "persuasion", c), _pairs(rows, tune_val))[0], c)
        for c in (1.0, 3.0, 10.0, 30.0)
    )
    c = best[1]
    clf = fit(*build(fit_ids), "persuasion", c)
    save(clf, "persuasion", c)
    acc, f1 = score(clf, _pairs(rows, report_ids))
    return {
        "C": c,
        "tune_acc": round(best[0], 4),
        "report_acc": acc,
        "report_macro_f1": f1,
        "n_report": len(_pairs(rows, report_ids)),
        "templates": template_accuracy(clf, "persuasion"),
    }


def _pairs(rows, id_set):
    return [(s, lab) for b2, s, lab in rows if b2 in id_set]


def run_counseling(data: Path) -> dict:
    """Fit, tune and report the counseling classifier."""
    train = esconv_turns(data / "esconv/esconv_train.jsonl")
    valid = esconv_turns(data / "esconv/esconv_valid.jsonl")
    test = esconv_turns(data / "esconv/esconv_test.jsonl")
    templates = all_template_texts("counseling")
    texts = [t for t, _ in train] + [t for t, _ in templates]
    labels = [lab for _, lab in train] + [lab for _, lab in templates]
    weights = [1.0] * len(train) + [3.0] * len(templates)
    best = max(
        (score(fit(texts, labels, weights, "counseling", c), valid)[0], c) for c in (1.0, 3.0, 10.0)
    )
    c = best[1]
    clf = fit(texts, labels, weights, "counseling", c)
    save(clf, "counseling", c)
    acc, f1 = score(clf, test)
    return {
        "C": c,
        "tune_acc": round(best[0], 4),
        "report_acc": acc,
        "report_macro_f1": f1,
        "n_report": len(test),
        "templates": template_accuracy(clf, "counseling"),
    }


def main() -> None:
    """Fit both classifiers and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for name, run in (("persuasion", run_persuasion), ("counseling", run_counseling)):
        r = run(args.data)
        print(
            f"{name}: C={r['C']} tune acc {r['tune_acc']:.3f}; held-out acc {r['report_acc']:.3f}, "
            f"macro-F1 {r['report_macro_f1']:.3f} (n={r['n_report']}); "
            f"realizer templates {r['templates']:.3f}"
        )


if __name__ == "__main__":
    main()
