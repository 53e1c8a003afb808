"""Tables. Every piece of state the bot needs to survive a restart is a row here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

# Times are naive UTC everywhere; converted to TIMEZONE only when shown.


def _dt(**kw) -> Column:
    return Column(DateTime(), **kw)


class Chat(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=256)
    is_group: bool = True
    enabled: bool = False  # served: in ALLOWED_CHATS, or an admin said /enable here
    told_how_to_enable: bool = False  # an unserved group hears how to enable once, then silence
    created_at: datetime = Field(sa_column=_dt(nullable=False))


class Member(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    name: str = Field(max_length=128)
    language: str | None = Field(default=None, max_length=16)
    # Set once the person started the bot privately: where private notices can go.
    private_chat_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    company: str | None = Field(default=None, max_length=64)  # 公司/站点, for the commendation


class Ticket(SQLModel, table=True):
    """A reported problem. Its id is the number riders see (#17)."""

    __table_args__ = (
        Index("ix_ticket_chat_status", "chat_pk", "status"),
        # The SLA sweep (open tickets by age) and the digest (open at a week's end, by group).
        Index("ix_ticket_status_created", "status", "created_at", "chat_pk"),
        # The digest reads a week of tickets by these two times: covering indexes, so it never
        # visits the table rows (a year of a million tickets in well under a second).
        Index(
            "ix_ticket_created_cover",
            *("created_at", "chat_pk", "category", "reporter_pk", "resolved_at"),
        ),
        Index("ix_ticket_resolved_cover", "resolved_at", "created_at", "chat_pk", "category"),
        # Rejected and merged tickets by when they were closed.
        Index("ix_ticket_status_closed", "status", "closed_at", "created_at", "chat_pk"),
        # One problem, one ticket: recent reports of a category in a few geohash cells.
        Index("ix_ticket_geocell", "geocell", "category", "created_at"),
        Index("ix_ticket_duplicate_of", "duplicate_of"),
    )
    id: int | None = Field(default=None, primary_key=True)
    chat_pk: int = Field(foreign_key="chat.id")
    reporter_pk: int = Field(foreign_key="member.id")
    status: str = Field(default="new", max_length=16)
    category: str = Field(max_length=32)
    description: str | None = None
    lat: float
    lon: float
    address: str | None = Field(default=None, max_length=512)
    source_message_id: str = Field(max_length=64)
    card_message_id: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    tier: int = 0  # 分级吹哨: 0 not dispatched, 1 街区, 2 街道, 3 区
    note: str | None = None  # the latest resolution note or rejection reason
    duplicate_of: int | None = Field(default=None, foreign_key="ticket.id")
    # Its photo is a near-copy of one on this earlier ticket: flagged, earns no points.
    recycled_of: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False, index=True))
    updated_at: datetime = Field(sa_column=_dt(nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True, index=True))
    resolved_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True, index=True))
    closed_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    # Where it is (handlers/geo): the grid covering it and that grid's street and district,
    # or `outside` every loaded grid (区域外). Names, as in the grids file.
    grid: str | None = Field(default=None, max_length=64)
    street: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=64)
    outside: bool = False
    geocell: str | None = Field(default=None, max_length=12)  # geohash (storage/geo.py)
    reporters: int = 1  # riders who reported this problem (itself and its merged duplicates)


