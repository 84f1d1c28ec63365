"""A real PostgreSQL server for the shared-ledger tests.

`pg_server` (session): a throwaway database `callexport_test_<pid>` on the server named by
`CALLEXPORT_TEST_PG` (default: the local server at 127.0.0.1:5432 as `postgres`, trust auth), dropped
when the session ends. `pg_url` (per test): a fresh schema in it, as a ledger URL (the schema is the
connection's search path), so tests never see each other's tables. Without a reachable server the
PostgreSQL variants are skipped, except under CI (`CI` or `CALLEXPORT_REQUIRE_POSTGRES` set:
`.ci/run` starts a server), where they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest

SERVER = os.environ.get("CALLEXPORT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_schemas = itertools.count(1)


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("CALLEXPORT_REQUIRE_POSTGRES"))


def _admin_connect(dbname: str | None = None):  # type: ignore[no-untyped-def]
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(SERVER)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=dbname or url.database or "postgres",
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway database for this test session; its URL (without a schema)."""
    from sqlalchemy.engine import make_url

    name = f"callexport_test_{os.getpid()}"
    try:
        admin = _admin_connect()
    except Exception as exc:
        if _required():
            pytest.fail(f"no PostgreSQL server at {SERVER} ({exc}); .ci/run should have started one")
        pytest.skip(f"no PostgreSQL server reachable at {SERVER}: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER).set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with _admin_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A ledger URL on a fresh, empty schema of the session's database."""
    from sqlalchemy.engine import make_url

    schema = f"t{os.getpid()}_{next(_schemas)}"
    database = make_url(pg_server).database
    with _admin_connect(database) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_server}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_location(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """Where a ledger lives, once per backend: a SQLite file path or a PostgreSQL URL (the same
    ledger tests run on both)."""
    if request.param == "sqlite":
        return tmp_path / "ledger.sqlite3"
    return request.getfixturevalue("pg_url")
