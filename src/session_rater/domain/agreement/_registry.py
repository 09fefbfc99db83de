"""Every agreement coefficient and variant under one name, each called as ``measure(ratings)``.

The property tests run over this registry (scikit-learn's ``test_common`` pattern), and a
page can offer its keys as choices. Cohen's kappa compares exactly two raters: its entries
take a units x 2 table and are listed in :data:`TWO_RATER_MEASURES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from session_rater.domain.agreement._common import AgreementError, AgreementResult, Ratings, as_matrix
from session_rater.domain.agreement._gwet import gwet_ac, percent_agreement
from session_rater.domain.agreement._icc import icc
from session_rater.domain.agreement._kappa import cohen_kappa, fleiss_kappa
from session_rater.domain.agreement._krippendorff import krippendorff_alpha

Measure = Callable[..., AgreementResult]


def _two_raters(weights: str | None) -> Measure:
    def measure(ratings: Ratings, **options: Any) -> AgreementResult:
        x = as_matrix(ratings)
        if x.shape[1] != 2:
            raise AgreementError(f"Cohen's kappa compares exactly two raters; got {x.shape[1]} rater columns")
        return cohen_kappa(x[:, 0], x[:, 1], weights=weights, **options)

    measure.__name__ = f"cohen_kappa_{weights}" if weights else "cohen_kappa"
    return measure


MEASURES: Mapping[str, Measure] = MappingProxyType(
    {
        "cohen_kappa": _two_raters(None),
        "cohen_kappa_linear": _two_raters("linear"),
        "cohen_kappa_quadratic": _two_raters("quadratic"),
        "fleiss_kappa": fleiss_kappa,
        "krippendorff_alpha_nominal": partial(krippendorff_alpha, level="nominal"),
        "krippendorff_alpha_ordinal": partial(krippendorff_alpha, level="ordinal"),
        "krippendorff_alpha_interval": partial(krippendorff_alpha, level="interval"),
        "krippendorff_alpha_ratio": partial(krippendorff_alpha, level="ratio"),
        "gwet_ac1": gwet_ac,
        "gwet_ac2_linear": partial(gwet_ac, weights="linear"),
        "gwet_ac2_quadratic": partial(gwet_ac, weights="quadratic"),
        "icc_1_1": partial(icc, form="ICC(1,1)"),
        "icc_2_1": partial(icc, form="ICC(2,1)"),
        "icc_3_1": partial(icc, form="ICC(3,1)"),
        "icc_1_k": partial(icc, form="ICC(1,k)"),
        "icc_2_k": partial(icc, form="ICC(2,k)"),
        "icc_3_k": partial(icc, form="ICC(3,k)"),
        "percent_agreement": percent_agreement,
        "percent_agreement_within_1": partial(percent_agreement, tolerance=1),
    }
)
"""Name -> ``measure(ratings, **options) -> AgreementResult`` for every coefficient and variant."""

TWO_RATER_MEASURES: frozenset[str] = frozenset(name for name in MEASURES if name.startswith("cohen_kappa"))
"""The measures that take exactly two rater columns."""