class TicketEvent(SQLModel, table=True):
    """The audit trail: one row per change of a ticket, never edited."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    action: str = Field(max_length=16)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    actor_pk: int | None = Field(default=None, foreign_key="member.id")  # None: the bot itself
    note: str | None = None
    department: str | None = Field(default=None, max_length=64)
    tier: int | None = None
    platform_message_id: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_column=_dt(nullable=False))


class Role(SQLModel, table=True):
    """Who may do what: secretary of a chat, official, admin (chat_pk None: everywhere)."""

    __table_args__ = (UniqueConstraint("member_pk", "chat_pk", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(foreign_key="member.id", index=True)
    chat_pk: int | None = Field(default=None, foreign_key="chat.id")
    role: str = Field(max_length=16)
    granted_by_pk: int | None = Field(default=None, foreign_key="member.id")
    granted_at: datetime = Field(sa_column=_dt(nullable=False))


class Invite(SQLModel, table=True):
    """A one-time code: `/claim CODE` in the chat makes the sender its secretary."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    role: str = Field(max_length=16)
    chat_pk: int = Field(foreign_key="chat.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    expires_at: datetime = Field(sa_column=_dt(nullable=False))
    used_by_pk: int | None = Field(default=None, foreign_key="member.id")
    used_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class Draft(SQLModel, table=True):
    """Half a report: one row per person per chat, holding what they sent so far.

    Once it makes a ticket it keeps `ticket_id` until it expires, so the rest of an album
    and a text sent right after still land on that ticket.
    """

    __table_args__ = (UniqueConstraint("chat_pk", "member_pk"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_pk: int = Field(foreign_key="chat.id")
    member_pk: int = Field(foreign_key="member.id")
    started_at: datetime = Field(sa_column=_dt(nullable=False))
    expires_at: datetime = Field(sa_column=_dt(nullable=False))
    lat: float | None = None
    lon: float | None = None
    address: str | None = Field(default=None, max_length=512)
    description: str | None = None
    album_id: str | None = Field(default=None, max_length=64)
    wants_report: bool = False  # looks like a report: keyword, @bot or /report
    asked: bool = False  # we already asked for the missing half
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    # That question, queued to go out after a grace (handlers/prompts.py): the transaction that
    # completes the report deletes it unsent. No foreign key: an outbox row may be gone.
    prompt_outbox_id: int | None = None


# Slices of a photo's 16-hex-digit dHash. Two hashes at most 4 bits apart (handlers.phash.NEAR)
# differ in at most four of these five slices, so they share at least one: an indexed lookup
# finds every near copy without reading every photo ever stored.
PHASH_BANDS = ((0, 4), (4, 7), (7, 10), (10, 13), (13, 16))


def phash_bands(h: str | None) -> dict[str, str | None]:
    """`phash_b0`…`phash_b4` for a hash (all None without one)."""
    return {f"phash_b{i}": h[a:b] if h else None for i, (a, b) in enumerate(PHASH_BANDS)}


BEFORE, AFTER = "before", "after"  # Photo.kind


class Photo(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)  # of the bytes as received
    phash: str | None = Field(default=None, max_length=16)  # dHash, hex: finds re-sent photos
    # Its five slices (handlers.phash.bands), indexed: near copies share at least one.
    phash_b0: str | None = Field(default=None, max_length=4, index=True)
    phash_b1: str | None = Field(default=None, max_length=3, index=True)
    phash_b2: str | None = Field(default=None, max_length=3, index=True)
    phash_b3: str | None = Field(default=None, max_length=3, index=True)
    phash_b4: str | None = Field(default=None, max_length=3, index=True)
    path: str = Field(max_length=256)  # display copy, EXIF stripped
    thumb_path: str = Field(max_length=256)
    size_bytes: int
    width: int
    height: int
    platform_file_id: str | None = Field(default=None, max_length=128)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    # "before": the reporter's; "after": the secretary's 整改后照片 sent with the resolution.
    kind: str = Field(default=BEFORE, max_length=8)
    # Cleared for the public (Open311 media_url, no sign-in): never by default.
    public: bool = False


class ProcessedMessage(SQLModel, table=True):
    """A platform message already acted on: a redelivery finds its row and changes nothing."""

    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "message_id"),
        # /healthz: the latest update per platform, read off the index's end.
        Index("ix_processedmessage_platform_at", "platform", "processed_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    processed_at: datetime = Field(sa_column=_dt(nullable=False))


class Outbox(SQLModel, table=True):
    """A message to send, written in the same transaction as the change that owes it."""

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "dead", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    text: str
    reply_to: str | None = Field(default=None, max_length=64)
    mention_ids: str = "[]"  # JSON list
    buttons: str = "[]"  # JSON list of [label, data]
    edit_message_id: str | None = Field(default=None, max_length=64)
    card_of_ticket: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    not_before: datetime = Field(sa_column=_dt(nullable=False))
    claimed_until: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    # Which sender process holds the lease (handlers/outbox.py `instance_id`): at start, rows
    # held by a process that is gone are taken back at once instead of after the lease.
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    last_error: str | None = None
    dead: bool = False
    sent_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    sent_message_id: str | None = Field(default=None, max_length=64)
    # A scheduled push (reminder, status, digest), not an answer to someone: quiet hours hold it.
    push: bool = False
    # One attached file: "photo" (the digest chart) or "document" (the spreadsheet).
    file_kind: str | None = Field(default=None, max_length=16)
    file_name: str | None = Field(default=None, max_length=128)
    file_data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class JobRun(SQLModel, table=True):
    """A scheduled job done for one period and target ("*": the run as a whole).

    Written in the same transaction as the messages it queued: a second instance's insert
    conflicts and it sends nothing; a restart finds the row and repeats nothing.
    """

    __table_args__ = (UniqueConstraint("job", "period", "target", name="uq_jobrun"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=32)  # "daily", "digest", "scheduler"
    period: str = Field(max_length=32)  # "2026-11-19", "2026-W47"
    target: str = Field(max_length=64)  # "chat:12", "wecom:…", "*"
    late: bool = False  # sent at start-up, after the bot was down when it was due
    ran_at: datetime = Field(sa_column=_dt(nullable=False))


class SlaMark(SQLModel, table=True):
    """An SLA threshold that has acted on a ticket (reminded, escalated): each acts once."""

    __table_args__ = (UniqueConstraint("ticket_id", "threshold", name="uq_slamark"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    threshold: str = Field(max_length=16)  # "accept", "resolve"
    at: datetime = Field(sa_column=_dt(nullable=False))


class DigestSubscription(SQLModel, table=True):
    """An officials' chat that receives the weekly digest."""

    __table_args__ = (UniqueConstraint("chat_pk", name="uq_digestsubscription_chat"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_pk: int = Field(foreign_key="chat.id")
    created_by_pk: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))


class Reward(SQLModel, table=True):
    """Something a merchant gives for points (午餐、修车); chat_pk None: offered in every group."""

    id: int | None = Field(default=None, primary_key=True)
    merchant: str = Field(max_length=64)
    item: str = Field(max_length=128)
    cost: int
    chat_pk: int | None = Field(default=None, foreign_key="chat.id")
    active: bool = True
    created_by_pk: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))


class Redemption(SQLModel, table=True):
    """A code a rider shows the merchant; points leave the ledger only when it is confirmed."""

    __table_args__ = (UniqueConstraint("code", name="uq_redemption_code"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16)
    member_pk: int = Field(foreign_key="member.id", index=True)
    reward_id: int = Field(foreign_key="reward.id")
    cost: int  # as it was when the code was made
    chat_pk: int | None = Field(default=None, foreign_key="chat.id")
    status: str = Field(default="pending", max_length=16)  # pending, confirmed, expired
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    expires_at: datetime = Field(sa_column=_dt(nullable=False))
    confirmed_by_pk: int | None = Field(default=None, foreign_key="member.id")
    confirmed_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class PointEntry(SQLModel, table=True):
    """One line of a member's points ledger, never edited: a balance is the sum of the lines.

    reason: award (first reporter, on resolution), share (a merged duplicate's reporter),
    reversal (a resolved ticket reopened and rejected), adjust (a secretary, with a note),
    redeem (a confirmed redemption code).
    """

    __table_args__ = (
        # A redelivered or repeated resolution cannot award twice; a code cannot deduct twice.
        UniqueConstraint("ticket_id", "member_pk", "reason", name="uq_pointentry_ticket"),
        UniqueConstraint("redemption_id", name="uq_pointentry_redemption"),
        Index("ix_pointentry_member_at", "member_pk", "at"),
        Index("ix_pointentry_chat_at", "chat_pk", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(foreign_key="member.id")
    delta: int
    reason: str = Field(max_length=16)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    redemption_id: int | None = Field(default=None, foreign_key="redemption.id")
    chat_pk: int | None = Field(default=None, foreign_key="chat.id")  # the group it counts in
    actor_pk: int | None = Field(default=None, foreign_key="member.id")  # None: the bot itself
    note: str | None = None
    at: datetime = Field(sa_column=_dt(nullable=False))


class Grid(SQLModel, table=True):
    """One area of the micro-grid model (微网格): a 网格, 街道 or 区 from the grids file.

    An import replaces every row at once (handlers/geo/grids.py); `geometry` is the WGS-84
    polygon as hex WKB, the box beside it lets a map or a query skip it cheaply.
    """

    __table_args__ = (UniqueConstraint("name", name="uq_grid_name"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    level: str = Field(max_length=8)  # 网格, 街道, 区
    parent: str | None = Field(default=None, max_length=64)
    chat: str | None = Field(default=None, max_length=96)  # telegram:<id> or wechat:<room>
    geometry: str
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


class GridVersion(SQLModel, table=True):
    """One row, bumped by every import: a process rebuilds its spatial index when it changes."""

    id: int | None = Field(default=None, primary_key=True)
    version: int = 0
    digest: str | None = Field(default=None, max_length=64)  # sha256 of the file loaded
    source: str | None = Field(default=None, max_length=256)
    imported_at: datetime = Field(sa_column=_dt(nullable=False))


class Station(SQLModel, table=True):
    """A friendly station (友好服务阵地, 骑手驿站) riders may rest at; WGS-84."""

    __table_args__ = (Index("ix_station_lat_lon", "lat", "lon"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    address: str | None = Field(default=None, max_length=256)
    services: str | None = Field(default=None, max_length=256)  # 饮水、充电、微波炉、厕所
    hours: str | None = Field(default=None, max_length=64)
    lat: float
    lon: float


class NearbyRequest(SQLModel, table=True):
    """Someone said /nearby (附近驿站) and the bot waits for their location, until it expires."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id", name="uq_nearbyrequest"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=_dt(nullable=False))


class WebLink(SQLModel, table=True):
    """A one-time sign-in link to the desk, sent privately by `/web`. Only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_pk: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    expires_at: datetime = Field(sa_column=_dt(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie's hash, its CSRF token, until expiry or sign-out."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_pk: int = Field(foreign_key="member.id")
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    expires_at: datetime = Field(sa_column=_dt(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class Open311Key(SQLModel, table=True):
    """An API key of a city system that posts reports (Open311); its tickets land in chat_pk."""

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=64)
    chat_pk: int = Field(foreign_key="chat.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class Open311Request(SQLModel, table=True):
    """A report posted through Open311: its token (GeoReport's tokens/{id}) and the key used."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    key_id: int = Field(foreign_key="open311key.id")
    created_at: datetime = Field(sa_column=_dt(nullable=False))


class Inbox(SQLModel, table=True):
    """A platform update as it arrived, committed before the platform is told it was received
    (Telegram: before the next getUpdates offset or the webhook's 200). Handling works from it;
    `done_at` is set once the update was handled, and a restart resumes the rest in order."""

    __table_args__ = (
        UniqueConstraint("platform", "update_key", name="uq_inbox_update"),
        Index("ix_inbox_pending", "platform", "done_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    update_key: str = Field(max_length=64)  # Telegram's update_id, WeChat's message id
    chat_key: str | None = Field(default=None, max_length=64)  # its chat, when known
    payload: str  # the update as JSON, enough to handle it again after a restart
    received_at: datetime = Field(sa_column=_dt(nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class RateEvent(SQLModel, table=True):
    """One counted event for a limit (a wrong /confirm code, a rider told to slow down). Rows,
    not memory: a limit holds across restarts and between instances."""

    __table_args__ = (Index("ix_rateevent_kind_key_at", "kind", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=64)
    at: datetime = Field(sa_column=_dt(nullable=False))
