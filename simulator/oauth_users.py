"""People who sign in to the simulated org (authorization code / PKCE / implicit grants).

A `Person` is a Genesys Cloud user (the same `simulator.org.User` the API serves) with a password for
the simulator's login page, roles and the permissions those roles grant. Tokens issued to a person
carry the person's id; the permission check reads the person's *current* permissions, so a test can
take a permission away from a signed-in person (`people.set_permissions`).

The default people (`default_people`) are an administrator with every permission (`*:*:*`), a viewer
who can read what the admin app reads but change nothing, and an agent with no admin permission.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from simulator.org import User, seeded_uuid
from simulator.permissions import EVERYTHING

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin@example.com"
ADMIN_PASSWORD = "admin-password"
VIEWER_USERNAME = "viewer@example.com"
VIEWER_PASSWORD = "viewer-password"
AGENT_USERNAME = "agent@example.com"
AGENT_PASSWORD = "agent-password"

VIEWER_PERMISSIONS = (
    "routing:queue:view",
    "recording:retentionPolicy:view",
    "architect:datatable:view",
    "architect:datatableRow:view",
    "analytics:conversationDetail:view",
)
"""What the viewer holds: the admin app's reads, none of its writes (no row edit, no callback)."""


@dataclass(frozen=True)
class Role:
    id: str
    name: str


@dataclass(frozen=True)
class Person:
    """A user who can sign in: `user` is what `GET /api/v2/users/{id}` shows."""

    user: User
    password: str = field(repr=False)
    permissions: frozenset[str] = frozenset()
    roles: tuple[Role, ...] = ()

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username


class People:
    """The simulated org's sign-in users (thread-safe)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"people-{seed}")
        self._by_id: dict[str, Person] = {}
        self._lock = threading.Lock()

    def add(
        self,
        username: str,
        password: str,
        permissions: Iterable[str] = (),
        *,
        name: str | None = None,
        title: str = "Administrator",
        roles: Iterable[str] = (),
        user_id: str | None = None,
    ) -> Person:
        """Add a person; `username` is unique (case-insensitive); `roles` are role names."""
        if not username or not password:
            raise ValueError("a person needs a username and a password")
        with self._lock:
            if any(p.username.lower() == username.lower() for p in self._by_id.values()):
                raise ValueError(f"a person with username {username!r} exists already")
            uid = user_id or seeded_uuid(self._rng)
            role_objs = tuple(Role(seeded_uuid(self._rng), r) for r in roles)
            local = username.split("@", 1)[0]
            user = User(
                id=uid,
                name=name or local.replace(".", " ").title(),
                username=username,
                email=username if "@" in username else f"{username}@example.com",
                title=title,
                department="Administration",
            )
            person = Person(user, password, frozenset(permissions), role_objs)
            self._by_id[uid] = person
        logger.info("simulator person %s added with %d permission(s)", username, len(person.permissions))
        return person

    def by_id(self, user_id: str) -> Person | None:
        with self._lock:
            return self._by_id.get(user_id)

    def by_username(self, username: str) -> Person | None:
        with self._lock:
            return next((p for p in self._by_id.values() if p.username.lower() == username.lower()), None)

    def all(self) -> list[Person]:
        with self._lock:
            return list(self._by_id.values())

    def authenticate(self, username: str, password: str) -> Person | None:
        """The person with these credentials, or None (the login page says "incorrect")."""
        person = self.by_username(username.strip())
        if person is None or not secrets.compare_digest(person.password.encode(), password.encode()):
            return None
        return person

    def set_permissions(self, username: str, permissions: Iterable[str]) -> Person:
        """Replace a person's permissions (applies to tokens already issued to them)."""
        with self._lock:
            person = next((p for p in self._by_id.values() if p.username.lower() == username.lower()), None)
            if person is None:
                raise KeyError(f"no person {username!r}")
            updated = replace(person, permissions=frozenset(permissions))
            self._by_id[person.id] = updated
        return updated


def default_people(seed: int = 0) -> People:
    people = People(seed)
    people.add(ADMIN_USERNAME, ADMIN_PASSWORD, [EVERYTHING], name="Sim Admin", roles=["Master Admin"])
    people.add(
        VIEWER_USERNAME,
        VIEWER_PASSWORD,
        VIEWER_PERMISSIONS,
        name="Sim Viewer",
        title="Supervisor",
        roles=["CallExport Viewer"],
    )
    people.add(AGENT_USERNAME, AGENT_PASSWORD, [], name="Sim Agent", title="Agent", roles=["employee"])
    return people
