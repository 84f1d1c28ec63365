"""The plan of `python run.py setup`: steps that inspect, then apply; collisions; error advice.

A `Step` has a ``key`` (``role``, ``oauth-client``, …), a ``title`` and the keys it ``needs``. Its
``inspect(ctx)`` only reads and returns a `Finding`: ``create``, ``update`` (with the list of what
differs), ``ok`` or ``collision``. Its ``apply(ctx, finding)`` makes exactly those changes and returns
an `Outcome`. `run_plan` inspects every step (the plan shown to the administrator; ``--dry-run`` stops
there), then applies them in order, inspecting each again first (earlier steps may have created what
it refers to). A step that fails stops only itself and the steps that need it; what is done stays done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from genesys.errors import Forbidden, GenesysError, GenesysUnavailable, NotFound, TransientError
from genesys.permissions import SETUP_NEEDS

if TYPE_CHECKING:
    from genesys.credentials import CredentialStore
    from provisioning.admin_client import AdminClient
    from provisioning.signin import AdminSession

logger = logging.getLogger(__name__)

MARKER = "[managed by callexport setup]"
"""Put in the description (or the notes) of every object `setup` creates: what carries it is ours."""

CREATE, UPDATE, OK, COLLISION = "create", "update", "ok", "collision"


def is_ours(text: str | None) -> bool:
    return MARKER in (text or "")


def with_marker(text: str) -> str:
    return text if is_ours(text) else f"{text.rstrip()} {MARKER}".strip()


@dataclass(frozen=True)
class Options:
    """Names and choices of one setup run (defaults match the service's settings)."""

    settings_path: Path = Path("callexport.toml")
    role_name: str = "callexport service"
    client_name: str = "callexport service"
    datatable: str = "CallExport Configuration"
    datatable_row: str = "config"
    datatable_column: str = "Configuration"
    system_queue: str = "CallExport System"
    app_name: str = "callexport admin"
    app_url: str = ""
    export_root: str = ""
    export_queues: tuple[str, ...] = ()
    adopt: frozenset[str] = frozenset()
    credential_store: str | None = None
    license_file: Path | None = None
    install_service: bool = False
    service_account: str | None = None
    nssm: str | None = None


@dataclass
class Finding:
    action: str
    summary: str
    changes: list[str] = field(default_factory=list)
    found: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: str  # created, updated, unchanged, collision, failed, skipped, planned
    message: str


@dataclass
class Context:
    options: Options
    client: AdminClient | None = None  # None for local steps in tests
    session: AdminSession | None = None
    credentials: CredentialStore | None = None
    say: Callable[[str], None] = print
    values: dict[str, Any] = field(default_factory=dict)  # ids found or created, shared by the steps
    dry_run: bool = False
    planning: bool = False  # True while the plan is inspected (before anything changes)

    def require_client(self) -> AdminClient:
        """The signed-in admin client (a step that calls Genesys Cloud cannot run without one)."""
        if self.client is None:
            raise RuntimeError("this setup step needs a signed-in Genesys Cloud client")
        return self.client

    def require_session(self) -> AdminSession:
        if self.session is None:
            raise RuntimeError("this setup step needs a signed-in Genesys Cloud session")
        return self.session

    def require_credentials(self) -> CredentialStore:
        if self.credentials is None:
            raise RuntimeError("this setup step needs the credential store")
        return self.credentials


class Step(Protocol):
    key: str
    title: str
    needs: tuple[str, ...]

    def inspect(self, ctx: Context) -> Finding: ...

    def apply(self, ctx: Context, finding: Finding) -> Outcome: ...


def collision(kind: str, name: str, option: str, adopt_key: str) -> Finding:
    return Finding(
        COLLISION,
        f"a {kind} named {name!r} exists but was not created by callexport setup",
        data={
            "advice": f"choose another name with {option} NAME, or, if it is meant for callexport, run setup "
            f"with --adopt {adopt_key} (setup then manages it: its settings are changed to what callexport needs)"
        },
    )


def _permissions_for(step_key: str) -> str:
    wanted = {
        "role": "the service's role",
        "role-grant": "the service's role",
        "oauth-client": "the OAuth client",
        "datatable": "the configuration data table and row",
        "schema": "the custom attributes schema",
        "queue": "the system queue",
        "client-app": "the admin app (Client App integration)",
    }.get(step_key)
    need = next((n for n in SETUP_NEEDS if n.feature == wanted), None)
    return ", ".join(need.grant) if need else "the permissions in docs/genesys.md"


def explain(step: Step, exc: Exception) -> str:
    """What went wrong and what to do, for the administrator."""
    if getattr(exc, "advice_is_message", False) or type(exc).__name__ in ("CheckFailed", "SignInError"):
        return str(exc)
    if isinstance(exc, Forbidden):
        return (
            f"Genesys Cloud refused ({exc.message or 'HTTP 403'}): the signed-in administrator lacks a "
            f"permission for this step. Give them a role with {_permissions_for(step.key)} and run setup again."
        )
    if isinstance(exc, GenesysUnavailable | TransientError):
        return (
            f"Genesys Cloud did not answer ({exc}). Check the region and the network, then run setup again; "
            "the steps already done are kept."
        )
    if isinstance(exc, NotFound):
        return f"not found: {exc.message or exc} (was it deleted while setup ran? run setup again)"
    if isinstance(exc, GenesysError):
        return f"Genesys Cloud answered HTTP {exc.status}: {exc.message or exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class StepResult:
    step: Step
    finding: Finding | None
    outcome: Outcome


def inspect_all(steps: Iterable[Step], ctx: Context) -> list[StepResult]:
    """Inspect every step (reads only)."""
    results = []
    ctx.planning = True
    for step in steps:
        try:
            finding = step.inspect(ctx)
            outcome = Outcome("planned", finding.summary)
        except Exception as exc:  # one step that cannot be inspected does not hide the others
            logger.debug("inspecting %s failed", step.key, exc_info=True)
            finding, outcome = None, Outcome("failed", explain(step, exc))
        results.append(StepResult(step, finding, outcome))
    ctx.planning = False
    return results


def apply_all(
    steps: Iterable[Step], ctx: Context, on_result: Callable[[StepResult], None]
) -> list[StepResult]:
    """Inspect again and apply each step in order; a failure skips only the steps that need it."""
    results: list[StepResult] = []
    failed: set[str] = set()
    for step in steps:
        blocked = [n for n in step.needs if n in failed]
        if blocked:
            result = StepResult(step, None, Outcome("skipped", f"skipped: needs {', '.join(blocked)}"))
            failed.add(step.key)
        else:
            result = _apply_one(step, ctx)
            if result.outcome.status in ("failed", "collision"):
                failed.add(step.key)
        results.append(result)
        on_result(result)
    return results


def _apply_one(step: Step, ctx: Context) -> StepResult:
    finding: Finding | None = None
    try:
        finding = step.inspect(ctx)
        if finding.action == COLLISION:
            return StepResult(
                step, finding, Outcome("collision", f"{finding.summary}: {finding.data['advice']}")
            )
        if finding.action == OK:
            return StepResult(step, finding, Outcome("unchanged", finding.summary))
        outcome = step.apply(ctx, finding)
        logger.info("setup %s: %s (%s)", step.key, outcome.status, outcome.message)
        return StepResult(step, finding, outcome)
    except Exception as exc:
        logger.warning("setup %s failed: %s", step.key, exc, exc_info=logger.isEnabledFor(logging.DEBUG))
        return StepResult(step, finding, Outcome("failed", explain(step, exc)))
