"""The rate limit in Redis: one pace for every thread and process, and an hourly cap."""

from __future__ import annotations

import threading
import time

from newsletter.deliver.limiter import RedisLimiter, redis_client


def test_many_takers_share_one_pace(redis_url: str, redis_prefix: str) -> None:
    rate = 50.0
    times: list[float] = []
    lock = threading.Lock()

    def taker() -> None:
        # Each thread has its own client and limiter, as separate workers would.
        limiter = RedisLimiter(
            redis_client(redis_url), redis_prefix, "relay-a", rate_per_second=rate
        )
        for _ in range(10):
            assert limiter.acquire()
            with lock:
                times.append(time.monotonic())

    threads = [threading.Thread(target=taker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    assert len(times) == 40
    # 40 sends at 50/s cannot take less than 39 intervals (a little slack for the clock).
    assert times[-1] - times[0] >= 39 / rate * 0.9
    # Another relay has its own allowance: it is not slowed by this one. With the stop already
    # set, acquire() returns False the moment it would have to wait, so no timing is involved.
    stopped = threading.Event()
    stopped.set()
    same = RedisLimiter(redis_client(redis_url), redis_prefix, "relay-a", rate_per_second=1 / 60)
    assert same.acquire() is True
    assert same.acquire(stopped) is False  # relay-a must now wait a minute
    other = RedisLimiter(redis_client(redis_url), redis_prefix, "relay-b", rate_per_second=1 / 60)
    assert other.acquire(stopped) is True


def test_the_hourly_cap_holds_and_a_stop_ends_the_wait(redis_url: str, redis_prefix: str) -> None:
    first = RedisLimiter(redis_client(redis_url), redis_prefix, "quota", per_hour=5)
    second = RedisLimiter(redis_client(redis_url), redis_prefix, "quota", per_hour=5)
    for limiter in (first, second, first, second, first):
        assert limiter.acquire()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert second.acquire(stop) is False  # the sixth in the hour waits, until told to stop
