"""Answers remembered for a short time: the same question asked again costs no API call.

A shopper reloading the page, a second shopper in the same city, or a script hammering one
URL all get the stored answer until it is ``ttl`` seconds old. The store holds at most
``size`` answers (the oldest go first), so a visitor who varies every request can only
evict answers, never grow the app's memory.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class AnswerCache(Generic[T]):
    def __init__(self, ttl: float, size: int = 1000) -> None:
        self.ttl = ttl
        self.size = size
        self._answers: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The stored answer for ``key``, or ``compute()``'s, stored. A failure (an
        exception) is not stored: the next request asks again."""
        with self._lock:
            found = self._answers.get(key)
            if found and time.monotonic() - found[0] < self.ttl:
                return found[1]
        answer = compute()
        with self._lock:
            self._answers[key] = (time.monotonic(), answer)
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer
