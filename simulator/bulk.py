"""Genesys Cloud's bulk endpoints in the simulator: batch recording downloads and the asynchronous
analytics conversation details jobs, with their knobs (`sim.bulk`, settable at run time).

Routes (registered by `register`):

* `POST /api/v2/recording/batchrequests`, `GET /api/v2/recording/batchrequests/{jobId}`
  (`simulator.recording_batches`);
* `POST /api/v2/analytics/conversations/details/jobs`, `GET .../jobs/availability`,
  `GET/DELETE .../jobs/{jobId}`, `GET .../jobs/{jobId}/results` (`simulator.analytics_jobs`).

Every value below is either taken from Genesys' own material (source in the comment) or marked
*unconfirmed* (our best reading; docs/genesys.md lists each with how the client stays safe).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.http_api import Router

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)


@dataclass
class BulkKnobs:
    """Limits and timings of the bulk endpoints (assign attributes to change them at run time)."""

    # -- batch recording downloads ------------------------------------------------------------
    batch_max_items: int = 100
    """`BatchDownloadJobSubmission.batchDownloadRequestList`: "List of up to 100 items requested" (SDK)."""
    batch_discover_s: float = 0.3
    """Until then `expectedResultCount` counts requests, not the recordings they name (SDK: "could change
    as recordings are being discovered")."""
    batch_item_s: float = 0.05
    """Processing time per requested item (results appear one by one, `status` stays InProgress)."""
    batch_url_ttl_s: float = 3600.0
    """Lifetime of a result URL: the org's "Recording Batch Download URL Time-to-live", default 60 min,
    2-60 min (help.mypurecloud.com "Manage recordings")."""
    batch_format_id: str = "OGG_OPUS"
    """Results are "in their original format/codec - configured in the Trunk configuration" (SDK); the
    simulated trunk records Opus, served as an Ogg file (`audio/ogg`): *unconfirmed* container."""
    batch_job_ttl_s: float = 86_400.0
    """How long a batch job can be read after submission (*unconfirmed*; then 404)."""

    # -- analytics conversation details jobs ----------------------------------------------------
    jobs_queued_s: float = 0.2
    """Time a job stays QUEUED before PENDING (the platform's queue)."""
    jobs_run_s: float = 0.5
    """Minimum time a job stays PENDING (longer while its results are computed)."""
    jobs_results_ttl_s: float = 86_400.0
    """Fulfilled results can be read until `expirationDate` (this long after completion), then EXPIRED
    (*unconfirmed* duration)."""
    jobs_default_page_size: int = 100
    """Results per page without `pageSize` (*unconfirmed*)."""
    jobs_max_page_size: int = 1000
    """Largest accepted `pageSize` (*unconfirmed*; larger: 400)."""
    jobs_max_running: int | None = None
    """Jobs of one OAuth client QUEUED or PENDING at once; beyond: 429 (*unconfirmed*; None: no limit)."""
    jobs_fail_next: int = 0
    """The next N submitted jobs end FAILED with an `errorMessage` (fault injection)."""
    availability_lag_s: float = 3600.0
    """`dataAvailabilityDate` is this far behind now; jobs silently leave out conversations that ended
    after it (the watermark of `GET .../jobs/availability`)."""
    retention_days: float = 5 * 365.0
    """Conversation detail data older than this is not queryable (help.mypurecloud.com "Retention period
    for analytics data and recording": searching beyond 5 years: no); older intervals: 400."""
    max_predicates: int = 100
    """Predicates per filter or clause of a details query or job (*unconfirmed*; more: 400)."""


def register(router: Router, sim: Simulator) -> None:
    from simulator import analytics_jobs, recording_batches

    recording_batches.register(router, sim)
    analytics_jobs.register(router, sim)
