"""The one exception tree of Session Rater.

Every error the application expects to happen (bad input, a missing file, a rule broken)
is a subclass of :class:`SessionRaterError`, whose message says what is wrong and how to
fix it. Pages show these with ``st.error``; the CLI prints them and exits non-zero.
Anything else is a bug and is allowed to propagate.

    SessionRaterError
    ├── ConfigurationError        a setting is missing or unusable
    ├── FileContentError          a data file is malformed (counts every error of the file,
    │                             lists the first MAX_LISTED_PROBLEMS)
    │   ├── RubricError           a rubric (checklist) YAML file
    │   ├── ManifestError         a recordings manifest CSV
    │   ├── PolicyError           a sampling policy YAML file
    │   ├── RetentionPolicyError  the retention policy YAML file
    │   ├── CertificationRuleError the certification rule YAML file (calibration/)
    │   ├── AuditInstrumentError  an audit instrument YAML file (criteria, sections, weights)
    │   └── AuditMarksError       an audit marks CSV (criterion_id, mark)
    ├── RecordingError            a recording file cannot be used
    │   ├── RecordingMissingError the file is not where the database says it is
    │   └── ConversionCancelled   a conversion was cancelled (nothing half-written is kept)
    ├── ScoreError                a score is not on the rubric's scale, or not a number
    ├── RatingError               a rating cannot be changed in the way asked
    │   ├── RatingLockedError     the rating is submitted (read-only)
    │   ├── StaleEditError        the item was saved elsewhere after this page showed it
    │   └── UniformScoresError    every item has the same score: confirm before submitting
    ├── IncompleteRatingError     submit asked for while items are still unscored
    ├── SamplingError             a sample draw cannot be saved as it stands
    ├── AuditError                an audit's marks cannot be scored as they stand (also a
    │                             ValueError: a mark off the scale, a criterion unmarked ...)
    ├── AgreementError            an agreement figure is not defined for the data (also a
    │                             ValueError; defined in session_rater.domain.agreement)
    ├── DesignError               a G-study or Rasch design is not defined for the data (one
    │                             rater, no replication, a single category; also a ValueError)
    ├── NotFoundError             a session, person or rating id does not exist
    ├── BackupError               a backup cannot be written, or restored where asked
    │                             (the client tools missing, a non-empty database ...)
    ├── AuthError                 signing in (SignInError) or a session that ended (SessionEndedError)
    ├── AccessDeniedError         the signed-in person may not do this
    └── StorageError              the database cannot be reached or written to just now
                                  (read-only, full, down): nothing was saved by that action
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MAX_LISTED_PROBLEMS = 50
"""How many problems a message lists; the rest are counted ("... and 9,950 more problems"), so
that a file with a million bad rows cannot print millions of lines."""


def listed_problems(
    problems: Sequence[str], total: int | None = None, *, limit: int = MAX_LISTED_PROBLEMS, what: str = "problem"
) -> list[str]:
    """The first ``limit`` of ``problems``, then one line saying how many more there are:
    ``... and 9,950 more problems (fix these, then check the file again)``.

    ``total`` is the number of problems found when ``problems`` holds only the first few of
    them (see :class:`ProblemTally`); by default every problem is in ``problems``. ``what``
    names one of them in the last line ("bad row").
    """
    count = len(problems) if total is None else total
    shown = list(problems[:limit])
    more = count - len(shown)
    if more > 0:
        shown.append(f"... and {more:,d} more {what}{'' if more == 1 else 's'} (fix these, then check the file again)")
    return shown


class ProblemTally:
    """Problems in the order they are found: every one counted, only the first ``limit`` kept
    (a file with a million bad rows costs a counter, not a million messages)."""

    def __init__(self, limit: int = MAX_LISTED_PROBLEMS) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.count = 0

    def add(self, problem: str) -> None:
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append(problem)

    def extend(self, problems: Iterable[str]) -> None:
        for problem in problems:
            self.add(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    def listed(self) -> list[str]:
        """What to show: the kept problems, then how many more there are."""
        return listed_problems(self.kept, self.count, limit=self.limit)


class SessionRaterError(Exception):
    """Base class of every error Session Rater expects and explains."""


class ConfigurationError(SessionRaterError):
    """A setting (environment variable) is missing or unusable."""


class FileContentError(SessionRaterError):
    """A data file is malformed.

    ``problem_count`` is how many problems were found. ``errors`` is what to show of them,
    each as ``file: path.to.field: message`` (or with a line number), so that the author can
    fix them in one pass: every problem, or the first :data:`MAX_LISTED_PROBLEMS` and then a
    line saying how many more there are. Pass ``total`` when ``errors`` holds only the first
    problems found (a :class:`ProblemTally`'s ``kept``).
    """

    kind = "File"

    def __init__(self, source: str, errors: Sequence[str], *, total: int | None = None) -> None:
        self.source = source
        self.problem_count = len(errors) if total is None else total
        self.errors = listed_problems(errors, self.problem_count)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{self.kind} {source} is invalid ({self.problem_count:,d} error(s)):\n{lines}")


class RubricError(FileContentError):
    """A rubric (checklist) file is malformed."""

    kind = "Rubric"


class ManifestError(FileContentError):
    """A recordings manifest is malformed."""

    kind = "Manifest"


class PolicyError(FileContentError):
    """A sampling policy file is malformed."""

    kind = "Sampling policy"


class AuditInstrumentError(FileContentError):
    """An audit instrument file (sections, weights, criteria) is malformed."""

    kind = "Audit instrument"


class AuditMarksError(FileContentError):
    """An audit marks file is malformed; nothing in it has been scored."""

    kind = "Audit marks"


class RecordingError(SessionRaterError):
    """A recording file cannot be used."""


class RecordingMissingError(RecordingError):
    """The recording's file is not where the database says it is."""


class ConversionCancelled(RecordingError):
    """A conversion was cancelled; its partial output has been removed."""


class ScoreError(SessionRaterError):
    """A score is not a number on the rubric's scale."""


class RatingError(SessionRaterError):
    """A rating cannot be created or changed in the way asked."""


class RatingLockedError(RatingError):
    """The rating has been submitted and is read-only."""


class StaleEditError(RatingError):
    """The item was saved in another tab or by someone else after this page showed it."""


class UniformScoresError(RatingError):
    """Every item has the same score; submitting needs an explicit confirmation."""


class IncompleteRatingError(RatingError):
    """Submit was asked for while some items are neither scored nor marked N/A."""


class SamplingError(SessionRaterError):
    """A draw cannot be saved as it stands (the sample changed meanwhile, or a rule is broken)."""


class AuditError(SessionRaterError, ValueError):
    """An audit instrument or a set of audit marks breaks a rule of the audit's scoring: a mark
    off the scale, a criterion unmarked or marked twice, weights not summing to 100, a section
    with every criterion N/A (its percentage, and so the IQR, is undefined)."""


class DesignError(SessionRaterError, ValueError):
    """A generalizability or Rasch analysis is not defined for the data given; the message says why.

    Raised for a design the data cannot support: a facet with one level, an effect that never
    varies within another (one rater per session), a single score category, disconnected
    subsets of raters. It is a :class:`ValueError`, so callers that only know numpy's
    conventions still catch it.
    """


class RetentionPolicyError(FileContentError):
    """The retention policy file is malformed."""

    kind = "Retention policy"


class CertificationRuleError(FileContentError):
    """The certification rule file (calibration/default.yaml) is malformed."""

    kind = "Certification rule"


class CalibrationError(SessionRaterError, ValueError):
    """A benchmark, master scores, a calibration round or an exemplar clip breaks a rule of
    calibration (a recording not cleared for training, a panel of one, a change without a
    reason); the message says what to do."""


class BackupError(SessionRaterError):
    """A backup cannot be written or restored as asked; the message says what to do."""


class NotFoundError(SessionRaterError):
    """A session, person, rubric or rating does not exist."""


class AuthError(SessionRaterError):
    """Signing in or staying signed in failed."""


class SignInError(AuthError):
    """Wrong email or password, an unknown or deactivated account, or too many failed tries."""


class SessionEndedError(AuthError):
    """The sign-in is no longer valid: idle too long, signed out, altered, or the account closed."""


class AccessDeniedError(SessionRaterError):
    """The signed-in person may not do this (outside their role, scope or blind-rating rules)."""


class StorageError(SessionRaterError):
    """The database refused an operation for a reason the user cannot fix (it is read-only,
    full, or cannot be reached). What was saved before is kept; the action was not done."""
