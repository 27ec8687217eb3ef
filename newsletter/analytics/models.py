"""The click tables: hourly counts by verdict, and raw events only where per-subscriber is on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base


class ClickCount(Base):
    """How many clicks one link of one variant got in one hour, human or filtered (and why)."""

    __tablename__ = "click_counts"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    # "human", or the filter that caught it: prefetch | scanner | burst | trap
    verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class ClickEvent(Base):
    """One click tied to a subscriber (analytics.per_subscriber only), until retention folds it."""

    __tablename__ = "click_events"
    __table_args__ = (Index("ix_click_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[int] = mapped_column(Integer)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(20))
