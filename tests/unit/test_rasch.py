"""The many-facet Rasch model by JMLE: the joint maximum, Wright & Masters' statistics, FACETS' rules.

Every expected number comes from a named source, given in the first line of its test. Guilford's
(1954) creativity ratings (FACETS' ``Guilford.txt``) could not be obtained for this repository, so
the estimates are checked against the definition of JMLE itself: the joint likelihood maximised
by a general-purpose optimiser (scipy), and the statistics against Wright & Masters' (1982)
formulas written out observation by observation.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from session_rater.domain.dependability import DesignError, mfrm, mfrm_to_dict

THRESHOLDS = np.array([-1.2, -0.2, 1.4])  # a 0-3 scale


def simulate(
    persons: int = 40,
    raters: int = 5,
    items: int = 4,
    raters_per_person: int = 3,
    thresholds: np.ndarray = THRESHOLDS,
    severity: np.ndarray | None = None,
    seed: int = 7,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Scores drawn from the rating-scale model; returns them and the true rater severities."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, 1, persons)
    difficulty = np.linspace(-0.5, 0.5, items)
    severity = np.linspace(-0.8, 0.8, raters) if severity is None else severity
    rows = []
    k = np.arange(len(thresholds) + 1)
    tau = np.r_[0, np.cumsum(thresholds)]
    for n in range(persons):
        for j in rng.choice(raters, raters_per_person, replace=False):
            for i in range(items):
                psi = k * (ability[n] - difficulty[i] - severity[j]) - tau
                p = np.exp(psi - psi.max())
                rows.append((f"p{n}", f"r{j}", f"i{i}", float(rng.choice(k, p=p / p.sum()))))
    return pd.DataFrame(rows, columns=["person", "rater", "item", "score"]), severity


def fit(data: pd.DataFrame):
    return mfrm(data, person="person", rater="rater", item="item")


def joint_maximum(data: pd.DataFrame) -> dict[str, pd.Series]:
    """The joint maximum-likelihood estimates by BFGS on the log-likelihood, FACETS' identification."""
    p_ids, p = np.unique(data.person, return_inverse=True)
    i_ids, i = np.unique(data.item, return_inverse=True)
    r_ids, r = np.unique(data.rater, return_inverse=True)
    values, x = np.unique(data.score, return_inverse=True)
    m = len(values) - 1
    sizes = np.cumsum([0, len(p_ids), len(i_ids), len(r_ids), m])

    def unpack(v: np.ndarray) -> tuple[np.ndarray, ...]:
        b, d, c, f = (v[sizes[s] : sizes[s + 1]] for s in range(4))
        return b - b.mean(), d - d.mean(), c, f - f.mean()  # persons, items, thresholds centred

    def minus_log_likelihood(v: np.ndarray) -> float:
        b, d, c, f = unpack(v)
        theta = b[p] - d[i] - c[r]
        psi = np.arange(m + 1)[None, :] * theta[:, None] - np.r_[0, np.cumsum(f)][None, :]
        return -float(np.sum(psi[np.arange(len(x)), x] - special.logsumexp(psi, axis=1)))

    found = optimize.minimize(minus_log_likelihood, np.zeros(sizes[-1]), method="BFGS", options={"gtol": 1e-9})
    b, d, c, f = unpack(found.x)
    return {
        "person": pd.Series(b, index=p_ids),
        "item": pd.Series(d, index=i_ids),
        "rater": pd.Series(c, index=r_ids),
        "thresholds": pd.Series(f, index=values[1:]),
    }


def test_jmle_reaches_the_joint_maximum_of_the_likelihood() -> None:
    # Source: definition of JMLE (Wright & Masters 1982, 5.2): the joint likelihood's maximum, found by scipy BFGS.
    data, _ = simulate()
    result = fit(data)
    assert result.converged and not any(result.extreme.values())
    expected = joint_maximum(data)
    assert pd.Series(result.person_measure).sort_index().to_numpy() == pytest.approx(
        expected["person"].to_numpy(), abs=1e-4
    )
    assert pd.Series(result.item_difficulty).sort_index().to_numpy() == pytest.approx(
        expected["item"].to_numpy(), abs=1e-4
    )
    assert pd.Series(result.rater_severity).sort_index().to_numpy() == pytest.approx(
        expected["rater"].to_numpy(), abs=1e-4
    )
    assert list(result.thresholds.values()) == pytest.approx(expected["thresholds"].to_list(), abs=1e-4)


