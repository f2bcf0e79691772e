"""bot.caching.ChangeAwareCache: the one-second list that many people ask for at once."""

from __future__ import annotations

import threading

import pytest

from bot import caching
from bot.caching import ChangeAwareCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(caching.time, "monotonic", fake)
    return fake


class Reads:
    """A read that counts its calls and gives a new value each time."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()
        self.done = threading.Event()

    def __call__(self) -> int:
        with self.lock:
            self.count += 1
            value = self.count
        self.release.wait(10)
        self.done.set()
        return value


def test_many_asking_at_once_wait_for_one_read(clock):
    recent, read = ChangeAwareCache(ttl=1.0), Reads()
    read.release.clear()
    answers: list[int] = []
    askers = [threading.Thread(target=lambda: answers.append(recent.get("open", read))) for _ in range(8)]
    for asker in askers:
        asker.start()
    while read.count == 0:
        threading.Event().wait(0.001)
    read.release.set()
    for asker in askers:
        asker.join(10)
    assert read.count == 1 and answers == [1] * 8


def test_a_change_in_this_process_drops_the_value_at_once(clock):
    recent, read = ChangeAwareCache(ttl=1.0), Reads()
    assert recent.get("open", read) == 1
    assert recent.get("open", read) == 1
    recent.changed()
    assert recent.get("open", read) == 2


def test_a_value_older_than_its_ttl_is_never_given_out(clock):
    recent, read = ChangeAwareCache(ttl=1.0), Reads()
    assert recent.get("open", read) == 1
    clock.now += 1.0
    assert recent.get("open", read) == 2


def test_a_value_half_its_ttl_old_is_given_out_and_read_again_behind_the_scenes(clock):
    recent, read = ChangeAwareCache(ttl=1.0), Reads()
    assert recent.get("open", read) == 1
    clock.now += 0.6
    read.done.clear()
    assert recent.get("open", read) == 1  # no wait for the read
    assert read.done.wait(10)
    deadline = threading.Event()
    for _ in range(1000):  # the background read stores its value just after it returns
        if recent.get("open", read) == 2:
            break
        deadline.wait(0.01)
    assert recent.get("open", read) == 2 and read.count == 2
