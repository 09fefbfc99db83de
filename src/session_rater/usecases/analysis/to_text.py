"""The report as readable text that states the reference used."""

from __future__ import annotations

import math

from session_rater.domain.bias import (
    BiasEstimate,
)
from session_rater.usecases.analysis.dependability import (
    FIT_FLAGS,
    INFIT_ERRATIC,
    INFIT_PREDICTABLE,
    PHI_TARGET,
    Dependability,
    describe_design,
    effect_words,
    sample_size_words,
)
from session_rater.usecases.analysis.report import (
    MATRICES,
    MEASURES,
    ROLE_LABELS,
    AnalysisReport,
)


def report_to_text(report: AnalysisReport, *, top: int = 20) -> str:
    """A readable report: the reference used, over-scoring by capacity, item and rater, agreement
    with readings and their sources, warnings, and halo flags (``top`` rows of long lists)."""
    out: list[str] = []
    bias = report.bias
    title = "Session Rater: agreement and over-scoring report"
    out += [title, "=" * len(title)]
    if report.source:
        out.append(f"Scores: {report.source}")
    out.append(f"Scores analysed: {report.n_scores:,} ({report.n_not_applicable:,} not applicable left out)")
    if report.skipped_rows:
        out.append(f"Rows skipped as bad: {report.skipped_rows:,} (see the messages on standard error)")
    out.append(f"Reference (benchmark): {bias.reference.describe()}")
    out.append(
        f"Intervals: {bias.confidence:.0%} percentile, {bias.n_boot:,} bootstrap resamples of sessions, "
        f"seed {bias.seed}"
    )
    out.append(_scale_line(report))
    out.append("")
    out += _bias_section(report, top)
    out.append("")
    out += _agreement_section(report)
    out.append("")
    out += _halo_section(report, top)
    if report.dependability is not None:
        out.append("")
        out += _dependability_section(report.dependability)
        out.append("")
        out += _rasch_section(report.dependability, top)
    return "\n".join(out) + "\n"


def _scale_line(report: AnalysisReport) -> str:
    if report.categories is None:
        return f"Scale: {report.scale_source or 'none given'}; chance agreement uses the points observed"
    points = ", ".join(f"{p:g}" for p in report.categories)
    return f"Scale: {points} (from {report.scale_source or 'the caller'})"


def _fmt(x: float | None, spec: str = "+.2f") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def _ci(ci: tuple[float, float] | None, spec: str = "+.2f") -> str:
    return "no interval" if ci is None else f"[{_fmt(ci[0], spec)}, {_fmt(ci[1], spec)}]"


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _bias_section(report: AnalysisReport, top: int) -> list[str]:
    bias = report.bias
    head = "Over-scoring: score minus reference score of the same session, tutor and item (positive = over-scoring)"
    out = [head, "-" * len(head)]
    if not bias.by_role.estimates:
        out.append(f"No pairs: {bias.reference.describe()}.")
        return out
    out.append(
        f"{'capacity':<20}{'pairs':>10}{'mean':>8}  {'95% CI':<18}{'Wilcoxon p':>11}{'1+ above':>10}"
        "  limits of agreement"
    )
    for e in bias.by_role.estimates:
        out.append(
            f"{ROLE_LABELS.get(str(e.key[0]), str(e.key[0])):<20}{e.n:>10,}{_fmt(e.mean_diff):>8}  {_ci(e.ci):<18}"
            f"{_p(e.p_value):>11}{e.share_over_by_1:>10.0%}  {_ci(e.limits)}"
        )
    roles = [str(e.key[0]) for e in bias.by_role.estimates]
    out += ["", "By item (mean difference [95% CI]):"]
    out.append(f"{'item':<16}" + "".join(f"{ROLE_LABELS.get(r, r):<28}" for r in roles))
    table: dict[str, dict[str, BiasEstimate]] = {}
    for e in bias.by_item.estimates:
        table.setdefault(str(e.key[0]), {})[str(e.key[1])] = e
    for item, cells in table.items():
        row = f"{item:<16}"
        for r in roles:
            cell = cells.get(r)
            row += f"{(_fmt(cell.mean_diff) + ' ' + _ci(cell.ci)) if cell else '-':<28}"
        out.append(row)
    ranked = sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff)
    shown = ranked[:top]
    out += ["", f"Raters ranked by mean difference ({len(shown)} of {len(ranked)}; --format json lists all):"]
    out.append(f"{'rater':<14}{'capacity':<20}{'pairs':>8}{'mean':>8}  {'95% CI':<18}{'1+ above':>9}")
    for e in shown:
        out.append(
            f"{e.key[0]!s:<14}{ROLE_LABELS.get(str(e.key[1]), str(e.key[1])):<20}{e.n:>8,}{_fmt(e.mean_diff):>8}  "
            f"{_ci(e.ci):<18}{e.share_over_by_1:>9.0%}"
        )
    out.append(
        "Method: Bland & Altman (1986) mean difference and 95% limits; percentile intervals from a "
        "bootstrap of sessions (Efron & Tibshirani 1993; Davison & Hinkley 1997); Wilcoxon (1945) "
        "signed-rank test. Groups with fewer than 5 sessions get no interval."
    )
    return out


