"""banks: hash banks and their entries (haris.match.tables)

Revision ID: 0002_banks
Revises: 0001_foundation
Create Date: 2026-11-28 12:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002_banks'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('banks',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('signal_type', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rebuild_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_banks')),
    sa.UniqueConstraint('name', name=op.f('uq_banks_name'))
    )
    op.create_table('bank_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bank_id', sa.String(length=40), nullable=False),
    sa.Column('signal', sa.Text(), nullable=False),
    sa.Column('signal_key', sa.String(length=64), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_bank_entries_bank_id_banks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_entries')),
    sa.UniqueConstraint('bank_id', 'signal_key', name=op.f('uq_bank_entries_bank_id_signal_key'))
    )
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_entries_bank_id_version'), ['bank_id', 'version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_entries_bank_id_version'))
    op.drop_table('bank_entries')
    op.drop_table('banks')
