"""Hindsight components learned from recorded data only (issue 15): the reward model, the
retrieval forward model and the critic controller, on generated and on real dialogues."""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import run_cli

from dialogue_gym.episode import Episode, Turn
from dialogue_gym.errors import InvalidInput
from dialogue_gym.generate import generate
from dialogue_gym.hindsight import (
    CriticController,
    LearnedRewardModel,
    RetrievalForwardModel,
    regenerate,
)
from dialogue_gym.hindsight.features import CachedEncoder
from dialogue_gym.jsonl import read_episodes

ENC = "hash:1024"  # no model: the tests check the learning, the benchmark reports MiniLM


@pytest.fixture(scope="module")
def persuasion(tmp_path_factory):
    path = tmp_path_factory.mktemp("learned") / "p.jsonl"
    generate("Persuasion-v0", "human-like", 240, path, progress=False)
    return read_episodes(path)[0]


def test_reward_model_ranks_held_out_episodes_and_round_trips(persuasion, tmp_path):
    train, test = persuasion[:180], persuasion[180:]
    model = LearnedRewardModel.fit(train, encoder=ENC)
    scores = model.evaluate(test)
    assert scores["auc"] > 0.75, scores  # a donation is usually said in the last turns
    assert scores["mae"] < scores["mae_constant"], scores
    assert scores["brier"] < scores["brier_constant"], scores
    p = [model.p_success(e.turns) for e in test]
    assert min(p) >= 0 and max(p) <= 1
    model.save(tmp_path / "rm")
    again = LearnedRewardModel.load(tmp_path / "rm")
    for e in test[:10]:
        assert again.score(e, e.turns, 0) == pytest.approx(model.score(e, e.turns, 0))
        assert 0.0 <= model.score(e, e.turns, 0) <= 2.0


def test_reward_model_errors_name_the_problem(persuasion, tmp_path):
    with pytest.raises(ValueError, match="at least 20 episodes"):
        LearnedRewardModel.fit(persuasion[:5], encoder=ENC)
    with pytest.raises(ValueError, match="not a learned reward model"):
        LearnedRewardModel.load(tmp_path)
    model = LearnedRewardModel.fit(persuasion[:60], encoder=ENC)
    other = Episode("x", "Counseling-v0", [Turn("assistant", "Hi")], 1.0)
    with pytest.raises(ValueError, match="fitted on Persuasion-v0"):
        model.score(other, other.turns, 0)


def test_retrieval_continues_from_other_episodes_reproducibly(persuasion):
    forward = RetrievalForwardModel(persuasion[:100], encoder=ENC)
    src = persuasion[0]
    prefix = src.turns[:3]
    assert prefix[-1].role == "assistant"
    a = forward.continue_dialogue(src, prefix, seed=7)
    b = forward.continue_dialogue(src, prefix, seed=7)
    assert [t.text for t in a.turns] == [t.text for t in b.turns]
    assert a.turns and a.turns[0].role == "user"
    roles = [t.role for t in prefix + a.turns]
    assert all(x != y for x, y in zip(roles, roles[1:], strict=False))  # alternating
    assert len(prefix) + len(a.turns) <= len(src.turns)
    for source in a.info["retrieved_from"]:
        assert int(source.split(":")[1]) != 0  # never the source episode's own future


def _labelled(i: int, good: bool) -> Episode:
    """A dialogue whose outcome depends only on whether one turn was a credibility appeal."""
    rng = np.random.default_rng(i)
    turns = []
    for k in range(4):
        if good and k == 2:
            turns.append(Turn("assistant", "They are audited every year.", ["credibility-appeal"]))
        else:
            word = ["Hello there.", "How was your day?", "Nice weather."][int(rng.integers(3))]
            turns.append(Turn("assistant", word, ["non-strategy"]))
        turns.append(Turn("user", ["Okay.", "Sure.", "Alright."][int(rng.integers(3))]))
    return Episode(f"e{i}", "Persuasion-v0", turns, 1.0 if good else 0.0, seed=i)


def test_critic_finds_the_strategy_that_pays():
    data = [_labelled(i, i % 2 == 0) for i in range(120)]
    critic = CriticController(data, encoder=ENC, min_support=10)
    bad = _labelled(1001, False)
    props = critic.propose(bad, k=1)
    assert props and props[0].strategy == "credibility-appeal"
    assert bad.turns[props[0].turn_index].role == "assistant"
    assert props[0].text == "They are audited every year."  # words from the data
    good = _labelled(1000, True)
    assert all(p.turn_index != 4 for p in critic.propose(good, k=4))  # keeps the paying turn


