"""The one clock. Tests travel in time by setting an offset or a fixed instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def freeze(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._fixed = instant

    def travel(self, delta: timedelta) -> None:
        if self._fixed is not None:
            self._fixed += delta
        else:
            self._offset += delta

    def reset(self) -> None:
        self._fixed = None
        self._offset = timedelta(0)


clock = Clock()
