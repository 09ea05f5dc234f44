"""The two domains' strategy taxonomies.

Persuasion: the 10 persuasion strategies annotated in PersuasionForGood (Wang et al., ACL 2019,
arXiv 1906.06725, Table 2) plus the explicit donation ask ("proposition of donation") and one
label for everything non-strategic (greetings, thanks, small talk, acknowledgements).

Counseling: the 8 support strategies of ESConv (Liu et al., ACL 2021, arXiv 2106.01144), grouped
into Hill's three stages (Exploration, Comforting, Action).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInput

PERSUASION_STRATEGIES: tuple[str, ...] = (
    "logical-appeal",
    "emotion-appeal",
    "credibility-appeal",
    "foot-in-the-door",
    "self-modeling",
    "personal-story",
    "donation-information",
    "source-related-inquiry",
    "task-related-inquiry",
    "personal-related-inquiry",
    "proposition-of-donation",
    "non-strategy",
)
"""P4G's 10 persuasion strategies, the donation ask, and ``non-strategy``."""

PERSUASION_DESCRIPTIONS: dict[str, str] = {
    "logical-appeal": "reasoning that donating is right or effective",
    "emotion-appeal": "eliciting sympathy, guilt or hope about the children's situation",
    "credibility-appeal": "the charity's track record, transparency and reputation",
    "foot-in-the-door": "a small first request (a few cents, learning more) before a larger one",
    "self-modeling": "the persuader says they donate or will donate",
    "personal-story": "a narrative about the persuader or someone they know",
    "donation-information": "how to donate, how much, where the money goes",
    "source-related-inquiry": "asking whether the persuadee knows the charity",
    "task-related-inquiry": "asking the persuadee's opinion of donating or of the task",
    "personal-related-inquiry": "asking about the persuadee's own experiences",
    "proposition-of-donation": "asking the persuadee to donate (an amount)",
    "non-strategy": "greetings, thanks, acknowledgements, small talk",
}

COUNSELING_STRATEGIES: tuple[str, ...] = (
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions",
    "Information",
    "Others",
)
"""ESConv's 8 support strategies, spelled as in the corpus."""

COUNSELING_DESCRIPTIONS: dict[str, str] = {
    "Question": "asking about the problem to help the seeker articulate it",
    "Restatement or Paraphrasing": "a concise rewording of what the seeker said",
    "Reflection of feelings": "articulating the seeker's feelings",
    "Self-disclosure": "sharing a similar experience of the supporter's own",
    "Affirmation and Reassurance": "affirming strengths and capability; reassurance",
    "Providing Suggestions": "possible ways forward",
    "Information": "useful facts, data or resources",
    "Others": "greetings and anything else",
}

COUNSELING_STAGES: dict[str, str] = {
    "Question": "exploration",
    "Restatement or Paraphrasing": "exploration",
    "Reflection of feelings": "comforting",
    "Self-disclosure": "comforting",
    "Affirmation and Reassurance": "comforting",
    "Providing Suggestions": "action",
    "Information": "action",
    "Others": "other",
}
"""Hill's stage of each ESConv strategy (Liu et al. 2021, Fig. 2)."""


@dataclass(frozen=True)
class Domain:
    """A task domain: its name, strategy labels and the label used for non-strategic talk."""

    name: str
    strategies: tuple[str, ...]
    descriptions: dict[str, str]
    fallback: str

    def index(self, strategy: str) -> int:
        """Position of ``strategy`` in :attr:`strategies`; ``ValueError`` names the allowed ones."""
        try:
            return self.strategies.index(strategy)
        except ValueError:
            raise InvalidInput(
                f"unknown {self.name} strategy {strategy!r}; allowed: {', '.join(self.strategies)}"
            ) from None


PERSUASION = Domain("persuasion", PERSUASION_STRATEGIES, PERSUASION_DESCRIPTIONS, "non-strategy")
COUNSELING = Domain("counseling", COUNSELING_STRATEGIES, COUNSELING_DESCRIPTIONS, "Others")
DOMAINS: dict[str, Domain] = {"persuasion": PERSUASION, "counseling": COUNSELING}


def get_domain(name: str) -> Domain:
    """Look a domain up by name; ``ValueError`` lists the known ones."""
    try:
        return DOMAINS[name]
    except KeyError:
        raise InvalidInput(f"unknown domain {name!r}; allowed: {', '.join(DOMAINS)}") from None