def test_critic_proposes_only_what_the_data_support_at_that_point():
    """The paying move was only ever made at the third agent turn: it is not proposed for the
    first, where no one in the data made it (window 1: turns 2-4 may take it)."""
    data = [_labelled(i, i % 2 == 0) for i in range(120)]
    critic = CriticController(data, encoder=ENC, min_support=10)
    assert "credibility-appeal" not in critic.supported(0)
    assert "credibility-appeal" in critic.supported(2)
    for p in critic.propose(_labelled(1001, False), k=4):
        k = sum(t.role == "assistant" for t in _labelled(1001, False).turns[: p.turn_index])
        assert p.strategy != "credibility-appeal" or abs(k - 2) <= critic.window


def test_a_critic_free_to_propose_any_move_says_which_lie_outside_the_data():
    """moves="any": every taxonomy move competes at every turn; the paying move proposed where
    no one made it, and moves the data never show, are flagged outside the support."""
    data = [_labelled(i, i % 2 == 0) for i in range(120)]
    free = CriticController(data, encoder=ENC, min_support=10, moves="any")
    bad = _labelled(1001, False)
    q = free.values(bad.turns, 0)
    assert set(q) == set(free.taxonomy()) | set(free.supported(0)) and len(q) > 3
    assert "non-strategy" not in free.taxonomy() and "non-strategy" in q  # supported there
    unseen = [a for a in q if a not in free.strategies]
    assert len({round(q[a], 12) for a in unseen}) == 1  # never learned: the state's baseline
    props = free.propose(bad, k=4)
    outside = [p for p in props if not p.in_support]
    assert outside and all("outside the data's support" in p.rationale for p in outside)
    data_lines = {t.text for e in data for t in e.turns}
    for p in outside:
        if p.strategy in unseen:
            assert p.text not in data_lines  # the toolkit's own wording of the move
    kept = CriticController(data, encoder=ENC, min_support=10)
    assert all(p.in_support for p in kept.propose(bad, k=4))
    with pytest.raises(InvalidInput, match="moves must be one of"):
        CriticController(data, encoder=ENC, min_support=10, moves="all")


def test_learned_pipeline_regenerates_generated_dialogues(persuasion):
    enc = CachedEncoder(ENC)
    data = persuasion[:200]
    regen = regenerate(
        [e for e in persuasion[200:] if not e.reward][:10],
        CriticController(data, enc),
        RetrievalForwardModel(data, enc),
        LearnedRewardModel.fit(data, encoder=ENC),
    )
    assert regen
    for r in regen:
        assert r.reward_source == "imagined:learned"
        assert r.provenance["controller"]["name"] == "critic"
        assert r.provenance["forward_model"]["name"] == "retrieval"
        assert 0.0 <= r.reward <= 2.0


def test_cli_refuses_an_unknown_model_with_the_allowed_names(tmp_path, persuasion):
    from dialogue_gym.jsonl import write_episodes

    data = tmp_path / "d.jsonl"
    write_episodes(data, persuasion[:30])
    proc = run_cli(
        "hindsight",
        "--in",
        str(data),
        "--out",
        str(tmp_path / "r.jsonl"),
        "--forward",
        "imagination",
    )
    assert proc.returncode == 2 and "unknown forward model 'imagination'" in proc.stderr
    assert "privileged-dynamics" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_learned_models_on_real_dialogues(shared_data):
    """P4G train -> test and ESConv train -> test with the model-free encoder: the text must
    rank P4G donors above chance; ESConv is reported, not bounded (see the closing note)."""
    from dialogue_gym.loaders import load_p4g_json

    train = load_p4g_json(shared_data / "p4g" / "train.json")
    test = load_p4g_json(shared_data / "p4g" / "test.json")
    model = LearnedRewardModel.fit(train, encoder=ENC)
    scores = model.evaluate(test)
    assert scores["auc"] > 0.6, scores
    forward = RetrievalForwardModel(train, encoder=ENC)
    src = test[0]
    cont = forward.continue_dialogue(src, src.turns[:5], seed=0)
    assert cont.turns and cont.turns[0].role != src.turns[4].role
    # ESConv: seekers often open; continue after a supporter turn, and read the initial distress
    from dialogue_gym.loaders import load_esconv_jsonl

    esconv = load_esconv_jsonl(shared_data / "esconv" / "esconv_train.jsonl")
    forward = RetrievalForwardModel(esconv[:300], encoder=ENC)
    src = esconv[400]
    cut = next(i for i, t in enumerate(src.turns) if t.role == "assistant" and i >= 3) + 1
    cont = forward.continue_dialogue(src, src.turns[:cut], seed=1)
    assert cont.turns[0].role == "user" and len(src.turns[:cut]) + len(cont.turns) <= len(src.turns)
    model = LearnedRewardModel.fit(esconv[:300], encoder=ENC)
    assert 1.0 <= model.initial_intensity(src.turns) <= 5.0
