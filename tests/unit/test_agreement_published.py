"""The agreement coefficients reproduce the values their authors and reference packages published.

Every expected number comes from a named source, given in the first line of its test (or in
the comment above the data). Tolerances follow the number of decimals printed there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from session_rater.domain.agreement import (
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)

N = None

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers x 12
# units with missing data (values 1-5). R irrCAC ships the same table as cac.raw4raters.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ],
    dtype=float,
).T  # units x raters

# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]

# Fleiss (1971), Table 1: 30 patients x 6 psychiatrists, 5 diagnoses (1 depression,
# 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other). The paper gives each
# patient's counts per diagnosis; these rows are R irr's `diagnoses`, one assignment of them
# to raters (Fleiss' kappa depends only on the counts).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# R irrCAC README, distrib.6raters: 15 subjects, counts of 6 raters over 5 categories
# (Depression, Personality Disorder, Schizophrenia, Neurosis, Other, coded 1-5 in that order).
DISTRIB_6RATERS = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip

# Bland & Altman (1986), Lancet 327:307-310, Table 1: peak expiratory flow rate (l/min) of 17
# subjects, first reading with the Wright meter and with the mini Wright meter.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def raw_from_table(table: list[list[int]]) -> tuple[list[int], list[int]]:
    """Two raters' ratings (categories 0, 1, ...) from their contingency table."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def raw_from_distribution(table: list[list[int]]) -> np.ndarray:
    """Units x raters ratings (categories 1, 2, ...) from counts of raters per category."""
    return np.array([np.repeat(np.arange(1, len(row) + 1), row) for row in table], dtype=float)


# --- Krippendorff's alpha -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_reproduces_krippendorff_2011_example_c(level: str, expected: float) -> None:
    # Krippendorff (2011), example C, alpha printed to 3 decimals for each metric
    # (also fast-krippendorff's tests; R irrCAC's krippen.alpha.raw gives nominal 0.74342).
    result = krippendorff_alpha(KRIPPENDORFF_2011, level=level)
    assert result.value == pytest.approx(expected, abs=5e-4)
    assert result.n_units == 11  # unit 12 has a single value and is not pairable
    assert result.n_raters == 4


def test_krippendorff_alpha_nominal_matches_irrcac_to_five_decimals() -> None:
    # R irrCAC README, krippen.alpha.raw(cac.raw4raters): coeff.val 0.74342
    assert krippendorff_alpha(KRIPPENDORFF_2011, level="nominal").value == pytest.approx(0.74342, abs=5e-6)


def test_krippendorff_alpha_reproduces_irrcac_on_a_distribution_of_six_raters() -> None:
    # R irrCAC README, krippen.alpha.dist(distrib.6raters): 0.4204384
    result = krippendorff_alpha(raw_from_distribution(DISTRIB_6RATERS), level="nominal")
    assert result.value == pytest.approx(0.4204384, abs=5e-8)


# --- Fleiss' kappa --------------------------------------------------------------------------


def test_fleiss_kappa_reproduces_fleiss_1971() -> None:
    # Fleiss (1971), p. 381: kappa = .430 (R irr's kappam.fleiss(diagnoses): 0.4302445)
    result = fleiss_kappa(FLEISS_1971)
    assert result.value == pytest.approx(0.4302445, abs=5e-8)
    assert (result.n_units, result.n_raters) == (30, 6)


def test_fleiss_kappa_with_missing_ratings_reproduces_irrcac() -> None:
    # R irrCAC README, fleiss.kappa.raw(cac.raw4raters): pa 0.8181818, pe 0.2387153,
    # coeff 0.76117, se 0.15302, conf.int (0.424, 1)
    result = fleiss_kappa(KRIPPENDORFF_2011)
    assert result.observed == pytest.approx(0.8181818, abs=5e-8)
    assert result.expected == pytest.approx(0.2387153, abs=5e-8)
    assert result.value == pytest.approx(0.76117, abs=5e-6)
    assert result.se == pytest.approx(0.15302, abs=5e-6)
    assert result.ci == pytest.approx((0.424, 1.0), abs=5e-4)


def test_fleiss_kappa_reproduces_irrcac_on_a_distribution_of_six_raters() -> None:
    # R irrCAC README, fleiss.kappa.dist(distrib.6raters): 0.4139265, stderr 0.08119291, (0.24, 0.588)
    result = fleiss_kappa(raw_from_distribution(DISTRIB_6RATERS))
    assert result.value == pytest.approx(0.4139265, abs=5e-8)
    assert result.se == pytest.approx(0.08119291, abs=5e-9)
    assert result.ci == pytest.approx((0.24, 0.588), abs=5e-4)


