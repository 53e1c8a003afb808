"""scheduler runs digests

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "period", "target", name="uq_jobrun"),
    )
    op.create_table(
        "slamark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_slamark_ticket_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "threshold", name="uq_slamark"),
    )
    op.create_table(
        "digestsubscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=False),
        sa.Column("created_by_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["chat_pk"], ["chat.id"], name="fk_digestsubscription_chat_pk"),
        sa.ForeignKeyConstraint(
            ["created_by_pk"], ["member.id"], name="fk_digestsubscription_created_by_pk"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_pk", name="uq_digestsubscription_chat"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("push", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("file_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
        batch_op.add_column(sa.Column("file_data", sa.LargeBinary(), nullable=True))
    # The digest counts by these times; the SLA sweep reads open tickets by age.
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_accepted_at", ["accepted_at"], unique=False)
        batch_op.create_index(
            "ix_ticket_status_created", ["status", "created_at", "chat_pk"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_created_cover",
            ["created_at", "chat_pk", "category", "reporter_pk", "resolved_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ticket_resolved_cover",
            ["resolved_at", "created_at", "chat_pk", "category"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ticket_status_closed",
            ["status", "closed_at", "created_at", "chat_pk"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_resolved_cover")
        batch_op.drop_index("ix_ticket_created_cover")
        batch_op.drop_index("ix_ticket_status_created")
        batch_op.drop_index("ix_ticket_status_closed")
        batch_op.drop_index("ix_ticket_accepted_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("file_data")
        batch_op.drop_column("file_name")
        batch_op.drop_column("file_kind")
        batch_op.drop_column("push")
    op.drop_table("digestsubscription")
    op.drop_table("slamark")
    op.drop_table("jobrun")
