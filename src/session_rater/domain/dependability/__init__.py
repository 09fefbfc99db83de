"""Dependability of scores: generalizability theory and the many-facet Rasch model."""

from session_rater.domain.dependability.generalizability import DStudy, GStudy, VarianceComponent, g_study

__all__ = ["DStudy", "GStudy", "VarianceComponent", "g_study"]