# --- Gwet's AC1 / AC2 -----------------------------------------------------------------------


def test_gwet_ac1_with_missing_ratings_reproduces_irrcac() -> None:
    # R irrCAC README, gwet.ac1.raw(cac.raw4raters): pa 0.8181818, pe 0.1903212, AC1 0.77544,
    # se 0.14295, conf.int (0.461, 1)
    result = gwet_ac(KRIPPENDORFF_2011)
    assert result.observed == pytest.approx(0.8181818, abs=5e-8)
    assert result.expected == pytest.approx(0.1903212, abs=5e-8)
    assert result.value == pytest.approx(0.77544, abs=5e-6)
    assert result.se == pytest.approx(0.14295, abs=5e-6)
    assert result.ci == pytest.approx((0.461, 1.0), abs=5e-4)
    assert result.n_units == 12


def test_gwet_ac2_quadratic_with_missing_ratings_reproduces_irrcac() -> None:
    # R irrCAC vignette "Weighted Chance-corrected Agreement Coefficients", gwet.ac1.raw(
    # cac.raw4raters, weights = "quadratic"): pa 0.9753788, pe 0.7137044, AC2 0.914, se 0.10396, (0.685, 1)
    result = gwet_ac(KRIPPENDORFF_2011, weights="quadratic")
    assert result.observed == pytest.approx(0.9753788, abs=5e-8)
    assert result.expected == pytest.approx(0.7137044, abs=5e-8)
    assert result.value == pytest.approx(0.914, abs=5e-4)
    assert result.se == pytest.approx(0.10396, abs=5e-6)
    assert result.ci == pytest.approx((0.685, 1.0), abs=5e-4)


def test_gwet_ac1_and_ac2_reproduce_irrcac_on_a_distribution_of_six_raters() -> None:
    # R irrCAC README and weighting vignette, gwet.ac1.dist(distrib.6raters): AC1 0.4448007,
    # stderr 0.08418757, (0.264, 0.625); quadratic AC2 0.4837438, stderr 0.1058227, (0.257, 0.711)
    ratings = raw_from_distribution(DISTRIB_6RATERS)
    ac1, ac2 = gwet_ac(ratings), gwet_ac(ratings, weights="quadratic")
    assert (ac1.value, ac1.se) == pytest.approx((0.4448007, 0.08418757), abs=5e-8)
    assert ac1.ci == pytest.approx((0.264, 0.625), abs=5e-4)
    assert (ac2.value, ac2.se) == pytest.approx((0.4837438, 0.1058227), abs=5e-8)
    assert ac2.ci == pytest.approx((0.257, 0.711), abs=5e-4)


# --- percent agreement ----------------------------------------------------------------------


def test_percent_agreement_with_missing_ratings_reproduces_irrcac() -> None:
    # R irrCAC README, pa.coeff.raw(cac.raw4raters): 0.8181818, se 0.12561, conf.int (0.542, 1)
    result = percent_agreement(KRIPPENDORFF_2011)
    assert result.value == pytest.approx(0.8181818, abs=5e-8)
    assert result.se == pytest.approx(0.12561, abs=5e-6)
    assert result.ci == pytest.approx((0.542, 1.0), abs=5e-4)


# --- Cohen's kappa --------------------------------------------------------------------------

# SAS PROC FREQ output for the 3 x 3 table below, as quoted in statsmodels'
# stats/tests/test_inter_rater.py (TestUnweightedCohens, TestWeightedCohens): kappa, ASE (the
# Fleiss-Cohen-Everitt standard error) and 95% limits; SAS's default Cicchetti-Allison weights
# are the linear weights.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


@pytest.mark.parametrize(
    ("weights", "kappa", "ase", "limits"),
    [(None, 0.4842, 0.1380, (0.2137, 0.7547)), ("linear", 0.4701, 0.1457, (0.1845, 0.7558))],
)
def test_cohen_kappa_and_its_interval_reproduce_sas(
    weights: str | None, kappa: float, ase: float, limits: tuple[float, float]
) -> None:
    # SAS PROC FREQ (AGREE), quoted in statsmodels' test_inter_rater.py
    result = cohen_kappa(*raw_from_table(SAS_TABLE), weights=weights)
    assert result.value == pytest.approx(kappa, abs=5e-5)
    assert result.se == pytest.approx(ase, abs=5e-5)
    assert result.ci == pytest.approx(limits, abs=5e-5)


