"""The data version, pushed to this worker: what lets a cache hit skip the database.

Every write appends a change record, and a trigger bumps the one-row `data_version` and sends
the new version with NOTIFY (migration c4e8a2f6d913), delivered at commit in commit order. A
`DataVersionWatcher` keeps one asyncpg connection of its own to the primary that LISTENs on
that channel; the version it holds is what the response cache keys its entries by, so a hit
is a dictionary lookup. The same channel empties the cache of authenticated keys: a key
created, revoked or changed (by the API or by SQL) sends a notification.

Safety, in the order things fail:

- A notification lost or late: the connection also reads the version every `poll_s`
  seconds (the fallback poll).
- The connection lost (the database restarts, a network cut found by the poll's timeout):
  the watcher is not live, and until it is again the cache asks the database for the version
  on each request, as it did before; on reconnect everything cached is dropped (the reset:
  `resets` counts them).
- A write committed by this process (an API write, or any session on its engines): the
  engines note the commit of a transaction that changed something, and the next cached read
  asks the database for the version once (`verified`), so the process sees its own writes
  at once, even before their notification arrives.
- A write, then a read on another worker or replica: after a write commits, and before its
  response goes out, the worker that wrote waits until every listening worker (every
  `juriscope-cache` session on the database) has acknowledged the new version (each one
  answers every version it applies with a NOTIFY on the acknowledgement channel), at most
  `settle_s`. A client that saw its write succeed is never served the old answer anywhere.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("juriscope.data_version")

# migrations/versions/..._notify_data_version.py: keep the two equal.
CHANNEL = "juriscope_data_version"
ACK_CHANNEL = "juriscope_data_version_seen"
APPLICATION_NAME = "juriscope-cache"

_VERSION = "SELECT version FROM data_version WHERE id = 1"
_ACK = "SELECT pg_notify($1, $2)"
# The version a write left, and the listening sessions that must have seen it.
_SETTLE = (
    "SELECT version, ARRAY(SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    f"AND application_name = '{APPLICATION_NAME}') FROM data_version WHERE id = 1"
)


_READS = ("SELECT", "WITH", "SHOW", "SET ", "BEGIN", "COMMI", "ROLLB", "SAVEP", "RELEA")


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    if not head.startswith(_READS):
        return True
    # A data-modifying CTE.
    return head.startswith("WITH") and any(
        verb in statement.upper() for verb in ("INSERT", "UPDATE", "DELETE", "MERGE")
    )


class DataVersionWatcher:
    """The data version as last told by the database, and the keys known to be valid."""

    def __init__(
        self,
        *,
        poll_s: float = 1.0,
        connect_timeout_s: float = 3.0,
        settle_s: float = 1.0,
    ) -> None:
        self.poll_s = poll_s
        self.connect_timeout_s = connect_timeout_s
        self.settle_s = settle_s
        # None while not listening: then the version must be read from the database.
        self.version: int | None = None
        # Authenticated keys: SHA-256 of the key -> (public id, scopes). Emptied by every
        # notification; `key_generation` tells a lookup that raced one to keep nothing.
        self.keys: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.key_generation = 0
        # Called with no argument whenever what is cached may be stale (a new version, a
        # reset): the response cache empties itself.
        self.on_change: list[Callable[[], None]] = []
        self.resets = 0
        self._connected = False
        self._seen: dict[int, int] = {}
        self._seen_changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._ack_due = False
        self._task: asyncio.Task[None] | None = None
        self._dsn: str | None = None
        self._engine: AsyncEngine | None = None
        # Commits of this process's writes, and how many of them a version read has covered.
        self.commits = 0
        self.verified = 0

    @property
    def live(self) -> bool:
        return self.version is not None

    def current(self) -> int | None:
        """The version to key a cached read by, or None when it must be read from the database
        (not listening, or this process committed a write since the version was last read)."""
        return self.version if self.verified == self.commits else None

    def confirm(self, version: int, commits: int) -> None:
        """`version` was read from the database after the first `commits` commits."""
        if self.version is not None:
            self._apply(version)
            self.verified = max(self.verified, commits)

    def attach(self, engine: AsyncEngine) -> None:
        """Watch `engine` (the primary) for this process's own commits."""
        if self._engine is None:
            self._dsn = asyncpg_dsn(engine.url)
            self._engine = engine
            event.listen(engine.sync_engine, "after_cursor_execute", self._executed)
            event.listen(engine.sync_engine, "commit", self._committed)

    def start(self, engine: AsyncEngine) -> None:
        """Listen on `engine`'s database (the primary), in a task of the running loop."""
        if self._task is None:
            self.attach(engine)
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if self._engine is not None:
            event.remove(self._engine.sync_engine, "after_cursor_execute", self._executed)
            event.remove(self._engine.sync_engine, "commit", self._committed)
            self._engine = None
        self._down()

    def _executed(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _writes(statement):
            connection.info["juriscope_wrote"] = True

    def _committed(self, connection: Any) -> None:
        if connection.info.pop("juriscope_wrote", False):
            self.commits += 1

    def remember_key(self, digest: str, public_id: str, scopes: list[str], generation: int) -> None:
        """Keep a key read as valid, unless a notification came in since the read began."""
        if self.live and generation == self.key_generation:
            self.keys[digest] = (public_id, tuple(scopes))

    async def settle(self, engine: AsyncEngine) -> None:
        """After a write committed: wait (at most `settle_s`) until every listening worker has
        applied the version it left."""
        if self._task is None:
            return  # nothing is cached here
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_s
        if not self.live:
            # Still connecting (a write before any read): the acknowledgements come to the
            # listening connection.
            with suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), self.settle_s)
            if not self.live:
                return
        async with engine.connect() as connection:
            row: Any = (await connection.exec_driver_sql(_SETTLE)).one()
        version, pids = row
        while not all(self._seen.get(pid, -1) >= version for pid in pids):
            changed = self._seen_changed
            remaining = deadline - loop.time()
            try:
                await asyncio.wait_for(changed.wait(), max(remaining, 0))
            except TimeoutError:
                late = [pid for pid in pids if self._seen.get(pid, -1) < version]
                log.warning(
                    "listening sessions %s did not acknowledge data version %s within %s s",
                    late,
                    version,
                    self.settle_s,
                )
                return

    async def _run(self) -> None:
        assert self._dsn is not None
        backoff = 0.1
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=self.connect_timeout_s,
                    server_settings={"application_name": APPLICATION_NAME},
                )
                await self._listen(connection)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.live:
                    log.warning("data version listener lost: %s", error)
                self._down()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            else:
                backoff = 0.1
            finally:
                if connection is not None:
                    with suppress(Exception):
                        connection.terminate()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()

        def terminated(_: object) -> None:
            self._down()
            lost.set()
            self._wake.set()

        connection.add_termination_listener(terminated)
        await connection.add_listener(CHANNEL, self._notified)
        await connection.add_listener(ACK_CHANNEL, self._acknowledged)
        # Listening first, then reading: no version committed in between can be missed.
        version = await connection.fetchval(_VERSION, timeout=self.connect_timeout_s)
        self._reset(int(version))
        while not lost.is_set():
            if self._ack_due:
                self._ack_due = False
                await connection.execute(
                    _ACK, ACK_CHANNEL, str(self.version), timeout=self.connect_timeout_s
                )
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            except TimeoutError:
                polled = await connection.fetchval(_VERSION, timeout=self.connect_timeout_s)
                self._apply(int(polled))
            self._wake.clear()

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        # Key changes notify too: whatever the payload, forget the keys.
        self.keys.clear()
        self.key_generation += 1
        with suppress(ValueError):
            self._apply(int(payload))
        self._ack_due = True
        self._wake.set()

    def _acknowledged(self, _connection: object, pid: int, _channel: str, payload: str) -> None:
        with suppress(ValueError):
            self._seen[pid] = max(self._seen.get(pid, -1), int(payload))
        self._seen_changed.set()
        self._seen_changed = asyncio.Event()

    def _apply(self, version: int) -> None:
        if self.version is not None and version > self.version:
            self.version = version
            self._changed()

    def _reset(self, version: int) -> None:
        # Listening again after a loss: whatever was missed meanwhile, nothing kept before
        # is trusted (a restored database may even reuse a version). On the first connect,
        # what was cached was keyed by versions read from the database itself: it stays.
        reconnect = self._connected
        self._connected = True
        if reconnect:
            self.resets += 1
        self.keys.clear()
        self.key_generation += 1
        self.version = version
        if reconnect:
            self._changed()
        self._ack_due = True
        self._listening.set()

    def _down(self) -> None:
        self._listening.clear()
        if self.version is not None:
            self.version = None
            self.keys.clear()
            self.key_generation += 1
            self._changed()

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()
