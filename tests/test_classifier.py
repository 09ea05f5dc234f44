"""The utterance -> strategy classifier on templates, hand-written paraphrases and real text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dialogue_gym.simulators.classifier import get_classifier, is_hostile, split_sentences
from dialogue_gym.simulators.realizer import all_template_texts
from dialogue_gym.simulators.strategies import get_domain

DATA = Path(__file__).parent / "data"
DOMAINS = ["persuasion", "counseling"]


def _paraphrases(domain: str) -> list[tuple[str, str]]:
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / f"paraphrases_{domain}.tsv")]
    return [(text, label) for label, text in rows]


@pytest.mark.parametrize("domain", DOMAINS)
def test_realizer_templates_are_read_back(domain):
    pairs = all_template_texts(domain)
    clf = get_classifier(domain)
    acc = np.mean([clf.classify(t)[0] == s for t, s in pairs])
    assert acc >= 0.95, acc


@pytest.mark.parametrize("domain", DOMAINS)
def test_hand_written_paraphrases(domain):
    pairs = _paraphrases(domain)
    assert len(pairs) >= 100
    templates = {t for t, _ in all_template_texts(domain)}
    assert not any(t in templates for t, _ in pairs), "paraphrases must not be realizer output"
    labels = {lab for _, lab in pairs}
    assert labels == set(get_domain(domain).strategies)
    clf = get_classifier(domain)
    acc = np.mean([clf.classify(t)[0] == lab for t, lab in pairs])
    assert acc >= 0.75, acc


def test_multi_label_union_over_sentences():
    clf = get_classifier("persuasion")
    text = (
        "Save the Children has been around for over 100 years and is highly rated. "
        "Would you like to donate some of your payment to Save the Children?"
    )
    assert set(clf.classify(text)) >= {"credibility-appeal", "proposition-of-donation"}
    assert split_sentences("One. Two? Three!") == ["One.", "Two?", "Three!"]


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("text", ["", "   ", "🙏🙏🙏", "你好吗", "asdf qwer zxcv", "x" * 10000])
def test_noise_expresses_no_strategy(domain, text):
    clf = get_classifier(domain)
    assert clf.classify(text) == (get_domain(domain).fallback,)


def test_classify_rejects_non_strings():
    with pytest.raises(TypeError, match="got int"):
        get_classifier("persuasion").classify(3)


def test_hostility_lexicon():
    assert is_hostile("You are an idiot.")
    assert is_hostile("Donate now or else.")
    assert not is_hostile("Many children die from preventable diseases.")
    assert not is_hostile("Thank you so much for your time.")


def test_p4g_annotated_held_out_accuracy(shared_data):
    """Persuader sentences of the last 100 annotated dialogues (never used in fitting)."""
    rows = list(csv.DictReader(open(shared_data / "p4g/corpus/annotated_300_dialog.csv")))
    ids = sorted({r["B2"] for r in rows})
    held_out = set(ids[200:])
    strategies = set(get_domain("persuasion").strategies)
    ask = {"proposition-of-donation", "ask-donation-amount", "ask-donate-more", "confirm-donation"}
    clf = get_classifier("persuasion")
    gold, pred = [], []
    for r in rows:
        if r["B2"] in held_out and r["B4"] == "0" and r["Unit"].strip():
            label = r["er_label_1"]
            label = "proposition-of-donation" if label in ask else label
            gold.append(label if label in strategies else "non-strategy")
            pred.append(clf.top(r["Unit"]))
    acc = np.mean(np.array(gold) == np.array(pred))
    assert len(gold) > 1500
    assert acc >= 0.60, acc


def test_esconv_test_split_accuracy(shared_data):
    """Supporter turns of ESConv's test split: reported, here held to well above chance (1/8)."""
    clf = get_classifier("counseling")
    gold, pred = [], []
    for line in open(shared_data / "esconv/esconv_test.jsonl"):
        for t in json.loads(line)["dialog"]:
            if t["speaker"] == "sys" and t.get("strategy") and t["text"].strip():
                gold.append(t["strategy"])
                pred.append(clf.top(t["text"]))
    acc = np.mean(np.array(gold) == np.array(pred))
    assert acc >= 0.45, acc
