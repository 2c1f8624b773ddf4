"""`server.gate.SwitchGate`: a swap waits for the readers in flight and holds new ones back."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from server.admission import Admission
from server.gate import DrainTimeout, SwitchGate


def test_a_swap_waits_for_readers_and_new_readers_wait_for_it() -> None:
    gate = SwitchGate()
    order: list[str] = []
    release, reading = threading.Event(), threading.Event()

    def reader(name: str, hold: threading.Event | None = None) -> None:
        with gate.reading():
            order.append(f"{name} in")
            if hold is not None:
                reading.set()
                hold.wait(10)
            order.append(f"{name} out")

    def swap() -> None:
        with gate.closed():
            order.append("swap")

    first = threading.Thread(target=reader, args=("first", release))
    first.start()
    assert reading.wait(10)
    swapper = threading.Thread(target=swap)
    swapper.start()
    for _ in range(500):
        if gate.shut:
            break
        time.sleep(0.01)
    assert gate.shut
    late = threading.Thread(target=reader, args=("late",))
    late.start()
    time.sleep(0.1)
    assert order == ["first in"]  # neither the swap nor the late reader got in
    release.set()
    for thread in (first, swapper, late):
        thread.join(10)
    assert order == ["first in", "first out", "swap", "late in", "late out"]
    assert not gate.shut


def test_admitted_work_holds_the_gate() -> None:
    """`server.admission` runs each work holding the gate: a swap waits for it to end."""
    gate = SwitchGate()
    swapped = threading.Event()

    def swap() -> None:
        with gate.closed():
            swapped.set()

    def work_meanwhile() -> bool:
        swapper = threading.Thread(target=swap, daemon=True)
        swapper.start()
        return swapped.wait(0.2)

    async def run() -> bool:
        work = Admission(threads=1, queue=0, retry_after_s=1, gate=gate)
        try:
            return await work.run(work_meanwhile)
        finally:
            work.close()

    assert asyncio.run(run()) is False  # the swap did not get in while the work ran
    assert swapped.wait(10)  # and did once it ended


def test_a_swap_that_outwaits_its_timeout_gives_up_and_reopens_the_gate() -> None:
    """A request in flight longer than the swap may wait: the swap is abandoned (its block
    never runs) and the requests it held back go on."""
    gate = SwitchGate()
    release, reading = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow_reader() -> None:
        with gate.reading():
            reading.set()
            release.wait(10)

    slow = threading.Thread(target=slow_reader)
    slow.start()
    assert reading.wait(10)
    started = time.monotonic()
    with pytest.raises(DrainTimeout, match=r"^1 request\(s\) still running after 0.2 s; nothing was "
                                           r"switched"):
        with gate.closed(timeout=0.2):
            ran.append("swap")
    assert 0.2 <= time.monotonic() - started < 5
    assert ran == [] and not gate.shut
    entered = threading.Event()

    def late_reader() -> None:
        with gate.reading():
            entered.set()

    threading.Thread(target=late_reader).start()
    assert entered.wait(5)  # not held behind an abandoned swap
    release.set()
    slow.join(10)
