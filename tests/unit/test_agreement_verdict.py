"""The Agreement page's verdict (domain.readings.agreement_verdict): one answer in plain words, the
reasons where alpha and AC2 disagree, and which figure answers which question.

Expected readings: Krippendorff (2004, p. 241) for alpha (>= .800 reliable, .667-.800 tentative);
Landis & Koch (1977) for AC2 (.61-.80 substantial); the kappa paradox as Feinstein & Cicchetti
(1990) describe it (high agreement, low kappa when ratings crowd a little of the scale).
"""

from __future__ import annotations

from session_rater.domain.readings import Spread, agreement_verdict


def test_alpha_not_reliable_beside_a_substantial_ac2_on_a_piled_up_scale_is_called_the_kappa_paradox() -> None:
    piled = Spread.of([3] * 80 + [2] * 15 + [1] * 5, [0, 1, 2, 3])
    assert piled is not None and piled.pile == ("top", 3.0, 0.8)
    verdict = agreement_verdict(alpha=0.21, ac2=0.71, exact=0.78, within_one=0.97, spread=piled)
    assert verdict.paradox
    assert verdict.headline.startswith("Raters give near, not the same, scores")
    text = " ".join(verdict.reasons)
    assert "Krippendorff's alpha is 0.21 (not reliable)" in text and "Gwet's AC2 0.71 (substantial)" in text
    assert "Why alpha and AC2 disagree:" in verdict.reasons
    assert "80% of all scores are at the top of the scale (3)" in text and "kappa paradox (Feinstein & Cicchetti 1990)" in text
    assert 'read AC2 and within one point' in verdict.trust and "read alpha and the ICC" in verdict.trust


def test_a_steady_gap_between_capacities_is_given_as_a_reason_too() -> None:
    spread = Spread.of([1] * 30 + [2] * 40 + [3] * 20 + [0] * 10, [0, 1, 2, 3])
    assert spread is not None and spread.points == (1.0, 2.0) and abs(spread.share - 0.7) < 1e-9 and spread.pile is None
    verdict = agreement_verdict(alpha=0.25, ac2=0.61, exact=0.34, within_one=0.85, spread=spread,
                                gap=("tutors (self-assessment)", "external assessors", 1.08))
    text = " ".join(verdict.reasons)
    assert "70% of all scores are on just two neighbouring points of the scale (1 and 2)" in text
    assert "Tutors (self-assessment) score 1.1 points higher than external assessors on average" in text


def test_reliable_alpha_reads_reliable_with_nothing_to_explain() -> None:
    verdict = agreement_verdict(alpha=0.85, ac2=0.9, exact=0.8, within_one=0.99)
    assert verdict.headline.startswith("Raters agree reliably") and not verdict.paradox
    assert "Why alpha and AC2 disagree:" not in verdict.reasons


def test_tentative_and_poor_agreement_are_told_apart() -> None:
    assert agreement_verdict(alpha=0.7, ac2=0.8, exact=0.6, within_one=0.95).headline.startswith(
        "Raters agree well enough for tentative conclusions")
    poor = agreement_verdict(alpha=0.1, ac2=0.2, exact=0.2, within_one=0.5)
    assert poor.headline.startswith("Raters do not agree") and not poor.paradox


def test_without_figures_the_verdict_says_agreement_cannot_be_judged() -> None:
    assert agreement_verdict(alpha=None, ac2=None, exact=None, within_one=None).headline.startswith(
        "Agreement cannot be judged yet")
