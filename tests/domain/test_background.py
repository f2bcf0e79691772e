import threading
import time

from bot.background import Background, Busy


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


def test_work_that_gives_way_to_requests_waits_until_none_is_in_flight():
    busy = Busy(quiet=0)
    done = threading.Event()
    with busy.request():
        waiter = threading.Thread(target=lambda: (busy.wait_quiet(time.monotonic() + 60), done.set()))
        waiter.start()
        assert not done.wait(0.05)  # a request in flight: it waits
    waiter.join(timeout=30)
    assert done.is_set()


def test_work_that_gives_way_to_requests_waits_no_longer_than_its_deadline():
    busy = Busy(quiet=60)
    with busy.request():
        busy.wait_quiet(time.monotonic() - 1)  # past its deadline: returns at once, requests in flight or not
    busy.wait_quiet(time.monotonic() - 1)
