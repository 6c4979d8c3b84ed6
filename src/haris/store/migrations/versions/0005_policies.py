"""policy versions

Revision ID: 0005_policies
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_policies"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
    )
    op.create_index(op.f("ix_policy_versions_policy_id_active"), "policy_versions", ["policy_id", "active"])


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_versions_policy_id_active"), table_name="policy_versions")
    op.drop_table("policy_versions")
