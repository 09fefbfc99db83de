"""G studies and D studies reproduce Brennan (2001), GeneralizIT and Henderson's Method 1.

Every expected number comes from a named source, given in the first line of its test or in the
JSON fixture it loads (``tests/data/dependability/``). Tolerances follow the decimals printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from session_rater.domain.dependability import (
    DesignError,
    _anova,
    d_study_table,
    g_study,
    g_study_to_dict,
    sessions_needed,
    tutor_dependability,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "dependability"
BRENNAN = json.loads((DATA / "brennan_expected.json").read_text())
GENERALIZIT = json.loads((DATA / "generalizit_d_studies.json").read_text())
ARGS = {case["file"]: case["args"] for case in BRENNAN["cases"]}


def _study(file: str, **extra: object):
    return g_study(pd.read_csv(DATA / file), **{**ARGS[file], **extra})


def _narayanan(missing: bool = False) -> pd.DataFrame:
    data = pd.read_csv(DATA / "narayanan_i_x_p_in_d.csv")
    if missing:  # Smith & Kline (2025), Table 24: one item score missing for one patient of each doctor
        gone = ((data.patient == 1) & (data.item == 1)) | ((data.patient == 10) & (data.item == 2))
        gone |= (data.patient == 15) & (data.item == 3)
        data = data[~gone]
    return data


NARAYANAN_ARGS = {"object": "patient", "facets": ["doctor", "item"], "nested": {"patient": "doctor"}}


# --- Brennan's synthetic data sets -------------------------------------------------------------


@pytest.mark.parametrize("case", BRENNAN["cases"], ids=[c["name"] for c in BRENNAN["cases"]])
def test_variance_components_match_brennan(case: dict) -> None:
    # Source: Brennan (2001) synthetic data sets, printed values as in GeneralizIT's fixtures (brennan_expected.json).
    study = _study(case["file"])
    assert study.design == case["design"]
    assert study.estimator == case["estimator"]
    for columns, expected in case["components"]:
        assert study.component(*columns) == pytest.approx(expected, abs=case.get("component_tolerance", 1e-4)), columns
    rows = {frozenset(c.columns): c for c in study.components}
    for columns, expected in case.get("df", []):
        assert rows[frozenset(columns)].df == expected
    for columns, expected in case.get("ms", []):
        assert rows[frozenset(columns)].ms == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("case", BRENNAN["cases"], ids=[c["name"] for c in BRENNAN["cases"]])
def test_coefficients_at_observed_sizes_match_brennan(case: dict) -> None:
    # Source: Brennan (2001) E rho^2 and Phi of the synthetic data sets (brennan_expected.json).
    study = _study(case["file"])
    tolerance = 0.5 * 10 ** -case["coefficient_decimals"]
    assert study.erho2 == pytest.approx(case["erho2"], abs=tolerance)
    assert study.phi == pytest.approx(case["phi"], abs=tolerance)


@pytest.mark.parametrize(
    "case, fixed",
    [(c, f) for c in BRENNAN["cases"] for f in c.get("fixed", [])],
    ids=[f"{c['name']}, {f['fixed']} fixed" for c in BRENNAN["cases"] for f in c.get("fixed", [])],
)
def test_fixed_facets_match_brennan(case: dict, fixed: dict) -> None:
    # Source: Brennan (2001) No. 3 with items fixed (.81/.79) and No. 4 with tasks fixed (.77/.72), GeneralizIT fixtures.
    d = _study(case["file"]).d_study({}, fixed=fixed["fixed"])
    assert d.erho2 == pytest.approx(fixed["erho2"], abs=0.005)
    assert d.phi == pytest.approx(fixed["phi"], abs=0.005)


def test_unbalanced_design_uses_brennans_effective_sample_sizes() -> None:
    # Source: Brennan (2001) eq. 7.15 for Table 7.5: n_i+ = 8 items in n_i:h = 2, 4, 2, so n~_h = 64/24.
    study = _study("brennan_unbalanced_p_x_i_in_h.csv")
    assert study.sample_sizes["h"] == pytest.approx(64 / 24)
    assert study.sample_sizes["h"] * study.sample_sizes["i"] == pytest.approx(8)


@pytest.mark.parametrize(
    "case",
    GENERALIZIT["d_studies"],
    ids=[f"{c['data'][:12]} {c['sizes']} fixed={c['fixed']}" for c in GENERALIZIT["d_studies"]],
)
def test_d_studies_match_generalizit(case: dict) -> None:
    # Source: GeneralizIT 0.1.2 calculate_d_study on Brennan's No. 3 and No. 4, 4 decimals (generalizit_d_studies.json).
    d = _study(case["data"]).d_study(case["sizes"], fixed=case["fixed"])
    assert d.erho2 == pytest.approx(case["erho2"], abs=1.01e-4)
    assert d.phi == pytest.approx(case["phi"], abs=1.01e-4)


def test_d_study_at_the_observed_sizes_reproduces_the_g_study_when_balanced() -> None:
    # Source: Brennan (2001) section 4.1: the G study's sample sizes are one D study among others.
    study = _study("brennan_no4_p_x_r_in_t.csv")
    d = study.d_study({"t": 3, "r": 4})
    assert (d.erho2, d.phi) == pytest.approx((study.erho2, study.phi))
    assert d.relative_error_variance == pytest.approx(0.5596 / 3 + 2.3802 / 12, abs=1e-4)


# --- unbalanced and missing data: Henderson's Method 1 ------------------------------------------


def test_henderson_components_of_narayanan_data_match_smith_and_kline() -> None:
    # Source: Smith & Kline (2025) GeneralizIT tutorial, Table 11 (Narayanan et al. 2010 data, i x (p:d)).
    study = g_study(_narayanan(), **NARAYANAN_ARGS)
    assert study.estimator == "Henderson Method 1"
    expected = {("doctor",): 0.002, ("patient", "doctor"): 0.092, ("item",): 0.028, ("doctor", "item"): -0.016}
    for columns, value in expected.items():
        assert study.component(*columns) == pytest.approx(value, abs=5e-4)
    assert study.component("patient", "doctor", "item") == pytest.approx(0.157, abs=5e-4)


def test_a_negative_component_is_reported_and_counts_as_zero_in_the_coefficients() -> None:
    # Source: Smith & Kline (2025) Table 13: sigma^2(di) = -.016 enters Delta as 0; E rho^2 = .752, Phi = .718.
    study = g_study(_narayanan(), **NARAYANAN_ARGS)
    assert study.component("doctor", "item") < 0
    assert study.erho2 == pytest.approx(0.752, abs=0.003)  # the tutorial rounds components to 3 decimals first
    assert study.phi == pytest.approx(0.718, abs=0.001)


def test_missing_cells_match_smith_and_kline() -> None:
    # Source: Smith & Kline (2025) Tables 27-29: three missing scores; components and E rho^2 .700, Phi .675.
    study = g_study(_narayanan(missing=True), **NARAYANAN_ARGS)
    assert study.n_observations == 77
    expected = {("doctor",): 0.001, ("patient", "doctor"): 0.083, ("item",): 0.021, ("doctor", "item"): -0.014}
    for columns, value in expected.items():
        assert study.component(*columns) == pytest.approx(value, abs=5e-4)
    assert study.component("patient", "doctor", "item") == pytest.approx(0.170, abs=5e-4)
    assert study.sample_sizes["item"] == pytest.approx(4.776, abs=5e-4)  # Table 28: harmonic mean of 4 and 5 items
    assert study.erho2 == pytest.approx(0.700, abs=0.003)
    assert study.phi == pytest.approx(0.675, abs=0.003)


def test_a_missing_value_is_the_same_as_an_absent_row() -> None:
    # Source: the contract: "A missing cell is an absent row (or a NaN value)".
    data = _narayanan()
    as_nan = data.assign(score=data.score.where(~((data.patient == 1) & (data.item == 1))))
    absent = data[~((data.patient == 1) & (data.item == 1))]
    assert g_study(as_nan, **NARAYANAN_ARGS).components == g_study(absent, **NARAYANAN_ARGS).components


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BRENNAN["cases"][:4], ids=[c["name"] for c in BRENNAN["cases"][:4]])
def test_balanced_data_give_the_same_components_by_both_estimators(case: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # Source: Henderson (1953) and Searle et al. (1992) 5.3: Method 1 is the ANOVA estimator on balanced data.
    anova = _study(case["file"])
    monkeypatch.setattr(_anova, "balanced_sizes", lambda index: None)
    henderson = _study(case["file"])
    assert anova.estimator == "ANOVA" and henderson.estimator == "Henderson Method 1"
    for a, h in zip(anova.components, henderson.components, strict=True):
        assert h.variance == pytest.approx(a.variance, abs=1e-10)


@pytest.mark.parametrize("case", BRENNAN["cases"], ids=[c["name"] for c in BRENNAN["cases"]])
def test_permuting_ids_and_rows_changes_nothing(case: dict) -> None:
    # Source: invariance: a G study depends on which observations share a level, not on the labels.
    data = pd.read_csv(DATA / case["file"])
    rng = np.random.default_rng(11)
    shuffled = data.sample(frac=1, random_state=3).reset_index(drop=True)
    for column in data.columns[:-1]:
        levels = shuffled[column].unique()
        shuffled[column] = shuffled[column].map(dict(zip(levels, [f"x{v}" for v in rng.permutation(len(levels))])))
    original, permuted = _study(case["file"]), g_study(shuffled, **case["args"])
    for a, b in zip(original.components, permuted.components, strict=True):
        assert b.variance == pytest.approx(a.variance, abs=1e-10)
    assert (permuted.erho2, permuted.phi) == pytest.approx((original.erho2, original.phi))


def test_component_lookup_is_order_insensitive_and_names_follow_brennan() -> None:
    # Source: Brennan (2001) notation for p x (r:t): p, t, pt, r:t, pr:t,e.
    study = _study("brennan_no4_p_x_r_in_t.csv")
    assert [c.effect for c in study.components] == ["p", "t", "pt", "r:t", "pr:t,e"]
    assert study.component("t", "r") == study.component("r", "t")
    with pytest.raises(KeyError, match="no effect"):
        study.component("r")


def test_replicated_cells_get_their_own_residual() -> None:
    # Source: Brennan (2001) 3.2: with replications the residual e is separated from the highest interaction.
    data = pd.read_csv(DATA / "brennan_no1_p_x_i.csv")
    twice = pd.concat([data, data.assign(score=data.score[::-1].to_numpy())])
    study = g_study(twice, object="person", facets=["item"])
    assert [c.effect for c in study.components] == ["p", "i", "pi", "e"]
    assert study.components[-1].df == len(twice) - len(data)


# --- ill-defined designs -------------------------------------------------------------------------


def _app(
    raters_per_session: int = 2, sessions: int = 3, tutors: int = 6, items: int = 4, seed: int = 5
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(tutors):
        for s in range(sessions):
            for r in rng.choice(9, raters_per_session, replace=False):
                for i in range(items):
                    score = np.clip(round(1.5 + 0.5 * (t % 3) - 0.3 * (r % 2) + 0.2 * i + rng.normal(0, 0.6)), 0, 3)
                    rows.append((f"s{t}-{s}", f"t{t}", f"r{r}", f"i{i}", float(score)))
    return pd.DataFrame(rows, columns=["session_id", "tutor_id", "rater_id", "item_id", "score"])


def test_one_rater_per_session_cannot_separate_raters_from_sessions() -> None:
    # Source: Brennan (2001) 3.2: a nested effect needs two levels within its nest to be estimated.
    data = _app(raters_per_session=1)
    with pytest.raises(DesignError, match="no tutor_id x session_id cell has two levels of 'rater_id'"):
        g_study(
            data,
            object="tutor_id",
            facets=["session_id", "rater_id", "item_id"],
            nested={"session_id": "tutor_id", "rater_id": "session_id"},
        )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.assign(item="one"), "single level"),
        (lambda d: d.assign(score=1.0), "every score is 1"),
        (lambda d: d.assign(score="high"), "must hold numbers"),
        (lambda d: d.drop(columns="item"), "no column 'item'"),
    ],
    ids=["one item", "constant scores", "text scores", "missing column"],
)
def test_ill_defined_input_raises_a_value_error_that_says_why(change, message: str) -> None:
    # Source: the contract: ill-defined input raises a ValueError subclass that says why.
    data = change(pd.read_csv(DATA / "brennan_no1_p_x_i.csv"))
    with pytest.raises(DesignError, match=message) as raised:
        g_study(data, object="person", facets=["item"])
    assert isinstance(raised.value, ValueError)


def test_nesting_must_be_a_hierarchy_of_known_columns() -> None:
    # Source: Brennan (2001) 3.2: nesting is a hierarchy of facets.
    data = pd.read_csv(DATA / "brennan_no4_p_x_r_in_t.csv")
    with pytest.raises(DesignError, match="cycle"):
        g_study(data, object="person", facets=["t", "r"], nested={"r": "t", "t": "r"})
    with pytest.raises(DesignError, match="neither the object nor a facet"):
        g_study(data, object="person", facets=["t", "r"], nested={"r": "task"})


# --- the app's design -----------------------------------------------------------------------------


def test_tutors_are_measured_with_raters_in_sessions_in_tutors_crossed_with_items() -> None:
    # Source: Brennan (2001) notation; the design is argued in session_rater.domain.dependability.tutors.
    study = tutor_dependability(_app())
    assert study.design == "(r:s:t) x i"
    assert study.estimator in {"ANOVA", "Henderson Method 1"}
    assert {c.effect for c in study.components} == {"t", "i", "s:t", "ti", "r:s:t", "si:t", "ri:s:t,e"}


def test_without_double_scoring_raters_are_left_out_of_the_design() -> None:
    # Source: Brennan (2001) 3.2: r:s cannot be estimated with one rater per session.
    study = tutor_dependability(_app(raters_per_session=1))
    assert study.design == "(s:t) x i"
    with pytest.raises(DesignError, match="no facet 'rater_id'"):
        d_study_table(study)


def test_d_study_table_has_every_sessions_by_raters_cell_and_phi_grows_with_both() -> None:
    # Source: Brennan (2001) eq. 4.12: error variances shrink as n' grows.
    table = d_study_table(tutor_dependability(_app()))
    frame = table.to_frame()
    assert list(frame.columns) == ["sessions", "raters", "erho2", "phi"]
    assert len(frame) == 12 * 3
    for _, by_raters in frame.groupby("raters"):
        assert by_raters.phi.is_monotonic_increasing
    for _, by_sessions in frame.groupby("sessions"):
        assert by_sessions.phi.is_monotonic_increasing
    assert (frame.phi <= frame.erho2 + 1e-12).all()


def test_sessions_needed_is_the_first_d_study_reaching_the_target() -> None:
    # Source: definition: the smallest n'_s with Phi >= .80 for the given n'_r.
    study = tutor_dependability(_app())
    needed = sessions_needed(study, raters=2)
    assert needed is not None
    assert study.d_study({"session_id": needed, "rater_id": 2}).phi >= 0.80
    if needed > 1:
        assert study.d_study({"session_id": needed - 1, "rater_id": 2}).phi < 0.80
    assert sessions_needed(study, raters=2, target=0.999999, max_sessions=3) is None


def test_g_study_json_follows_the_analyse_contract() -> None:
    # Source: the JSON contract for analyse --format json.
    study = tutor_dependability(_app())
    document = g_study_to_dict(study, d_study=d_study_table(study, sessions=[1, 2], raters=[1]))
    assert set(document) == {"design", "estimator", "components", "erho2", "phi", "d_study"}
    assert set(document["components"][0]) == {"effect", "variance", "df", "ms"}
    assert document["d_study"] == [
        {"sessions": n, "raters": 1, "erho2": pytest.approx(r.erho2), "phi": pytest.approx(r.phi)}
        for n, r in zip([1, 2], d_study_table(study, sessions=[1, 2], raters=[1]).rows, strict=True)
    ]
    json.dumps(document, allow_nan=False)


@pytest.mark.filterwarnings("ignore:The MLE may be on the boundary")  # statsmodels' own caution, not ours
def test_balanced_components_agree_with_reml_when_all_are_positive() -> None:
    # Source: statsmodels MixedLM (REML), crossed random effects; REML equals ANOVA on balanced data with no negative estimate.
    import statsmodels.formula.api as statsmodels  # a test dependency: this check must run, not skip
    data = pd.read_csv(DATA / "brennan_no3_p_x_i_x_o.csv")
    labels = {"pi": ("person", "i"), "po": ("person", "o"), "io": ("i", "o")}
    for name, (a, b) in labels.items():
        data[name] = data[a].astype(str) + "_" + data[b].astype(str)
    formulas = {"p": "0 + C(person)", "i": "0 + C(i)", "o": "0 + C(o)"} | {k: f"0 + C({k})" for k in labels}
    reml = statsmodels.mixedlm("score ~ 1", data.assign(one=1), groups="one", vc_formula=formulas, re_formula="0")
    fitted = reml.fit(reml=True, method="lbfgs")
    by_name = dict(zip(fitted.model.exog_vc.names, fitted.vcomp, strict=True))
    study = _study("brennan_no3_p_x_i_x_o.csv")
    columns = {"p": ["person"], "i": ["i"], "o": ["o"]} | {k: list(v) for k, v in labels.items()}
    for name, cols in columns.items():
        assert study.component(*cols) == pytest.approx(by_name[name], abs=2e-4), name
    assert study.component("person", "i", "o") == pytest.approx(fitted.scale, abs=2e-4)


def test_with_one_session_per_tutor_raters_are_nested_in_tutors() -> None:
    # Source: Brennan (2001) 3.2: s:t needs two sessions in a tutor; raters then nest in tutors directly.
    study = tutor_dependability(_app(sessions=1))
    assert study.design == "(r:t) x i"
    assert "session_id" not in study.facets
