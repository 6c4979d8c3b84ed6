"""console: short-lived media reveal grants, and indexes for the queue's filters (haris.service.tables)

Revision ID: 0007_console
Revises: 0006_service
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_console"
down_revision = "0006_service"
branch_labels = None
depends_on = None

QUEUE_INDEXES = [("queue", "status", "priority_rank", "created_at"),
                 ("policy", "status", "priority_rank", "created_at"),
                 ("assigned_to", "status")]


def upgrade() -> None:
    op.create_table(
        "media_grants",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_media_grants_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "media_id", name=op.f("pk_media_grants")),
    )
    for cols in QUEUE_INDEXES:
        op.create_index(op.f("ix_review_items_" + "_".join(cols)), "review_items", list(cols))
    if op.get_bind().dialect.name == "postgresql":
        # Policies and queues go with severities (terrorism is rarely urgent, child safety always is).
        # Without these statistics the planner assumes independence, and for a filtered queue walks
        # the severity index past thousands of rows of other policies instead of the policy index.
        for col in ("policy", "queue"):
            op.execute(f"CREATE STATISTICS review_items_{col}_status_rank (mcv, dependencies) "
                       f"ON {col}, status, priority_rank FROM review_items")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for col in ("policy", "queue"):
            op.execute(f"DROP STATISTICS IF EXISTS review_items_{col}_status_rank")
    for cols in QUEUE_INDEXES:
        op.drop_index(op.f("ix_review_items_" + "_".join(cols)), table_name="review_items")
    op.drop_table("media_grants")
