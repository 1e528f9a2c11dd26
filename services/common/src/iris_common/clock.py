"""The one time format of every service: ISO-8601 in UTC with a ``Z`` suffix.

Stored records and events, log lines, checkpoints and on-failure messages all use it, so any two
time stamps compare as text and parse back with :func:`parse_iso`. Standard library only: the
flagger's deployment zip carries this package (``infra.provision.package``).
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime, timespec: str = "auto") -> str:
    """``moment`` in the format (a naive time is taken to be UTC already); ``timespec`` as for
    :meth:`datetime.isoformat` (``auto`` keeps microseconds, as in the score table's items)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def utc_now(timespec: str = "milliseconds") -> str:
    """Now, to the millisecond by default: the time stamp of stored records, events, log lines."""
    return iso_utc(datetime.now(UTC), timespec)


def iso_from_epoch(seconds: float, timespec: str = "milliseconds") -> str:
    """A Unix time (``time.time()``, a log record's ``created``, a stream's arrival time)."""
    return iso_utc(datetime.fromtimestamp(seconds, UTC), timespec)


def parse_iso(text: str) -> datetime:
    """The aware UTC time a stamp in the format stands for (``Z`` or ``+00:00``; naive = UTC)."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
