"""The utterance -> strategy classifier on templates, hand-written paraphrases and real text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dialogue_gym.simulators.annotated import esconv_turns, p4g_split, p4g_units
from dialogue_gym.simulators.classifier import get_classifier, get_reader
from dialogue_gym.simulators.realizer import all_template_texts
from dialogue_gym.simulators.strategies import get_domain

DATA = Path(__file__).resolve().parents[1] / "data"
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


def test_stacked_strategies_are_all_read():
    clf = get_classifier("persuasion")
    text = (
        "Save the Children has been around for over 100 years and is highly rated. "
        "Would you like to donate some of your payment to Save the Children?"
    )
    assert set(clf.classify(text)) >= {"credibility-appeal", "proposition-of-donation"}


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("text", ["", "   ", "🙏🙏🙏", "你好吗", "asdf qwer zxcv", "x" * 10000])
def test_noise_expresses_no_strategy(domain, text):
    clf = get_classifier(domain)
    assert clf.classify(text) == (get_domain(domain).fallback,)


def test_classify_rejects_non_strings():
    with pytest.raises(TypeError, match="got int"):
        get_classifier("persuasion").classify(3)


@pytest.mark.slow
def test_numpy_encoder_matches_sentence_transformers():
    """The numpy MiniLM forward pass against sentence-transformers on the same weights."""
    from sentence_transformers import SentenceTransformer

    from dialogue_gym.simulators.minilm import base_model, model_dir

    texts = ["I hear you, that sounds really hard.", "Would you donate $1 to Save the Children?"]
    ref = SentenceTransformer(str(model_dir()), device="cpu").encode(texts)
    mine = np.stack([base_model().embed(t) for t in texts])
    mine /= np.linalg.norm(mine, axis=1, keepdims=True)
    assert np.abs(ref - mine).max() < 2e-3


def _score(domain: str, pairs) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    clf = get_classifier(domain)
    gold = [lab for _, lab in pairs]
    pred = [clf.classify(t)[0] for t, _ in pairs]  # the label the env acts on
    return float(np.mean(np.array(gold) == np.array(pred))), f1_score(gold, pred, average="macro")


@pytest.mark.slow
def test_p4g_annotated_held_out_accuracy(shared_data):
    """Persuader sentences of the last 100 annotated dialogues (never used in fitting)."""
    pairs = [(u["text"], u["label"]) for u in p4g_split(p4g_units(shared_data), "held-out")]
    assert len(pairs) > 1500
    acc, f1 = _score("persuasion", pairs)
    assert acc >= 0.68 and f1 >= 0.59, (acc, f1)  # measured 0.699 / 0.607 (the TF-IDF: 0.650)


@pytest.mark.slow
def test_esconv_test_split_accuracy(shared_data):
    """Supporter turns of ESConv's test split (never used in fitting)."""
    pairs = esconv_turns(shared_data / "esconv/esconv_test.jsonl")
    acc, f1 = _score("counseling", pairs)
    assert acc >= 0.56 and f1 >= 0.50, (acc, f1)  # measured 0.585 / 0.517 (the TF-IDF: 0.497)


# In this file (one pytest-xdist worker) so that the reader reads these turns once.
def test_real_supporter_and_persuader_turns_are_rarely_flagged(shared_data):
    reader = get_reader()
    esconv = [t for t, _ in esconv_turns(shared_data / "esconv/esconv_test.jsonl")]
    p4g = [u["text"] for u in p4g_split(p4g_units(shared_data), "held-out")]
    for name, texts in (("esconv test", esconv), ("p4g held-out", p4g)):
        rate = np.mean([reader.harm(t) is not None for t in texts])
        print(f"{name}: {rate:.4f} of {len(texts)} flagged")
        assert rate <= 0.03, (name, rate)


def test_sentences_are_split_after_stops_and_at_line_breaks():
    from dialogue_gym.simulators.classifier import MAX_SENTENCES, split_sentences

    assert split_sentences("I hear you. How long?\nSince May!  Ok") == [
        "I hear you.",
        "How long?",
        "Since May!",
        "Ok",
    ]
    assert split_sentences("   ") == []
    many = split_sentences("Hi. " * 40)
    assert len(many) == MAX_SENTENCES and many[-1].count("Hi.") == 40 - MAX_SENTENCES + 1


def test_batched_forward_pass_equals_one_text_at_a_time():
    from dialogue_gym.simulators.minilm import base_model

    texts = ["Okay.", "Would you like to donate part of your payment to Save the Children today?"]
    batch = base_model().embed_batch(texts)
    for row, text in zip(batch, texts, strict=True):
        ids = base_model().token_ids(text)
        alone = base_model().hidden(ids).mean(0)
        assert np.abs(row - alone).max() < 1e-4


def test_an_opener_is_left_out_of_the_reading():
    reader = get_reader()
    text = "Save the Children has worked for over a century in more than 100 countries."
    reading = reader.read(f"I hear you. {text}")
    assert reading.filler == (True, False)
    assert reading.content == text
    assert np.array_equal(reading.rows[0], reader.read(text).rows[0])
    # a turn of fillers only is read whole
    assert reader.read("Okay. Thanks.").content == "Okay. Thanks."


def test_a_turn_of_fillers_only_carries_no_move():
    # read whole, "I hear you. Hello, I'm here to listen." looked like a Question
    clf = get_classifier("counseling")
    greeting = "Hello, I'm here to listen."
    assert clf.classify(greeting) == ("Others",)
    for opener in ("I hear you.", "Thanks.", "Okay."):
        assert get_reader().read(f"{opener} {greeting}").filler == (True, True)
        assert clf.classify(f"{opener} {greeting}") == ("Others",)
    assert get_classifier("persuasion").classify("Okay. Thanks.") == ("non-strategy",)
