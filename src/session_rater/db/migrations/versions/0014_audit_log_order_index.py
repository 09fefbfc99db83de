"""The Audit log's first page in its own order (issue 17): audit_log (at, id) in place of (at).

The Audit log reads its newest entries ``ORDER BY at DESC, id DESC LIMIT n``. On PostgreSQL the
index on ``at`` alone gives the order of ``at`` but not of ``id`` within one instant, so the
plan read every entry sharing the newest instants and sorted them (an Incremental Sort): at
300 k scores, where a bulk load writes 76,100-125,000 entries in the same microsecond, 1,000
entries took 28-44 ms and read 76,101 rows; on (at, id) an Index Scan Backward reads the 1,000
(0.2 ms). SQLite already read them in order (its index on ``at`` carries the rowid, which is
``id``): the new index is the same there. (at, id) answers everything (at) did (the first
entry's time, the periods), so (at) goes: one index less to write per item score saved.

Checked and not added (EXPLAIN ANALYZE at 300 k scores, 13,044 ratings, 20,006 recordings,
18,605 sample assignments, median of three runs; ``benchmarks/explain_queries.py URL --timing``):
ratings (recording_id, rater_id, capacity) for each rater's done assignments (Coverage, the
retention review), ratings (status, is_current, rubric_id, rubric_version) for the Rubrics
page's counts and recordings (area) for the list of areas were not used by the planner (hash
joins and scans of tables this small stay cheaper: 3-15 ms either way).

Revision ID: 0014_audit_log_order_index
Revises: 0013_page_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0014_audit_log_order_index"
down_revision = "0013_page_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE/DROP INDEX (no table rebuild on SQLite): batch mode would copy audit_log.
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])
    op.drop_index("ix_audit_log_at", table_name="audit_log")


def downgrade() -> None:
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.drop_index("ix_audit_log_at_id", table_name="audit_log")
