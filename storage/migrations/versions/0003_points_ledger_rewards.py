"""points ledger rewards

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["chat_pk"], ["chat.id"], name="fk_reward_chat_pk"),
        sa.ForeignKeyConstraint(["created_by_pk"], ["member.id"], name="fk_reward_created_by_pk"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "redemption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("member_pk", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_by_pk", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["chat_pk"], ["chat.id"], name="fk_redemption_chat_pk"),
        sa.ForeignKeyConstraint(
            ["confirmed_by_pk"], ["member.id"], name="fk_redemption_confirmed_by_pk"
        ),
        sa.ForeignKeyConstraint(["member_pk"], ["member.id"], name="fk_redemption_member_pk"),
        sa.ForeignKeyConstraint(["reward_id"], ["reward.id"], name="fk_redemption_reward_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_redemption_code"),
    )
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.create_index("ix_redemption_member_pk", ["member_pk"], unique=False)

    op.create_table(
        "pointentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_pk", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("redemption_id", sa.Integer(), nullable=True),
        sa.Column("chat_pk", sa.Integer(), nullable=True),
        sa.Column("actor_pk", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_pk"], ["member.id"], name="fk_pointentry_actor_pk"),
        sa.ForeignKeyConstraint(["chat_pk"], ["chat.id"], name="fk_pointentry_chat_pk"),
        sa.ForeignKeyConstraint(["member_pk"], ["member.id"], name="fk_pointentry_member_pk"),
        sa.ForeignKeyConstraint(
            ["redemption_id"], ["redemption.id"], name="fk_pointentry_redemption_id"
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_pointentry_ticket_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "member_pk", "reason", name="uq_pointentry_ticket"),
        sa.UniqueConstraint("redemption_id", name="uq_pointentry_redemption"),
    )
    with op.batch_alter_table("pointentry", schema=None) as batch_op:
        batch_op.create_index("ix_pointentry_member_at", ["member_pk", "at"], unique=False)
        batch_op.create_index("ix_pointentry_chat_at", ["chat_pk", "at"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("company", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recycled_of", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_ticket_recycled_of", "ticket", ["recycled_of"], ["id"])

    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phash", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        for band, width in enumerate((4, 3, 3, 3, 3)):
            batch_op.add_column(
                sa.Column(
                    f"phash_b{band}", sqlmodel.sql.sqltypes.AutoString(length=width), nullable=True
                )
            )
            batch_op.create_index(f"ix_photo_phash_b{band}", [f"phash_b{band}"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        for band in range(5):
            batch_op.drop_index(f"ix_photo_phash_b{band}")
            batch_op.drop_column(f"phash_b{band}")
        batch_op.drop_column("phash")

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_recycled_of", type_="foreignkey")
        batch_op.drop_column("recycled_of")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("company")

    with op.batch_alter_table("pointentry", schema=None) as batch_op:
        batch_op.drop_index("ix_pointentry_chat_at")
        batch_op.drop_index("ix_pointentry_member_at")
    op.drop_table("pointentry")

    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.drop_index("ix_redemption_member_pk")
    op.drop_table("redemption")
    op.drop_table("reward")
