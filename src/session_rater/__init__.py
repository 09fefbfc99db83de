"""Session Rater: score recorded programme sessions against an integrity checklist, blind,
and measure agreement and over-scoring against a benchmark."""

__version__ = "0.1.0"
