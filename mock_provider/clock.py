"""Time for the provider, injectable so that tests move it instead of sleeping."""

from __future__ import annotations

import math
import threading
import time

__all__ = ["Clock"]


class Clock:
    """Seconds since the epoch, as the provider sees them.

    By default the clock follows the system clock; given ``start`` it stands still at
    that instant. Either way :meth:`advance` moves it forward, which is how codes and
    tokens are made to expire without waiting.
    """

    def __init__(self, start: float | None = None) -> None:
        self._start = start
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current time in seconds since the epoch."""
        base = time.time() if self._start is None else self._start
        return base + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
        ):
            raise TypeError("seconds must be a finite number")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        """How far :meth:`advance` has moved the clock, in seconds."""
        return self._offset

    def reset(self) -> None:
        """Undo every :meth:`advance`."""
        with self._lock:
            self._offset = 0.0
