"""Long lists of problems: every one counted, the first MAX_LISTED_PROBLEMS listed, then how many
more (one helper for manifests, rubrics, policies, audit files and the analyse command)."""

from __future__ import annotations

from session_rater.errors import (
    MAX_LISTED_PROBLEMS,
    FileContentError,
    ManifestError,
    ProblemTally,
    listed_problems,
)


def problems(n: int) -> list[str]:
    return [f"line {i + 2}: bad" for i in range(n)]


def test_the_listing_shows_50_problems() -> None:
    assert MAX_LISTED_PROBLEMS == 50


def test_up_to_the_limit_every_problem_is_listed_and_nothing_is_added() -> None:
    assert listed_problems(problems(50)) == problems(50)
    assert listed_problems([]) == []


def test_one_over_the_limit_lists_50_and_says_one_more() -> None:
    assert listed_problems(problems(51)) == [*problems(50), "... and 1 more problem (fix these, then check the file again)"]


def test_10000_problems_list_50_and_say_9950_more() -> None:
    assert listed_problems(problems(10_000))[50:] == ["... and 9,950 more problems (fix these, then check the file again)"]


def test_a_total_counts_problems_that_were_never_kept_and_what_names_them() -> None:
    listed = listed_problems(problems(3), 10_000, what="bad row")
    assert listed == [*problems(3), "... and 9,997 more bad rows (fix these, then check the file again)"]


def test_a_tally_keeps_the_first_50_and_counts_them_all() -> None:
    tally = ProblemTally()
    assert not tally
    tally.extend(problems(10_000))
    assert tally and tally.count == 10_000 and tally.kept == problems(50)
    assert tally.listed()[-1] == "... and 9,950 more problems (fix these, then check the file again)"


def test_a_file_error_counts_every_problem_and_its_message_lists_51_lines() -> None:
    error = ManifestError("manifest.csv", problems(50), total=10_000)
    assert isinstance(error, FileContentError)
    assert error.problem_count == 10_000
    assert len(error.errors) == 51 and error.errors[-1].startswith("... and 9,950 more problems")
    message = str(error)
    assert message.startswith("Manifest manifest.csv is invalid (10,000 error(s)):\n  - line 2: bad")
    assert message.count("\n  - ") == 51


def test_a_file_error_given_every_problem_caps_its_listing_too() -> None:
    error = ManifestError("manifest.csv", problems(120))
    assert error.problem_count == 120 and error.errors[:50] == problems(50)
    assert error.errors[50] == "... and 70 more problems (fix these, then check the file again)"
