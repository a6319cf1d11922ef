import asyncio

import pytest

from web.live.eager import run_eagerly


async def test_coroutine_that_does_not_wait_finishes_in_the_call() -> None:
    done: list[str] = []

    async def quick() -> None:
        done.append("sent")

    assert run_eagerly(quick()) is None
    assert done == ["sent"]


async def test_coroutine_that_waits_is_finished_by_a_task_with_its_result() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def slow() -> str:
        steps.append("before")
        await gate.wait()
        steps.append("after")
        await asyncio.sleep(0)
        return "result"

    task = run_eagerly(slow())
    assert task is not None
    assert steps == ["before"]
    gate.set()
    assert await asyncio.wait_for(task, 5) == "result"
    assert steps == ["before", "after"]


async def test_error_before_the_first_wait_reaches_the_caller() -> None:
    async def broken() -> None:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError, match="gone"):
        run_eagerly(broken())


async def test_cancelling_the_task_cancels_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = run_eagerly(waits_forever())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]