# R irrCAC README and weighting vignette, cont3x3abstractors (Ectopic, AIU, NIU).
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


@pytest.mark.parametrize(
    ("weights", "kappa", "se"),
    [(None, 0.7964094, 0.05891072), ("quadratic", 0.8921569, 0.03535151)],
)
def test_cohen_kappa_reproduces_irrcac_kappa2_table(weights: str | None, kappa: float, se: float) -> None:
    # R irrCAC, kappa2.table(cont3x3abstractors[, weights = quadratic.weights(1:3)])
    result = cohen_kappa(*raw_from_table(ABSTRACTORS), weights=weights)
    assert result.value == pytest.approx(kappa, abs=5e-8)
    assert result.se == pytest.approx(se, abs=5e-9)
    assert result.n_units == 100


# --- ICC ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "value", "limits"),
    [
        ("ICC(1,1)", 0.17, (-0.133, 0.72)),
        ("ICC(2,1)", 0.29, (0.019, 0.76)),
        ("ICC(3,1)", 0.71, (0.342, 0.95)),
        ("ICC(1,k)", 0.44, (-0.884, 0.91)),
        ("ICC(2,k)", 0.62, (0.071, 0.93)),
        ("ICC(3,k)", 0.91, (0.676, 0.99)),
    ],
)
def test_icc_reproduces_shrout_and_fleiss_1979(form: str, value: float, limits: tuple[float, float]) -> None:
    # Shrout & Fleiss (1979), Table 4 (values to 2 decimals); limits: R psych's ICC() on the
    # same Table 2 data (lower bound to 3 decimals, upper to 2)
    result = icc(SHROUT_FLEISS, form=form)
    assert result.value == pytest.approx(value, abs=0.005)
    assert result.ci is not None
    assert result.ci[0] == pytest.approx(limits[0], abs=5e-4)
    assert result.ci[1] == pytest.approx(limits[1], abs=0.005)
    assert (result.n_units, result.n_raters) == (6, 4)


@pytest.mark.parametrize(
    ("form", "value"),
    [
        ("ICC(1,1)", 0.166),
        ("ICC(2,1)", 0.290),
        ("ICC(3,1)", 0.715),
        ("ICC(1,k)", 0.443),
        ("ICC(2,k)", 0.620),
        ("ICC(3,k)", 0.909),
    ],
)
def test_icc_matches_desctools_to_three_decimals(form: str, value: float) -> None:
    # R DescTools' ICC() on Shrout & Fleiss (1979) Table 2, est printed to 3 decimals
    assert icc(SHROUT_FLEISS, form=form).value == pytest.approx(value, abs=5e-4)


# --- Bland-Altman ---------------------------------------------------------------------------


def test_bland_altman_reproduces_the_lancet_1986_worked_example() -> None:
    # Bland & Altman (1986): mean difference -2.1, SD 38.8, limits -79.7 to 75.5 l/min (2 SD),
    # 95% CI of the lower limit -114.3 to -45.1 (t = 2.12, SE = sqrt(3 s^2 / n) = 16.3)
    result = bland_altman(WRIGHT, MINI_WRIGHT, multiplier=2)
    assert result.bias == pytest.approx(-2.1, abs=0.05)
    assert result.sd == pytest.approx(38.8, abs=0.05)
    assert (result.lower, result.upper) == pytest.approx((-79.7, 75.5), abs=0.1)
    assert result.lower_ci == pytest.approx((-114.3, -45.1), abs=0.15)
    assert result.n == 17


def test_bland_altman_default_limits_use_1_96_sd() -> None:
    # Bland & Altman (1986): 95% limits are mean -/+ 1.96 SD (the paper rounds to 2); with the
    # paper's mean -2.1 and SD 38.8 these are -78.1 and 73.9
    result = bland_altman(WRIGHT, MINI_WRIGHT)
    assert (result.lower, result.upper) == pytest.approx((-78.1, 73.9), abs=0.05)


def test_published_tables_give_the_same_figures_from_a_dataframe() -> None:
    # Krippendorff (2011) example C again, as a pandas DataFrame with None for missing
    frame = pd.DataFrame(KRIPPENDORFF_2011.tolist(), columns=["A", "B", "C", "D"]).astype(object)
    frame = frame.where(frame.notna(), None)
    assert krippendorff_alpha(frame, level="ordinal").value == pytest.approx(0.815, abs=5e-4)
