"""Database plumbing: declarative base, engines, the per-request unit of work."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.core.config import Settings
from app.observability.metrics import observe_pool, pool_class

# PostgreSQL's own naming style, so constraint names in errors and migrations are predictable.
NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


# The writers' lock: every write transaction takes it before it reads what it checks (an ETag,
# a parent, an interval), and the database takes it before drawing a change id (migration
# 3e7a9c1d4b20). Writes are therefore serialised and commit in change-id order: If-Match is
# atomic, no write skew, no deadlock between writers, and the feed never skips. Reads never
# take it.
WRITERS_LOCK = 4_801_707_113
_LOCK_WRITERS = text(f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})")


async def lock_writers(session: AsyncSession) -> None:
    """Take the writers' lock for the rest of the session's transaction (once per
    transaction: taking it again would cost a statement and change nothing)."""
    transaction = session.sync_session.get_transaction()
    if transaction is not None and session.info.get("writers_locked") is transaction:
        return
    await session.execute(_LOCK_WRITERS)
    session.info["writers_locked"] = session.sync_session.get_transaction()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> str:
    """Return `url` with the asyncpg driver, whatever PostgreSQL scheme it was given with."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    settings: Settings, url: str, *, pool_name: str = "primary", **overrides: Any
) -> AsyncEngine:
    """An async engine whose connects and statements time out, so an outage fails fast; its
    pool is watched by the metrics under `pool_name`."""
    options: dict[str, Any] = {
        "poolclass": pool_class(pool_name),
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_max_overflow,
        "pool_timeout": settings.pool_timeout_s,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "connect_args": {
            "timeout": settings.connect_timeout_s,
            "command_timeout": settings.statement_timeout_ms / 1000 + 1
            if settings.statement_timeout_ms
            else None,
            "server_settings": {
                "application_name": "juriscope",
                "statement_timeout": str(settings.statement_timeout_ms),
                "lock_timeout": str(settings.statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
            },
        },
    }
    options.update(overrides)
    engine = create_async_engine(async_url(url), **options)
    observe_pool(engine, pool_name)
    return engine


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads, without a transaction: under READ COMMITTED every statement takes
    a snapshot of its own anyway, so BEGIN and COMMIT would be two round trips that buy
    nothing (a read that needs one snapshot reads in one statement)."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


@dataclass
class Database:
    """The engines and session factories of a running app (primary, and a read replica)."""

    engine: AsyncEngine
    read_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, settings: Settings, url: str, read_url: str | None = None) -> "Database":
        engine = create_engine(settings, url)
        read_engine = create_engine(settings, read_url, pool_name="read") if read_url else engine
        return cls(
            engine=engine,
            read_engine=read_engine,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            read_sessionmaker=read_sessions(read_engine),
        )

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


async def _unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work on the primary: committed on success, rolled back on error."""
    async for session in _unit_of_work(request.app.state.db.sessionmaker):
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for reads: the read replica when DATABASE_READ_URL is set, else the primary."""
    async for session in _unit_of_work(request.app.state.db.read_sessionmaker):
        yield session
