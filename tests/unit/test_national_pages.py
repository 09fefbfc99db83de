"""benchmarks/national_pages.py (issue 17) prints its table and exits non-zero when a page
errors or never gets ready, so a broken page is not lost among the figures."""

from __future__ import annotations

import pytest


class _Rss:
    overall = 512.0


def test_a_page_that_errors_or_never_gets_ready_fails_the_run(
    national_pages, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]
) -> None:
    pages = national_pages
    results = pages.Results()
    for round_ in (1, 2):
        results.visits[("Sessions", "administrator", round_)] = pages.Visit("Sessions", "administrator", 1.5, 300.0)
    results.clicks[("treatment manager", 1)] = [0.12, 0.2, 0.15]
    assert pages.report(results, _Rss()) == 0
    out = capsys.readouterr().out
    assert "| Sessions | administrator | 1.50 | 1.50 | 300 / 300 |" in out
    assert "| score click until settled (3) | treatment manager | round 1: median 0.15, max 0.20 | | |" in out

    results.visits[("Agreement", "treatment manager", 2)] = pages.Visit("Agreement", "treatment manager", 3.0, 400.0,
                                                                        "exception: KeyError")  # fmt: skip
    results.visits[("Audit log", "administrator", 1)] = pages.Visit("Audit log", "administrator", None, 400.0,
                                                                    "TimeoutError: Timeout 400000ms exceeded.")  # fmt: skip
    assert pages.report(results, _Rss()) == 1
    out, err = capsys.readouterr()
    assert "| Agreement | treatment manager | - | ERROR | 0 / 400 |" in out
    assert "ERROR round 2, treatment manager, Agreement: exception: KeyError" in err
    assert "ERROR round 1, administrator, Audit log: TimeoutError" in err

