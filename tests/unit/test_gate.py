"""`server.gate.SwitchGate`: a swap waits for the readers in flight and holds new ones back."""

from __future__ import annotations

import asyncio
import threading
import time

from server.admission import Admission
from server.gate import SwitchGate


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
