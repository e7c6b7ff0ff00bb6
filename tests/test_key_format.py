"""Regression: a key whose secret contains underscores must authenticate (the secret is
url-safe base64, which uses `_`)."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys import service


async def test_secret_with_underscores_authenticates(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.keys.service.secrets.token_urlsafe", lambda _: "a_b__c_")
    created = await service.create_key(session, name="t", scopes=["write"], actor="t")
    assert created.key.endswith("_a_b__c_")
    caller = await service.authenticate(session, created.key)
    assert caller is not None and caller.id == created.id
    assert await service.authenticate(session, created.key + "x") is None