def test_persons_items_and_thresholds_are_centred_and_raters_float() -> None:
    # Source: FACETS' Guilford.txt specification, "examinees and items are centered on 0, judges are allowed to float".
    result = fit(simulate()[0])
    assert np.mean(list(result.person_measure.values())) == pytest.approx(0, abs=1e-9)
    assert np.mean(list(result.item_difficulty.values())) == pytest.approx(0, abs=1e-9)
    assert sum(result.thresholds.values()) == pytest.approx(0, abs=1e-9)
    assert abs(np.mean(list(result.rater_severity.values()))) > 1e-3


def _expected_and_variance(result, person, rater, item) -> tuple[float, float]:
    theta = result.person_measure[person] - result.item_difficulty[item] - result.rater_severity[rater]
    f = np.array(list(result.thresholds.values()))
    psi = np.arange(len(f) + 1) * theta - np.r_[0, np.cumsum(f)]
    p = np.exp(psi - special.logsumexp(psi))
    k = np.arange(len(f) + 1)
    e = float(p @ k)
    return e, float(p @ k**2 - e**2)


def test_standard_errors_and_fit_follow_wright_and_masters() -> None:
    # Source: Wright & Masters (1982) 5.4-5.5: SE = 1/sqrt(sum V), outfit = mean z^2, infit = sum (x-E)^2 / sum V.
    data, _ = simulate()
    result = fit(data)
    for rater, group in data.groupby("rater"):
        moments = [_expected_and_variance(result, row.person, rater, row.item) for row in group.itertuples()]
        residual = group.score.to_numpy() - np.array([e for e, _ in moments])
        variance = np.array([v for _, v in moments])
        assert result.rater_se[rater] == pytest.approx(1 / np.sqrt(variance.sum()), rel=1e-6)
        assert result.rater_outfit[rater] == pytest.approx(np.mean(residual**2 / variance), rel=1e-6)
        assert result.rater_infit[rater] == pytest.approx(np.sum(residual**2) / variance.sum(), rel=1e-6)


def test_fit_flags_an_erratic_rater() -> None:
    # Source: Wright & Masters (1982) 5.5: noise beyond the model's raises the mean squares above 1.
    data, _ = simulate(persons=120, seed=3)
    rng = np.random.default_rng(0)
    erratic = data.rater == "r2"
    data.loc[erratic, "score"] = rng.integers(0, 4, int(erratic.sum())).astype(float)
    result = fit(data)
    assert result.rater_outfit["r2"] == max(result.rater_outfit.values())
    assert result.rater_infit["r2"] > 1.2


def test_fair_average_is_the_expected_score_with_other_facets_at_their_mean() -> None:
    # Source: FACETS' Fair-M average (Linacre 2023, Table 7): expected score with items and raters at their means.
    data, _ = simulate()
    result = fit(data)
    mean_severity = np.mean(list(result.rater_severity.values()))
    f = np.array(list(result.thresholds.values()))
    for person, measure in result.person_measure.items():
        psi = np.arange(4) * (measure - 0.0 - mean_severity) - np.r_[0, np.cumsum(f)]
        expected = float(np.exp(psi - special.logsumexp(psi)) @ np.array(result.categories))
        assert result.person_fair_average[person] == pytest.approx(expected, rel=1e-9)
    assert result.person_raw_average == pytest.approx(data.groupby("person").score.mean().to_dict())


def test_fair_averages_are_in_the_rubrics_units() -> None:
    # Source: FACETS' Fair-M is in the rating scale's own units; a 1-9 scale gives averages between 1 and 9.
    data, _ = simulate()
    result = fit(data.assign(score=data.score * 2 + 1))  # categories 1, 3, 5, 7
    assert result.categories == (1.0, 3.0, 5.0, 7.0)
    assert all(1 < v < 7 for v in result.person_fair_average.values())
    assert list(result.thresholds) == [3.0, 5.0, 7.0]


def test_a_constant_added_to_one_raters_scores_makes_that_rater_the_most_lenient_by_about_that_amount() -> None:
    # Source: the property; the shift is read in score points at the centre of the scale.
    data, _ = simulate(persons=150, raters=5, severity=np.zeros(5), thresholds=np.linspace(-2.4, 2.4, 9), seed=11)
    data = data[data.rater != "r1"]
    shifted = data.copy()
    lifted = (shifted.rater == "r0") & (shifted.score < 9)
    before = fit(data)
    shifted.loc[lifted, "score"] += 1
    after = fit(shifted)
    assert min(after.rater_severity, key=after.rater_severity.get) == "r0"
    f = np.array(list(after.thresholds.values()))

    def expected_score(severity: float) -> float:
        psi = np.arange(10) * (-severity) - np.r_[0, np.cumsum(f)]
        return float(np.exp(psi - special.logsumexp(psi)) @ np.arange(10))

    others = np.mean([v for k, v in after.rater_severity.items() if k != "r0"])
    gain = expected_score(after.rater_severity["r0"]) - expected_score(others)
    assert gain == pytest.approx(lifted.mean() / (shifted.rater == "r0").mean(), abs=0.25)
    assert before.rater_severity["r0"] - after.rater_severity["r0"] > 0.3


