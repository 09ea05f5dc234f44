"""Persona cards: the survey in plain words, with the demographics, and no trait as a number."""

from __future__ import annotations

import re

import numpy as np

from dialogue_gym.simulators.persona_cards import (
    TRAIT_TEXT,
    persuasion_card,
    trait_sentences,
)
from dialogue_gym.simulators.personas import load_params, sample_persuasion_persona


def _persona(seed: int, **traits: float):
    return sample_persuasion_persona(
        np.random.default_rng(seed), {"traits": traits} if traits else None
    )


def test_the_card_states_the_demographics_and_no_trait_as_a_number():
    for seed in range(20):
        p = _persona(seed)
        card = persuasion_card(p)
        numbers = re.findall(r"\d+(?:\.\d+)?", card)
        numbers.remove(str(int(p.traits["age"])))
        assert set(numbers) == {"2"}, numbers  # besides the age, only the $2 payment
        about = card.split("About you: ")[1].split("\n")[0]
        assert f"{int(p.traits['age'])}-year-old" in about and "income" in about
        if p.demographics.get("ideology") in ("Liberal", "Conservative", "Moderate"):
            assert p.demographics["ideology"].lower() in about
        assert ("You are married." in about) == (p.demographics.get("marital") == "Married")


def test_a_trait_far_from_the_corpus_mean_is_said_and_an_average_one_is_not():
    params = load_params("persuasion_persona")
    i = params["traits"].index("extraversion")
    mean, sd = params["mean"][i], params["std"][i]
    high, low = TRAIT_TEXT["extraversion"]
    assert high in trait_sentences(_persona(0, extraversion=min(5.0, mean + 2 * sd)))
    assert low in trait_sentences(_persona(0, extraversion=max(1.0, mean - 2 * sd)))
    said = trait_sentences(_persona(0, extraversion=mean))
    assert high not in said and low not in said
