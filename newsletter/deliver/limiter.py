"""A rate limit shared by every sender of every machine: one Lua script in Redis per relay.

Each acquire() runs one script atomically on the Redis server, with the server's clock, so
workers on machines whose clocks disagree still share one pace:

- messages per second: the next permitted instant (a GCRA with no burst) — a send is allowed
  when that instant has passed, and moves it on by one interval;
- messages per rolling hour: counts in one-minute buckets; the last 61 are summed, which covers
  more than the hour, so the cap is never exceeded (it may hold a send back up to a minute early).
"""

from __future__ import annotations

import threading

import redis

from newsletter.deliver.throttle import wait_slice
from newsletter.errors import SendError

_SCRIPT = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local interval = tonumber(ARGV[1])
local per_hour = tonumber(ARGV[2])
local wait = 0
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if interval > 0 and tat > now then
  wait = tat - now
end
local minute = math.floor(now / 60000000)
if per_hour > 0 then
  local total = 0
  local counts = redis.call('HGETALL', KEYS[2])
  for i = 1, #counts, 2 do
    local m = tonumber(counts[i])
    if m > minute - 61 then
      total = total + tonumber(counts[i + 1])
    else
      redis.call('HDEL', KEYS[2], counts[i])
    end
  end
  if total >= per_hour then
    local until_next = (minute + 1) * 60000000 - now
    if until_next > wait then wait = until_next end
  end
end
if wait > 0 then
  return wait
end
if interval > 0 then
  local nxt = math.max(tat, now) + interval
  redis.call('SET', KEYS[1], nxt, 'PX', math.ceil((nxt - now) / 1000) + 60000)
end
if per_hour > 0 then
  redis.call('HINCRBY', KEYS[2], minute, 1)
  redis.call('EXPIRE', KEYS[2], 3720)
end
return 0
"""


class RedisLimiter:
    """The per-relay limit, held in Redis so that every worker draws on the same allowance."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        relay: str,
        rate_per_second: float = 0.0,
        per_hour: int = 0,
    ) -> None:
        self.client = client
        self.keys = [f"{prefix}:relay:{relay}:next", f"{prefix}:relay:{relay}:hour"]
        self.interval_us = round(1_000_000 / rate_per_second) if rate_per_second > 0 else 0
        self.per_hour = per_hour
        self.script = client.register_script(_SCRIPT)

    def acquire(self, stopped: threading.Event | None = None) -> bool:
        if not self.interval_us and not self.per_hour:
            return True
        while True:
            try:
                wait_us = int(self.script(keys=self.keys, args=[self.interval_us, self.per_hour]))
            except redis.RedisError as exc:
                raise SendError(f"cannot reach Redis for the shared rate limit: {exc}") from None
            if wait_us <= 0:
                return True
            if wait_slice(wait_us / 1_000_000, stopped):
                return False


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
