"""``session-rater analyse SCORES.csv``: the report from a scores file, through the command line.

The command is registered on a small argparse parser here, as ``cli.py`` registers it. Scores
are synthetic, in the export's format, with biases injected so that their expectation is
exact (self +0.9, manager +0.4, external assessor 0 against master scores; see
``tests/unit/test_bias.py``); expected signs and figures follow from that construction.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from session_rater.cli import analyse as cli_analyse
from session_rater.usecases.services import EXPORT_COLUMNS

INJECTED = {"tutor": 0.9, "treatment_manager": 0.4, "external_assessor": 0.0}


def synthetic_csv(path: Path, *, n_sessions: int = 30, items: int = 8, seed: int = 1, master: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(1, n_sessions + 1):
        for tutor in rng.choice(np.arange(1, 13), size=2, replace=False):
            truth = rng.integers(1, 5, size=items)
            raters = [
                ("tutor", int(tutor)),
                ("treatment_manager", 100 + session % 3),
                ("external_assessor", 200 + session % 2),
            ]
            for role, rater in raters:
                shift = (rng.random(items) < INJECTED[role]).astype(int)
                noise = rng.choice([-1, 0, 1], size=items, p=[0.15, 0.7, 0.15])
                rows += [
                    (session, int(tutor), rater, role, f"item{k}", int(truth[k] + shift[k] + noise[k]))
                    for k in range(items)
                ]
            if master:
                rows += [(session, int(tutor), 900, "benchmark", f"item{k}", int(truth[k])) for k in range(items)]
    frame = pd.DataFrame(rows, columns=["session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score"])
    frame["rubric_id"], frame["rubric_version"], frame["submitted_at"] = "think-first", "1", "2025-01-01T10:00:00"
    frame[EXPORT_COLUMNS].to_csv(path, index=False)
    return path


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="session-rater")
    cli_analyse.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["analyse", *argv])
    return int(args.func(args))


def json_report(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert run(*argv, "--format", "json") == 0
    out = capsys.readouterr().out

    def no_nan(token: str) -> None:
        raise AssertionError(f"{token} in the JSON report")

    report: dict[str, Any] = json.loads(out, parse_constant=no_nan)
    return report


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    return synthetic_csv(tmp_path / "scores.csv")


def test_the_json_report_follows_the_contract(scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json_report(capsys, str(scores), "--scale", "0-6", "--seed", "7")
    assert {"n_scores", "benchmark_role", "agreement", "bias", "bias_by_role", "bias_by_item", "halo"} <= set(report)
    assert report["n_scores"] == 30 * 2 * 8 * 4
    assert report["benchmark_role"] == "benchmark"
    assert set(report["agreement"]) >= {"overall", "by_item"}
    for measure in report["agreement"]["overall"].values():
        assert {"value", "ci"} <= set(measure)
    assert set(report["agreement"]["by_item"]) == {f"item{k}" for k in range(8)}
    for entry in report["bias"]:
        assert {"rater_id", "rater_role", "n", "mean_diff", "ci", "p_value", "share_over_by_1"} <= set(entry)
        assert entry["ci"] is None or len(entry["ci"]) == 2
    for role, entry in report["bias_by_role"].items():
        assert {"n", "mean_diff", "ci", "p_value"} <= set(entry)
        low, high = entry["ci"]
        assert low <= INJECTED[role] <= high, role
    assert set(report["bias_by_item"]["item0"]) == set(INJECTED)
    assert {"n", "mean_diff", "ci"} <= set(report["bias_by_item"]["item0"]["tutor"])
    for flag in report["halo"]:
        assert {"rater_id", "flag", "detail"} <= set(flag)
    assert report["bootstrap"]["seed"] == 7 and report["skipped_rows"] == 0


def test_mean_differences_are_rater_minus_benchmark_so_over_scoring_is_positive(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json_report(capsys, str(scores))
    by_role = report["bias_by_role"]
    assert by_role["tutor"]["mean_diff"] > by_role["treatment_manager"]["mean_diff"] > 0.2
    tutors = [e for e in report["bias"] if e["rater_role"] == "tutor"]
    assert all(e["mean_diff"] > 0 for e in tutors)


def test_without_master_scores_the_external_assessors_are_the_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = synthetic_csv(tmp_path / "scores.csv", master=False)
    report = json_report(capsys, str(path))
    assert report["benchmark_role"] == "external_assessor"
    assert set(report["bias_by_role"]) == {"tutor", "treatment_manager"}


def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_analysed(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = scores.read_text().splitlines()
    lines[2] = lines[2].replace(",tutor,", ",supervisor,")  # line 3
    lines[9] = lines[9].rsplit(",", 2)[0] + ",many," + lines[9].rsplit(",", 1)[1]  # line 10
    scores.write_text("\n".join(lines) + "\n")
    assert run(str(scores)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{scores}:3: unknown rater_role 'supervisor'" in captured.err
    assert f"{scores}:10: score 'many' is not a number" in captured.err
    assert "2 bad row(s)" in captured.err and "--skip-bad-rows" in captured.err


def test_skip_bad_rows_analyses_the_rest_and_the_report_says_how_many_were_skipped(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with scores.open("a") as handle:
        handle.write("1,1,1,tutor,think-first,1,item0,99x,\n1,1,1,nobody,think-first,1,item1,2,\n")
    report = json_report(capsys, str(scores), "--skip-bad-rows")
    assert report["skipped_rows"] == 2
    assert run(str(scores), "--skip-bad-rows") == 0
    captured = capsys.readouterr()
    assert "Rows skipped as bad: 2" in captured.out
    assert "Skipping 2 bad row(s)" in captured.err


def test_10000_bad_rows_print_the_first_50_and_count_the_rest_exactly(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_bad = len(scores.read_text().splitlines()) + 1
    with scores.open("a") as handle:
        handle.writelines(f"1,1,1,nobody,think-first,1,item{n},2,\n" for n in range(10_000))

    assert run(str(scores)) == 1

    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{scores}:{first_bad}: unknown rater_role 'nobody' (expected one of tutor, treatment_manager, external_assessor, benchmark)"
    assert all(line.startswith(f"{scores}:") for line in lines[:50])
    assert lines[50] == "... and 9,950 more bad rows (fix these, then check the file again)"
    assert lines[51].startswith(f"error: 10,000 bad row(s) in {scores}; nothing was analysed.")
    assert len(lines) == 52
    assert run(str(scores), "--skip-bad-rows", "--resamples", "20") == 0
    assert f"Skipping 10,000 bad row(s) of {scores}." in capsys.readouterr().err


def test_the_text_report_states_the_benchmark_used(scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(scores)) == 0
    text = capsys.readouterr().out
    assert "Reference (benchmark): master (benchmark) scores" in text
    assert "Landis & Koch (1977)" in text and "Krippendorff (2004)" in text
    assert run(str(scores), "--benchmark-role", "external_assessor") == 0
    text = capsys.readouterr().out
    assert "Reference (benchmark): external assessors' scores" in text


def test_ratings_piled_at_the_top_are_warned_about_with_ac2_beside_kappa(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(3)
    rows = ["session_id,tutor_id,rater_id,rater_role,item_id,score"]
    for session in range(40):
        for role, rater in (("tutor", 1), ("treatment_manager", 2), ("external_assessor", 3)):
            for item in range(5):
                rows.append(f"{session},1,{rater},{role},i{item},{3 if rng.random() < 0.9 else 2}")
    path = tmp_path / "top.csv"
    path.write_text("\n".join(rows) + "\n")
    report = json_report(capsys, str(path), "--scale", "0-3")
    assert any("kappa paradox" in w and "AC2" in w for w in report["warnings"])


def test_a_figure_that_cannot_be_computed_is_null_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "session_id,tutor_id,rater_id,rater_role,item_id,score\n1,1,1,tutor,a,3\n1,1,2,external_assessor,a,2\n"
    )
    report = json_report(capsys, str(path))
    icc = report["agreement"]["overall"]["icc_2_1"]
    assert icc["value"] is None and icc["ci"] is None and "two units" in icc["note"]


def test_a_missing_file_gives_a_clear_message_and_status_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(tmp_path / "nowhere.csv")) == 1
    assert "nowhere.csv does not exist" in capsys.readouterr().err


def test_a_benchmark_role_without_scores_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = synthetic_csv(tmp_path / "scores.csv", master=False, n_sessions=3)
    assert run(str(path), "--benchmark-role", "benchmark") == 1
    assert "no scores have rater_role 'benchmark'" in capsys.readouterr().err


def test_the_same_seed_gives_the_same_report(scores: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = json_report(capsys, str(scores), "--seed", "5")
    again = json_report(capsys, str(scores), "--seed", "5")
    assert first == again


def test_agreement_counts_people_not_rating_slots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from session_rater.usecases.analysis import analyse

    rows = []
    for session in range(6):  # each unit scored by 2 of 5 different assessors
        for k, rater in enumerate(((session % 5) + 1, ((session + 1) % 5) + 1)):
            for item in ("a", "b"):
                rows.append({"session_id": session, "tutor_id": 1, "rater_id": rater,
                             "rater_role": "external_assessor", "item_id": item, "score": (session + k) % 4})
    report = analyse(pd.DataFrame(rows), n_boot=50)
    assert report.agreement.overall["krippendorff_alpha_ordinal"].n_raters == 5


# -- issue 11: the scale from the rubric, the G study and the Rasch model ------------------------

REPO = Path(__file__).resolve().parents[2]
RUBRIC, VERSION = "think-first-video-monitoring", "1.0"  # rubrics/think-first-video-monitoring.yaml: 0-3


@pytest.fixture
def rubrics(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's rubrics folder as the settings' (whatever the environment said)."""
    monkeypatch.setenv("SESSION_RATER_RUBRICS_DIR", str(REPO / "rubrics"))
    return REPO / "rubrics"


