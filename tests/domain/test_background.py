import threading

import pytest

from bot.background import Background, Busy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_work_with_one_key_runs_in_order_and_other_keys_alongside():
    background = Background(workers=4)
    done: list[str] = []
    gate = threading.Event()
    background.submit(lambda: (gate.wait(5), done.append("a1")), key="A")
    background.submit(lambda: done.append("a2"), key="A")
    background.submit(lambda: done.append("b1"), key="B")
    background.submit(lambda: (done.append("free"), gate.set()))
    assert background.wait_idle(timeout=10)
    assert done.index("a1") < done.index("a2")
    assert done.index("free") < done.index("a1")  # A waited on the gate while other work ran
    background.shutdown()


def test_a_failing_piece_of_work_does_not_stop_the_rest():
    background = Background(workers=1)
    done: list[int] = []
    background.submit(lambda: 1 / 0, key="A")
    background.submit(lambda: done.append(1), key="A")
    assert background.wait_idle(timeout=10)
    assert done == [1]
    background.shutdown()


def test_work_that_gives_way_to_requests_is_told_how_long_until_the_doors_are_quiet():
    clock = Clock()
    busy = Busy(quiet=0.05, clock=clock)
    assert busy.quiet_in() == 0  # nothing came in yet
    with busy.request():
        clock.now += 10
        assert busy.quiet_in() == 0.05  # a request in flight ends when it ends: look again in `quiet`
        with busy.request():
            pass
        assert busy.quiet_in() == 0.05  # one of two ended: still in flight
    clock.now += 0.02
    assert busy.quiet_in() == pytest.approx(0.03)  # the last ended 0.02 s ago
    clock.now += 0.03
    assert busy.quiet_in() == 0


def test_work_put_off_for_the_doors_is_marked_waiting_until_it_may_go_and_never_beyond_its_longest():
    clock = Clock()
    busy = Busy(quiet=0.05, clock=clock)
    with busy.request():
        assert busy.put_off(longest=1.0) == 0.05 and busy.waiting  # the doors need not wake it
        assert busy.put_off(longest=0.01) == 0.01  # no longer than it may wait
        assert busy.put_off(longest=0) == 0 and not busy.waiting  # its time is up: it goes, doors busy or not
    clock.now += 0.05
    assert busy.put_off(longest=1.0) == 0 and not busy.waiting
