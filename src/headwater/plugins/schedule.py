"""``@schedule``: run the deployed flow on a timetable (Airflow, Argo Workflows).

``hourly``, ``daily`` (the default) and ``weekly`` pick a fixed time (the start of the hour,
midnight, midnight on Sunday); ``cron`` gives a 5-field cron expression (minute hour
day-of-month month day-of-week) and wins over them; ``timezone`` (an IANA name such as
``Europe/Paris``) says in which zone the times are read, UTC by default. Locally, ``run``
ignores it: a schedule is for a deployed flow.
"""

from __future__ import annotations

import re

from headwater.core.flow_decorators import FlowDecorator, make_flow_decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from typing import Any

HOURLY = "0 * * * *"
DAILY = "0 0 * * *"
WEEKLY = "0 0 * * 0"
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")


class ScheduleDecorator(FlowDecorator):
    """Run the deployed flow hourly, daily, weekly or on a cron expression."""

    name = "schedule"
    defaults = {"hourly": False, "daily": True, "weekly": False, "cron": None, "timezone": None}

    def cron(self) -> str:
        """The schedule as a 5-field cron expression (raises InvalidFlow when it is bad)."""
        a = self.attributes
        if a["cron"]:
            return check_cron(a["cron"])
        if a["weekly"]:
            return WEEKLY
        if a["hourly"]:
            return HOURLY
        if a["daily"]:
            return DAILY
        raise InvalidFlow(
            "@schedule needs one of hourly=True, daily=True, weekly=True or cron='...'"
        )

    def timezone(self) -> str | None:
        tz = self.attributes["timezone"]
        if tz is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidFlow(
                f"@schedule(timezone={tz!r}) is not a time zone: use an IANA name such as "
                "'Europe/Paris' or 'America/New_York'"
            ) from None
        return str(tz)

    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        self.cron()  # a bad schedule is an error even before deploying
        self.timezone()
        return []


def check_cron(text: Any) -> str:
    fields = str(text).split()
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        raise InvalidFlow(
            f"@schedule(cron={text!r}) is not a 5-field cron expression: write minute hour "
            "day-of-month month day-of-week, as in cron='30 2 * * 1'"
        )
    return " ".join(fields)


schedule = make_flow_decorator(ScheduleDecorator)