def test_permuting_ids_and_rows_changes_nothing() -> None:
    # Source: invariance: the model depends on which scores share an element, not on labels or order.
    data, _ = simulate()
    result = fit(data)
    renamed = data.sample(frac=1, random_state=5).assign(
        person=lambda d: "x" + d.person, rater=lambda d: "y" + d.rater, item=lambda d: "z" + d.item
    )
    other = fit(renamed)
    assert {"y" + k: v for k, v in result.rater_severity.items()} == pytest.approx(other.rater_severity, abs=1e-6)
    assert {"x" + k: v for k, v in result.person_fair_average.items()} == pytest.approx(
        other.person_fair_average, abs=1e-6
    )


def test_injected_rater_severities_are_recovered() -> None:
    # Source: simulation from the model itself (Linacre 1989, ch. 5): estimates recover the generating severities.
    data, severity = simulate(persons=300, raters=8, severity=np.linspace(-1, 1, 8), seed=2)
    result = fit(data)
    estimated = [result.rater_severity[f"r{j}"] for j in range(8)]
    assert stats.spearmanr(estimated, severity).statistic > 0.95


def test_a_person_with_every_score_at_the_top_is_measured_as_facets_does_never_infinite() -> None:
    # Source: FACETS (Linacre 2023, Xtreme=): extreme scores are estimated at 0.3 score points inside the range.
    data, _ = simulate()
    data.loc[data.person == "p0", "score"] = 3.0
    result = fit(data)
    assert result.extreme["person"] == {"p0": "maximum"}
    measure = result.person_measure["p0"]
    assert np.isfinite(measure) and measure == max(result.person_measure.values())
    expected = sum(
        _expected_and_variance(result, row.person, row.rater, row.item)[0]
        for row in data[data.person == "p0"].itertuples()
    )
    assert expected == pytest.approx(3.0 * (data.person == "p0").sum() - 0.3, abs=1e-4)
    assert "extreme scores (1 person(s))" in result.description


def test_convergence_is_stated() -> None:
    # Source: the contract: "convergence stated".
    result = fit(simulate()[0])
    assert result.converged and result.max_change < 1e-5
    assert f"converged in {result.iterations} iterations" in result.description
    assert "no bias correction" in result.description


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.assign(rater="only"), "1 rater"),
        (lambda d: d.assign(score=2.0), "at least two score categories"),
        (lambda d: d.assign(score="good"), "must hold numbers"),
        (lambda d: d.drop(columns="rater"), "no column 'rater'"),
    ],
    ids=["one rater", "one category", "text scores", "missing column"],
)
def test_ill_defined_input_raises_a_value_error_that_says_why(change, message: str) -> None:
    # Source: the contract: one rater or a single category raises a ValueError subclass saying why.
    with pytest.raises(DesignError, match=message) as raised:
        fit(change(simulate()[0]))
    assert isinstance(raised.value, ValueError)


def test_raters_in_disconnected_subsets_are_refused() -> None:
    # Source: Linacre (1989) ch. 9: measures of disconnected subsets are not comparable.
    data, _ = simulate(raters=4)
    first_half = data.person.str[1:].astype(int) < 20
    data = data[(first_half & data.rater.isin(["r0", "r1"])) | (~first_half & data.rater.isin(["r2", "r3"]))]
    with pytest.raises(DesignError, match="2 disconnected subsets"):
        fit(data)


def test_unknown_method_is_refused() -> None:
    # Source: the issue's contract: method="JMLE" (FACETS' method) is the one offered.
    with pytest.raises(DesignError, match="method must be one of"):
        mfrm(simulate()[0], person="person", rater="rater", item="item", method="MML")


def test_mfrm_json_follows_the_analyse_contract() -> None:
    # Source: the JSON contract for analyse --format json.
    result = fit(simulate()[0])
    document = mfrm_to_dict(result)
    assert document["method"] == "JMLE"
    assert set(document["raters"]["r0"]) == {"severity", "se", "infit", "outfit"}
    assert set(document["tutors"]["p0"]) == {"measure", "se", "fair_average", "raw_average"}
    assert document["raters"]["r0"]["severity"] == result.rater_severity["r0"]
    json.dumps(document, allow_nan=False)
