"""at_risk: people at risk (haris.protect.tables)

Revision ID: 0003_at_risk
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003_at_risk"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "at_risk_persons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("policy", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("platform_account_id", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("stage", sa.String(length=24), nullable=True),
        sa.Column("stages", JSONType, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("intervention_status", sa.String(length=16), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_at_risk_persons")),
    )
    op.create_index(op.f("ix_at_risk_persons_conversation_id"), "at_risk_persons", ["conversation_id"])
    op.create_index(op.f("ix_at_risk_persons_platform_platform_account_id"), "at_risk_persons",
                    ["platform", "platform_account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_at_risk_persons_platform_platform_account_id"), table_name="at_risk_persons")
    op.drop_index(op.f("ix_at_risk_persons_conversation_id"), table_name="at_risk_persons")
    op.drop_table("at_risk_persons")