def _agreement_section(report: AnalysisReport) -> list[str]:
    head = "Agreement among raters of the same session, tutor and item"
    out = [head, "-" * len(head)]
    out.append(f"{'measure':<34}{'value':>7}  {'95% CI':<16}{'units':>10}  reading")
    sources: dict[str, str] = {}
    for name, m in report.agreement.overall.items():
        label = MEASURES[name].label
        if m.value is None:
            out.append(f"{label:<34}{'-':>7}  {'':<16}{'':>10}  not computed: {m.note}")
            continue
        reading = ""
        if m.reading:
            reading = f"{m.reading.text} ({m.reading.scale}, on the {m.reading.basis})"
            sources[m.reading.scale] = m.reading.source
        out.append(f"{label:<34}{_fmt(m.value, '.3f'):>7}  {_ci(m.ci, '.3f'):<16}{m.n_units or 0:>10,}  {reading}")
    out += ["", "Matrices:"]
    for kind, text in MATRICES.items():
        used = ", ".join(MEASURES[n].label for n, s in MEASURES.items() if s.matrix == kind)
        out.append(f"  {kind} ({used}): {text}")
    if report.agreement.by_item:
        names = list(MEASURES)
        out += ["", "By item:"]
        out.append(f"{'item':<16}" + "".join(f"{MEASURES[n].short:>10}" for n in names))
        for item, measures in report.agreement.by_item.items():
            out.append(f"{item:<16}" + "".join(f"{_fmt(measures[n].value, '.3f'):>10}" for n in names))
    if report.agreement.warnings:
        out += ["", "Warnings:"]
        out += [f"  - {w}" for w in report.agreement.warnings]
    if sources:
        out += ["", "Readings from:"]
        out += [f"  {text}" for text in sources.values()]
    return out


def _halo_section(report: AnalysisReport, top: int) -> list[str]:
    head = "Independence of item scores (halo and straight-line scoring)"
    out = [head, "-" * len(head)]
    flags = report.independence.flags
    counts: dict[str, int] = {}
    for f in flags:
        counts[f.flag] = counts.get(f.flag, 0) + 1
    if not flags:
        out.append("No rater flagged.")
        return out
    out.append(", ".join(f"{n} rater(s) {flag.replace('_', ' ')}" for flag, n in counts.items()))
    for f in flags[:top]:
        out.append(f"  {f.rater_id!s:<12}{ROLE_LABELS.get(f.rater_role, f.rater_role):<20}{f.flag:<20}{f.detail}")
    if len(flags) > top:
        out.append(f"  ... and {len(flags) - top} more (--format json lists all)")
    return out




