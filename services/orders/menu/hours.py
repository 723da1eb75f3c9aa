"""Opening hours: is the store open at an instant, and when does it next open or close.

Hours come from the menu file (`store.hours`, docs/menu-format.md): per weekday a list of
`(start, end)` spans in minutes after local midnight, end exclusive, at most 1440. They are
read in the store's IANA time zone, so daylight-saving changes move the UTC instants, not the
local times. A span ending at 24:00 followed by one starting at 00:00 the next day is one
continuous opening (a store open around the clock never "opens").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

from services.orders.language import Speaker
from services.orders.menu.catalog import WEEKDAYS, Store

# How far ahead to look for the next opening; a store closed for longer "has no hours".
_SEARCH_DAYS = 8


def store_zone(store: Store) -> ZoneInfo:
    """The store's time zone; an unknown name falls back to UTC rather than failing a message."""
    try:
        return ZoneInfo(store.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Opening:
    """One continuous opening as local datetimes in the store's zone (`end` exclusive)."""

    start: dt.datetime
    end: dt.datetime


def _openings(store: Store, around: dt.datetime) -> list[Opening]:
    """Every span from the day before `around` (local) until `_SEARCH_DAYS` after, merged."""
    zone = store_zone(store)
    local = around.astimezone(zone)
    spans: list[Opening] = []
    for offset in range(-1, _SEARCH_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        for start, end in store.hours.get(WEEKDAYS[day.weekday()], ()):
            # Wall-clock arithmetic: 11:30 is 11:30 local whatever the UTC offset is that day.
            s = midnight + dt.timedelta(minutes=start)
            e = midnight + dt.timedelta(minutes=end)
            spans.append(Opening(s.replace(tzinfo=zone), e.replace(tzinfo=zone)))
    spans.sort(key=lambda o: o.start)
    merged: list[Opening] = []
    for span in spans:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Opening(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def current_opening(store: Store, now: dt.datetime) -> Opening | None:
    """The opening `now` (aware, any zone) falls in, or None when the store is closed."""
    for opening in _openings(store, now):
        if opening.start <= now < opening.end:
            return opening
    return None


def is_open(store: Store, now: dt.datetime) -> bool:
    """True when `now` is inside the store's opening hours."""
    return current_opening(store, now) is not None


def next_opening(store: Store, now: dt.datetime) -> dt.datetime | None:
    """The local start of the next opening after `now`, or None if none within a week."""
    for opening in _openings(store, now):
        if opening.start > now:
            return opening.start
    return None


def always_open(store: Store) -> bool:
    """True for a store open all day every day (the demo store)."""
    return all(store.hours.get(day) == ((0, 1440),) for day in WEEKDAYS)


def describe_when(moment: dt.datetime, now: dt.datetime, speaker: Speaker) -> str:
    """`today at 5:00 PM`, `tomorrow at 11:30 AM` or `Tuesday at 11:30 AM` (local to `moment`,
    in the speaker's language)."""
    days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    clock = speaker.time(moment)
    if days == 0:
        return speaker._("today at {time}", time=clock)
    if days == 1:
        return speaker._("tomorrow at {time}", time=clock)
    day = format_date(moment, "EEEE", locale=speaker.locale)
    return speaker._("{day} at {time}", day=day, time=clock)


def open_status(store: Store, now: dt.datetime, speaker: Speaker) -> str:
    """One line for the customer: `open 24 hours`, `open now until 10:00 PM` or `closed now, opens …`."""
    if always_open(store):
        return speaker._("We're open 24 hours.")
    opening = current_opening(store, now)
    if opening is not None:
        until = opening.end
        if until.time() == dt.time() and until.date() > opening.start.date():
            return speaker._("We're open now until midnight.")
        return speaker._("We're open now until {time}.", time=speaker.time(until))
    return closed_line(store, now, speaker)


def closed_line(store: Store, now: dt.datetime, speaker: Speaker) -> str:
    """`We're closed right now; we open again tomorrow at 11:30 AM.` (or no known opening)."""
    upcoming = next_opening(store, now)
    if upcoming is None:
        return speaker._("We're closed right now and have no opening hours in the coming week.")
    return speaker._(
        "We're closed right now; we open again {when}.", when=describe_when(upcoming, now, speaker)
    )
