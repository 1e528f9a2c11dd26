"""The service's one time format: ISO-8601 in UTC with a ``Z`` suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    """``moment`` in the format (a naive time is taken to be UTC already); microseconds kept, as
    the score table's ``created_at`` holds them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_now() -> str:
    """Now, to the millisecond: the time stamp of every stored record and event."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
