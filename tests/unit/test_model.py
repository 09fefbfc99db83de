"""Capacities map to export roles; moments parse as raters type them. (Who may rate what: test_access_rules.)"""

from __future__ import annotations

import pytest

from session_rater.domain.model import Capacity, format_moment, parse_moment


def test_capacities_map_to_the_export_rater_roles_and_back() -> None:
    assert [c.rater_role for c in Capacity] == ["tutor", "treatment_manager", "external_assessor", "benchmark"]
    for capacity in Capacity:
        assert Capacity.from_rater_role(capacity.rater_role) is capacity
    with pytest.raises(ValueError, match="unknown rater_role"):
        Capacity.from_rater_role("manager")


@pytest.mark.parametrize(
    ("text", "seconds"), [("75", 75.0), ("1:15", 75.0), ("1:02:05", 3725.0), ("", None), (" 0:07 ", 7.0), ("12.5", 12.5)]
)
def test_moments_parse_as_seconds_minutes_or_hours(text: str, seconds: float | None) -> None:
    assert parse_moment(text) == seconds


@pytest.mark.parametrize("text", ["abc", "1:75", "-3", "1:2:3:4", "1::2"])
def test_a_moment_that_is_not_a_time_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="(?i)time|below 60"):
        parse_moment(text)


def test_moments_format_for_display() -> None:
    assert [format_moment(s) for s in (None, 7, 75.9, 3725)] == ["", "0:07", "1:15", "1:02:05"]
