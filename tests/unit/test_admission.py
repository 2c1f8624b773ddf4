"""`server.admission` on its own: bounded, refusing past the bound, on lower-priority threads."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from search.errors import Overloaded
from server.admission import Admission


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_work_runs_on_its_own_threads_at_a_lower_priority() -> None:
    async def run() -> tuple[int, str]:
        work = Admission(threads=1, queue=0, retry_after_s=1, nice=5)
        try:
            return await work.run(lambda: (own_priority(), threading.current_thread().name))
        finally:
            work.close()

    priority, name = asyncio.run(run())
    assert priority == min(19, own_priority() + 5) and name.startswith("work")


def test_one_past_the_threads_and_the_queue_is_refused_at_once() -> None:
    async def run() -> list[object]:
        work = Admission(threads=1, queue=1, retry_after_s=3)
        release = threading.Event()
        held = [asyncio.ensure_future(work.run(release.wait)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded) as info:
            await work.run(lambda: None)
        assert info.value.retry_after_s == 3 and work.refused == 1
        release.set()
        done = await asyncio.gather(*held)
        work.close()
        return [*done, work.admitted]

    assert asyncio.run(run()) == [True, True, 0]