def on_the_rubric(path: Path, *, rubric: str = RUBRIC, version: str = VERSION) -> Path:
    """The synthetic scores moved onto the 0-3 rubric's scale and named as its scores."""
    frame = pd.read_csv(path)
    frame["score"] = frame["score"].clip(0, 3)
    frame["rubric_id"], frame["rubric_version"] = rubric, version
    frame.to_csv(path, index=False)
    return path


def test_a_score_off_the_rubrics_scale_is_refused_with_a_message_naming_the_rubric_and_its_scale(
    scores: Path, rubrics: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on_the_rubric(scores)
    lines = scores.read_text().splitlines()
    fields = lines[4].split(",")
    fields[7] = "17"  # the score column of the export's layout
    lines[4] = ",".join(fields)
    scores.write_text("\n".join(lines) + "\n")
    assert run(str(scores)) == 1
    err = capsys.readouterr().err
    assert f"{scores}:5: score 17 is off the scale of rubric {RUBRIC} v{VERSION}: expected one of 0, 1, 2, 3" in err
    assert "1 bad row(s)" in err


def test_the_scale_given_with_the_scale_option_wins_over_the_rubrics(
    scores: Path, rubrics: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on_the_rubric(scores)
    frame = pd.read_csv(scores)
    frame.loc[0, "score"] = 17
    frame.to_csv(scores, index=False)
    report = json_report(capsys, str(scores), "--scale", "0-20", "--resamples", "50")
    assert report["scale"] == {"points": [float(p) for p in range(21)], "source": "--scale 0-20"}
    assert run(str(scores), "--scale", "0-20", "--resamples", "50") == 0
    assert "Scale: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 (from --scale 0-20)" in (
        capsys.readouterr().out
    )


def test_the_scale_comes_from_the_rubric_named_in_the_file_and_the_report_says_so(
    scores: Path, rubrics: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on_the_rubric(scores)
    report = json_report(capsys, str(scores), "--resamples", "50")
    assert report["scale"] == {"points": [0.0, 1.0, 2.0, 3.0], "source": f"rubric {RUBRIC} v{VERSION}"}
    assert run(str(scores), "--resamples", "50") == 0
    assert f"Scale: 0, 1, 2, 3 (from rubric {RUBRIC} v{VERSION})" in capsys.readouterr().out


def test_an_unknown_rubric_is_named_and_its_scores_are_checked_only_as_numbers(
    scores: Path, rubrics: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json_report(capsys, str(scores), "--resamples", "50")  # the synthetic file names "think-first" v1
    assert report["scale"]["points"] is None
    source = report["scale"]["source"]
    assert "rubric think-first v1 is not known" in source and str(rubrics) in source
    assert "checked only as whole numbers" in source


def test_the_json_report_gives_the_g_study_and_the_rasch_model_by_the_contract(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json_report(capsys, str(scores), "--resamples", "50")
    g = report["g_study"]
    assert {"design", "estimator", "components", "erho2", "phi", "d_study"} <= set(g)
    assert g["design"] == "(r:s:t) x i", "tutors' sessions, each scored by a manager, an assessor and master scores"
    assert g["estimator"] == "Henderson Method 1", "tutors have different numbers of sessions: unbalanced"
    assert {c["effect"] for c in g["components"]} >= {"t", "i", "s:t", "r:s:t"}
    for component in g["components"]:
        assert set(component) == {"effect", "variance", "df", "ms"}
        assert isinstance(component["effect"], str)
        assert all(isinstance(component[k], float) for k in ("variance", "df", "ms"))
    assert 0 < g["erho2"] <= 1 and 0 < g["phi"] <= g["erho2"], "Phi also counts rater and item effects as error"
    assert [(row["sessions"], row["raters"]) for row in g["d_study"]] == [
        (s, r) for s in range(1, 13) for r in (1, 2, 3)
    ]
    for row in g["d_study"]:
        assert set(row) == {"sessions", "raters", "erho2", "phi"}
        assert isinstance(row["sessions"], int) and isinstance(row["raters"], int)
        assert isinstance(row["erho2"], float) and isinstance(row["phi"], float)
    phi = {(row["sessions"], row["raters"]): row["phi"] for row in g["d_study"]}
    assert phi[1, 1] < phi[2, 1] < phi[12, 1] and phi[3, 1] < phi[3, 2] < phi[3, 3], "more is more dependable"

    m = report["mfrm"]
    assert m["method"] == "JMLE"
    assert set(m["raters"]) == {"100", "101", "102", "200", "201", "900"}, "self-assessments are left out"
    for rater in m["raters"].values():
        assert {"severity", "se", "infit", "outfit"} <= set(rater)
        assert all(isinstance(rater[k], float) for k in ("severity", "se", "infit", "outfit"))
    assert set(m["tutors"]) == {str(t) for t in pd.read_csv(scores)["tutor_id"].unique()}
    for tutor in m["tutors"].values():
        assert {"measure", "se", "fair_average", "raw_average"} <= set(tutor)
        assert all(isinstance(tutor[k], float) for k in ("measure", "se", "fair_average", "raw_average"))
    managers = np.mean([m["raters"][r]["severity"] for r in ("100", "101", "102")])
    assessors = np.mean([m["raters"][r]["severity"] for r in ("200", "201")])
    assert managers < assessors, "the managers' injected +0.4 points make them more lenient (lower severity)"


def test_the_text_report_says_how_dependable_a_tutors_score_is_and_how_severe_each_rater(
    scores: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(scores), "--resamples", "50") == 0
    text = capsys.readouterr().out
    assert "How dependable is a tutor's score" in text
    assert "Design (r:s:t) x i: tutors (t) are what is measured" in text and "Henderson Method 1" in text
    assert "Phi of a tutor's mean score by rated sessions per tutor and raters per session" in text
    assert "each scored by one rater, reach Phi 0.80" in text or "not even 100 sessions reach" in text
    assert "Rater severity and tutors' fair averages (many-facet Rasch model)" in text
    assert "Self-assessments are left out" in text and "fair average" in text


def test_data_that_cannot_support_a_g_study_or_rasch_model_say_why_and_the_rest_of_the_report_comes_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "session_id,tutor_id,rater_id,rater_role,item_id,score\n1,1,1,tutor,a,3\n1,1,2,external_assessor,a,2\n"
    )
    report = json_report(capsys, str(path))
    assert report["bias_by_role"]["tutor"]["mean_diff"] == 1.0, "the rest of the report is there"
    assert report["g_study"]["design"] is None and report["g_study"]["d_study"] == []
    assert "no G study could be estimated" in report["g_study"]["note"]
    assert report["mfrm"]["raters"] == {} and "could not be fitted" in report["mfrm"]["note"]
    assert run(str(path)) == 0
    text = capsys.readouterr().out
    assert "How dependable is a tutor's score" in text and "Not estimated: no G study could be estimated" in text
