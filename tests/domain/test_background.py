import threading

import pytest

from bot.background import Background, Busy, Coalescing, Together


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


class Later:
    """What Busy asked to run later, run when the test says."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, object]] = []

    def __call__(self, seconds: float, then) -> None:
        self.asked.append((seconds, then))

    def run(self) -> float:
        seconds, then = self.asked.pop(0)
        then()
        return seconds


def test_work_put_off_for_busy_doors_waits_its_longest_and_is_brought_back_once_they_are_quiet():
    clock, later, resumed = Clock(), Later(), []
    busy = Busy(quiet=0.05, clock=clock, later=later)
    busy.when_quiet(lambda: resumed.append(clock.now))
    with busy.request():
        assert busy.put_off(longest=2.0) == 2.0 and busy.waiting  # nobody looks every 50 ms meanwhile
        with busy.request():
            pass
        assert later.asked == []  # one of two ended: still busy
    assert [s for s, _ in later.asked] == [0.05]  # the last one ended: a look once they have been quiet that long
    clock.now += 0.03
    with busy.request():  # another came and went meanwhile
        pass
    clock.now += 0.02
    assert later.run() == 0.05 and resumed == []  # quiet for 0.02 s only
    assert [s for s, _ in later.asked] == [pytest.approx(0.03)]
    clock.now += 0.03
    later.run()
    assert resumed == [clock.now] and not busy.waiting and later.asked == []
    with busy.request():  # nothing is waiting: a request ending sets no look
        pass
    assert later.asked == []


def test_work_put_off_just_after_the_last_request_is_looked_at_when_the_doors_turn_quiet():
    clock, later, resumed = Clock(), Later(), []
    busy = Busy(quiet=0.05, clock=clock, later=later)
    busy.when_quiet(lambda: resumed.append(clock.now))
    with busy.request():
        pass
    clock.now += 0.01
    assert busy.put_off(longest=2.0) == 2.0  # no request will end to look: the look is set now
    assert [s for s, _ in later.asked] == [pytest.approx(0.04)]
    clock.now += 0.04
    later.run()
    assert resumed == [clock.now]
    assert busy.put_off(longest=2.0) == 0 and not busy.waiting  # quiet: it goes


def test_writes_that_arrive_while_one_is_under_way_are_written_together_each_caller_getting_its_own():
    together: Together[str, str] = Together()
    groups: list[list[str]] = []
    first_in, release = threading.Event(), threading.Event()

    def write(items: list[str]) -> list[str]:
        groups.append(list(items))
        if items == ["a"]:
            first_in.set()
            release.wait(10)
        return [f"stored {item}" for item in items]

    results: dict[str, str] = {}

    def call(item: str) -> None:
        results[item] = together(item, write)

    first = threading.Thread(target=call, args=("a",))
    first.start()
    assert first_in.wait(10)
    others = [threading.Thread(target=call, args=(item,)) for item in "bcd"]
    for thread in others:
        thread.start()
    while len(together._queue) < 3:  # all three queued behind the write under way
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert groups[0] == ["a"] and sorted(groups[1]) == ["b", "c", "d"] and len(groups) == 2
    assert results == {item: f"stored {item}" for item in "abcd"}
    assert together("e", write) == "stored e" and groups[-1] == ["e"]  # alone: written at once, alone


def test_a_write_that_fails_fails_every_caller_of_its_group_and_not_the_next():
    together: Together[int, int] = Together()

    def broken(items: list[int]) -> list[int]:
        raise OSError("database away")

    with pytest.raises(OSError, match="database away"):
        together(1, broken)
    assert together(2, lambda items: [n * 10 for n in items]) == 20


def test_coalesced_work_runs_at_once_after_a_quiet_spell_and_never_twice_within_its_spacing():
    clock, later, runs = Clock(), Later(), []
    gate, entered = threading.Event(), threading.Event()
    background = Background(workers=2, later=later)
    refresh = Coalescing(spacing=1.0, clock=clock)

    def work() -> None:
        runs.append(clock.now)
        if len(runs) == 3:  # the third run is held while requests come in
            entered.set()
            gate.wait(5)

    refresh.request(background, work)
    assert background.wait_idle(timeout=5) and runs == [100.0] and later.asked == []  # nothing before: at once
    clock.now += 0.25
    refresh.request(background, work)
    refresh.request(background, work)  # a burst: one more run, set for a second after the first began
    assert [s for s, _ in later.asked] == [pytest.approx(0.75)]
    assert not background.wait_idle(timeout=0.05)  # the run that is set counts as pending
    clock.now += 0.75
    later.run()
    assert background.wait_idle(timeout=5) and runs == [100.0, 101.0]
    clock.now += 3
    refresh.request(background, work)  # after a quiet spell: at once, and held
    assert entered.wait(5) and later.asked == []
    refresh.request(background, work)
    refresh.request(background, work)  # asked for while it runs: one more run, a second after it began
    clock.now += 0.5
    gate.set()
    assert not background.wait_idle(timeout=0.05)
    assert [s for s, _ in later.asked] == [pytest.approx(0.5)]
    clock.now += 0.5
    later.run()
    assert background.wait_idle(timeout=5) and runs == [100.0, 101.0, 104.0, 105.0]
    assert later.asked == []
    background.shutdown()


def test_work_set_for_later_is_dropped_once_the_pool_is_shut_down():
    later, done = Later(), []
    background = Background(workers=1, later=later)
    background.submit_later(1.0, lambda: done.append("late"))
    background.shutdown()  # a process stopping without waiting for it
    later.run()  # the timer fires afterwards: nothing raises, nothing runs, nothing stays pending
    assert done == [] and background.wait_idle(timeout=1)
