"""network: actioned accounts for the ban-evasion search (haris.network.tables)

Revision ID: 0004_network
Revises: 0001_foundation
Create Date: 2026-11-28 13:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_network'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_actions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_actions'))
    )
    with op.batch_alter_table('network_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_actions_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_actions_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('network_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_actions_at'))
        batch_op.drop_index(batch_op.f('ix_network_actions_account_id'))
    op.drop_table('network_actions')
