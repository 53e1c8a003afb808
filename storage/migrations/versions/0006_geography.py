"""geography: grids, stations, a ticket's place, merged reports

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=64), nullable=False),
        sa.Column("level", _S(length=8), nullable=False),
        sa.Column("parent", _S(length=64), nullable=True),
        sa.Column("chat", _S(length=96), nullable=True),
        sa.Column("geometry", _S(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_grid_name"),
    )
    op.create_table(
        "gridversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", _S(length=64), nullable=True),
        sa.Column("source", _S(length=256), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=128), nullable=False),
        sa.Column("address", _S(length=256), nullable=True),
        sa.Column("services", _S(length=256), nullable=True),
        sa.Column("hours", _S(length=64), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index("ix_station_lat_lon", ["lat", "lon"], unique=False)
    op.create_table(
        "nearbyrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _S(length=16), nullable=False),
        sa.Column("chat_id", _S(length=64), nullable=False),
        sa.Column("user_id", _S(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "chat_id", "user_id", name="uq_nearbyrequest"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid", _S(length=64), nullable=True))
        batch_op.add_column(sa.Column("street", _S(length=64), nullable=True))
        batch_op.add_column(sa.Column("district", _S(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("outside", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("geocell", _S(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("reporters", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.create_index(
            "ix_ticket_geocell", ["geocell", "category", "created_at"], unique=False
        )
        batch_op.create_index("ix_ticket_duplicate_of", ["duplicate_of"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_duplicate_of")
        batch_op.drop_index("ix_ticket_geocell")
        for column in ("reporters", "geocell", "outside", "district", "street", "grid"):
            batch_op.drop_column(column)
    op.drop_table("nearbyrequest")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index("ix_station_lat_lon")
    op.drop_table("station")
    op.drop_table("gridversion")
    op.drop_table("grid")
