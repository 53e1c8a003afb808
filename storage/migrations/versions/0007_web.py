"""the desk: web sign-in links and sessions, Open311 keys and requests, after photos

Revision ID: 0007
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _str(n: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    op.create_table(
        "weblink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(64), nullable=False),
        sa.Column("member_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_pk"], ["member.id"], name="fk_weblink_member_pk"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "websession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(64), nullable=False),
        sa.Column("member_pk", sa.Integer(), nullable=False),
        sa.Column("csrf", _str(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_pk"], ["member.id"], name="fk_websession_member_pk"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "open311key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", _str(64), nullable=False),
        sa.Column("name", _str(64), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["chat_pk"], ["chat.id"], name="fk_open311key_chat_pk"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "open311request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", _str(32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["open311key.id"], name="fk_open311request_key_id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_open311request_ticket_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
        sa.UniqueConstraint("token"),
    )
    # Every photo so far is a reporter's, and none was cleared for the public.
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", _str(8), nullable=False, server_default="before"))
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("processedmessage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_processedmessage_platform_at", ["platform", "processed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("processedmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_processedmessage_platform_at")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_column("public")
        batch_op.drop_column("kind")
    op.drop_table("open311request")
    op.drop_table("open311key")
    op.drop_table("websession")
    op.drop_table("weblink")
