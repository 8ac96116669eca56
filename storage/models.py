"""The archive's tables: one DeclarativeBase with a naming convention, ``Mapped[]`` columns.

Raw bytes (WARC files, attachment blobs) live under the data directory, addressed by
digest; the database holds what points at them, so the archive stays verifiable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Timestamps are stored timezone-aware in UTC; display code converts to UTC+8.
TZDateTime = DateTime(timezone=True)


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # registry key, e.g. "mawei"
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(255))
    base_url: Mapped[str] = mapped_column(String(1000))
    family: Mapped[str] = mapped_column(String(50))
    area_code: Mapped[str | None] = mapped_column(String(12))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)  # politeness/schedule
    health: Mapped[str] = mapped_column(String(20), default="unknown")  # ok, quiet, layout_changed, blocked, down
    health_detail: Mapped[str | None] = mapped_column(Text)
    blocked_until: Mapped[datetime | None] = mapped_column(TZDateTime)  # backed off after blocks (0006)
    baseline_at: Mapped[datetime | None] = mapped_column(TZDateTime)  # first crawl done: alerts start after it
    created_at: Mapped[datetime] = mapped_column(TZDateTime)

    columns: Mapped[list[Column]] = relationship(back_populates="site", order_by="Column.id")


class Column(Base):
    __tablename__ = "column"
    __table_args__ = (UniqueConstraint("site_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(200))
    hints: Mapped[dict] = mapped_column(JSON, default=dict)  # family hints, explicit selectors
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_crawled_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    site: Mapped[Site] = relationship(back_populates="columns")


class Notice(Base):
    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    canonical_url: Mapped[str] = mapped_column(String(1000), unique=True)
    url: Mapped[str] = mapped_column(String(1000))  # as first linked
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_version.id", use_alter=True, ondelete="SET NULL")
    )
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    title: Mapped[str] = mapped_column(Text, default="")  # denormalised from current version
    published_at: Mapped[str | None] = mapped_column(String(40), index=True)  # ISO, +08:00
    content_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    body_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)  # exact reposts
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # near-duplicate signature
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id", ondelete="SET NULL"), index=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    first_seen_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_changed_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    missing_since: Mapped[datetime | None] = mapped_column(TZDateTime)  # gone from lists

    site: Mapped[Site] = relationship()
    versions: Mapped[list[NoticeVersion]] = relationship(
        back_populates="notice", order_by="NoticeVersion.version", foreign_keys="NoticeVersion.notice_id"
    )
    current_version: Mapped[NoticeVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    columns: Mapped[list[Column]] = relationship(secondary="notice_column", order_by="Column.id")


class NoticeColumn(Base):
    __tablename__ = "notice_column"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True)
    column_id: Mapped[int] = mapped_column(ForeignKey("column.id", ondelete="CASCADE"), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_listed_at: Mapped[datetime] = mapped_column(TZDateTime)


class NoticeVersion(Base):
    __tablename__ = "notice_version"
    __table_args__ = (UniqueConstraint("notice_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(200))
    index_no: Mapped[str | None] = mapped_column(String(200), index=True)
    doc_no: Mapped[str | None] = mapped_column(String(200), index=True)
    issuing_org: Mapped[str | None] = mapped_column(String(500), index=True)
    written_date: Mapped[str | None] = mapped_column(String(40))
    validity: Mapped[str | None] = mapped_column(String(50))
    subject: Mapped[str | None] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    content_fingerprint: Mapped[str] = mapped_column(String(64))
    warc_record: Mapped[str | None] = mapped_column(String(500))  # "file.warc.gz#offset" or record id
    raw_sha256: Mapped[str | None] = mapped_column(String(64))  # raw response body digest
    fetched_at: Mapped[datetime] = mapped_column(TZDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id", ondelete="SET NULL"))

    notice: Mapped[Notice] = relationship(back_populates="versions", foreign_keys=[notice_id])
    attachments: Mapped[list[VersionAttachment]] = relationship(
        back_populates="version", order_by="VersionAttachment.position", cascade="all, delete-orphan"
    )


class Blob(Base):
    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    text: Mapped[str | None] = mapped_column(Text)
    extraction_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class VersionAttachment(Base):
    __tablename__ = "version_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("notice_version.id", ondelete="CASCADE"), index=True)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(500))  # human name: data only, never a path
    position: Mapped[int] = mapped_column(Integer, default=0)
    skipped_reason: Mapped[str | None] = mapped_column(Text)  # e.g. over the size cap

    version: Mapped[NoticeVersion] = relationship(back_populates="attachments")
    blob: Mapped[Blob | None] = relationship()


class CrawlRun(Base):
    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), index=True)
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # manual, cron, scheduler, worker
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, finished, failed, interrupted
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # new, changed, unchanged, withdrawn, duplicate, failed, blocked, requests
    stats: Mapped[dict] = mapped_column(JSON, default=dict)  # Scrapy stats snapshot
    error: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site | None] = relationship()
    fetch_errors: Mapped[list[FetchError]] = relationship(order_by="FetchError.id", viewonly=True)


class FetchError(Base):
    __tablename__ = "fetch_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(40))  # blocked, timeout, http, parse, cap_exceeded, refused_address, dns
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(TZDateTime)


class Subscription(Base):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    channel_url: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(20), default="instant")  # instant, daily, weekly
    state: Mapped[str] = mapped_column(String(20), default="active")  # active, paused, failing
    secret: Mapped[str | None] = mapped_column(String(200))  # webhook HMAC key
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class AlertEvent(Base):
    """The outbox: written in the same transaction as the notice change it describes."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # new, changed, withdrawn
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("notice_version.id", ondelete="SET NULL"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)  # first crawl of a site: not alerted


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_event.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sending, sent, failed, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_key: Mapped[str | None] = mapped_column(String(100))


class RunLock(Base):
    """A lease per site so runs never overlap, across processes and machines."""

    __tablename__ = "run_lock"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
