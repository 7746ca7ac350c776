"""Publishing limits shared by every worker: one window per account and one per app, per
adapter, kept in Redis. A limited share is put back with the time to wait; it never calls
the network.

Each limit is a sliding window log rather than a refilling token bucket: a bucket of N
tokens refilled at N per period lets up to 2N through across a period boundary, while a
log of the last period's calls guarantees that no period ever holds more than N."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings

_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local this_wait = tonumber(oldest[2]) + window - now
    if this_wait > wait then wait = this_wait end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZADD', key, now, ARGV[#ARGV])
  redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
end
return '0'
"""


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        try:
            count, seconds = text.split("/")
            limit = cls(int(count), float(seconds))
        except ValueError as exc:
            raise ValueError(f"A rate limit reads 'count/seconds', not {text!r}") from exc
        if limit.count < 1 or limit.seconds <= 0:
            raise ValueError(f"A rate limit must allow at least one call: {text!r}")
        return limit


class RateLimitUnavailable(Exception):
    pass


# What a call does: publishing, deleting, reading (metrics, reconciliation). A network that
# limits each endpoint on its own (X: 100 posts, 50 deletions, 900 reads per 15 minutes
# and person) lists "delete" and "read" windows; the others share the posting one.
ACTIONS = ("post", "delete", "read")


def limits_for(adapter: str, action: str = "post") -> tuple[str, Limit, Limit] | None:
    """(the window's name, the account limit, the app limit) for that kind of call."""
    configured = settings.NETWORK_RATE_LIMITS.get(adapter)
    if not configured:
        return None
    own = configured.get(action) if action != "post" else None
    if own:
        return action, Limit.parse(own["account"]), Limit.parse(own["app"])
    return "post", Limit.parse(configured["account"]), Limit.parse(configured["app"])


@cache
def _redis(url: str):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client, client.register_script(_SCRIPT)


_local_lock = threading.Lock()
_local_windows: dict[str, list[float]] = {}


def _acquire_local(keys: list[tuple[str, Limit]], now: float) -> float:
    """Without Redis (the embedded default has one worker process), the same windows in
    this process."""
    with _local_lock:
        wait = 0.0
        for key, limit in keys:
            window = [t for t in _local_windows.get(key, []) if t > now - limit.seconds]
            _local_windows[key] = window
            if len(window) >= limit.count:
                wait = max(wait, window[0] + limit.seconds - now)
        if wait > 0:
            return wait
        for key, _limit in keys:
            _local_windows[key].append(now)
        return 0.0


def rate_limit_acquire(
    *, adapter: str, account_key: str, action: str = "post", now: float | None = None
) -> float:
    """Take one call of that kind from the account's and the app's windows: 0 when
    granted, otherwise the seconds to wait (nothing is taken)."""
    limits = limits_for(adapter, action)
    if limits is None:
        return 0.0
    now = time.time() if now is None else now
    window, account_limit, app_limit = limits
    # The posting window keeps its historical keys; the others get their own.
    base = f"{settings.RATE_LIMIT_KEY_PREFIX}:{adapter}" + (
        "" if window == "post" else f":{window}"
    )
    keys = [
        (f"{base}:account:{account_key}", account_limit),
        (f"{base}:app", app_limit),
    ]
    if not settings.REDIS_URL:
        return _acquire_local(keys, now)
    _client, script = _redis(settings.REDIS_URL)
    args: list[object] = [repr(now)]
    for _key, limit in keys:
        args += [limit.count, limit.seconds]
    args.append(f"{now}:{uuid.uuid4().hex}")
    try:
        return float(script(keys=[key for key, _limit in keys], args=args))
    except Exception as exc:  # redis down: do not call the network blind
        raise RateLimitUnavailable(str(exc)) from exc


def rate_limit_reset() -> None:
    """Forget every window (tests)."""
    with _local_lock:
        _local_windows.clear()
    if settings.REDIS_URL:
        client, _script = _redis(settings.REDIS_URL)
        for key in client.scan_iter(f"{settings.RATE_LIMIT_KEY_PREFIX}:*"):
            client.delete(key)
