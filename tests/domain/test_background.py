import threading

from bot.background import Background


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