def _dependability_section(dep: Dependability) -> list[str]:
    head = "How dependable is a tutor's score (generalizability theory)"
    out = [head, "-" * len(head)]
    gstudy = dep.gstudy
    if gstudy is None:
        out.append(f"Not estimated: {dep.gstudy_note}.")
        return out
    out.append(describe_design(gstudy))
    out.append(f"Scores used: {dep.n_scores:,}; left out: {dep.left_out}.")
    out += ["", "Variance components (a negative estimate counts as 0):"]
    out.append(f"{'effect':<10}{'variance':>10}{'df':>10}{'mean square':>13}  what it stands for")
    for c in gstudy.components:
        out.append(f"{c.effect:<10}{c.variance:>10.4f}{c.df:>10,.0f}{c.ms:>13.4f}  {effect_words(c.effect)}")
    out.append("")
    out.append(
        f"As scored ({sample_size_words(gstudy)}): E rho^2 = {gstudy.erho2:.2f} (for ranking tutors), "
        f"Phi = {gstudy.phi:.2f} (against a fixed standard)."
    )
    if dep.d_study:
        columns = dep.rater_columns
        out.append("")
        out.append(
            "Phi of a tutor's mean score by rated sessions per tutor and raters per session "
            f"({PHI_TARGET:.2f} is the usual minimum for decisions about one person):"
        )
        out.append(f"{'sessions':>8}" + "".join(f"{f'{r} rater' + ('s' if r > 1 else ''):>12}" for r in columns))
        phi = {(row.sessions, row.raters): row.phi for row in dep.d_study}
        for n in sorted({row.sessions for row in dep.d_study}):
            out.append(f"{n:>8}" + "".join(f"{phi[n, r]:>12.3f}" for r in columns))
        out.append("Reading: " + "; ".join(_needed_words(dep)) + ".")
    if dep.d_study_note:
        out.append(f"Note: {dep.d_study_note}.")
    out.append(
        "Method: Brennan (2001) G and D studies; Phi counts rater leniency and item difficulty as error, "
        "E rho^2 does not. Self-assessments are left out: they are not evidence of delivery."
    )
    return out


def _needed_words(dep: Dependability) -> list[str]:
    words = []
    for raters, n in dep.sessions_needed.items():
        who = "one rater" if raters == 1 else f"{raters} raters"
        if n is None:
            words.append(f"with {who} per session not even 100 sessions reach Phi {PHI_TARGET:.2f}")
        else:
            words.append(f"{n} rated session{'s' if n != 1 else ''} per tutor, each scored by {who}, reach "
                         f"Phi {PHI_TARGET:.2f}")  # fmt: skip
    return words


def _rasch_section(dep: Dependability, top: int) -> list[str]:
    head = "Rater severity and tutors' fair averages (many-facet Rasch model)"
    out = [head, "-" * len(head)]
    if dep.model is None:
        out.append(f"Not estimated: {dep.model_note}.")
        return out
    out.append(f"{dep.model.description}. Self-assessments are left out.")
    if dep.model_note:
        out.append(f"Note: {dep.model_note}.")
    out += ["", "Raters (severity in logits: positive = more severe, negative = more lenient than the average rater):"]
    out.append(f"{'rater':<14}{'capacity':<20}{'severity':>9}  {'95% CI':<18}{'infit':>7}{'outfit':>8}  fit")
    for r in sorted(dep.raters, key=lambda r: r.severity)[:top]:
        flag = r.flag or "ok"
        out.append(
            f"{r.key:<14}{ROLE_LABELS.get(r.rater_role, r.rater_role):<20}{r.severity:>+9.2f}  "
            f"{_ci(r.interval):<18}{r.infit:>7.2f}{r.outfit:>8.2f}  {flag}"
        )
    if len(dep.raters) > top:
        out.append(f"  ... and {len(dep.raters) - top} more (--format json lists all)")
    flagged = [r for r in dep.raters if r.flag]
    if flagged:
        out += [f"  {r.key}: {FIT_FLAGS[r.flag]}" for r in flagged if r.flag]
    else:
        out.append(f"No rater's infit is outside {INFIT_PREDICTABLE:g}-{INFIT_ERRATIC:g} (Linacre 2002).")
    out += ["", "Tutors (fair average: the expected score from a rater of average severity; moved = fair - raw):"]
    out.append(f"{'tutor':<14}{'raw average':>12}{'fair average':>14}{'moved':>8}{'measure':>9}{'SE':>6}")
    for t in sorted(dep.tutors, key=lambda t: -abs(t.moved))[:top]:
        out.append(
            f"{t.tutor_id!s:<14}{t.raw_average:>12.2f}{t.fair_average:>14.2f}{t.moved:>+8.2f}"
            f"{t.measure:>+9.2f}{t.se:>6.2f}"
        )
    if len(dep.tutors) > top:
        out.append(f"  ... and {len(dep.tutors) - top} more (--format json lists all)")
    return out
