from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pykka

from actors.base import BackgroundDone, Supervised
from actors.directory import Directory
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor
from reliability.backoff import Backoff

FAST = RestartPolicy(max_restarts=3, period_s=5, backoff=Backoff(0.01, 0.05), watchdog_s=0.1)


@dataclass(frozen=True)
class Boom:
    pass


@dataclass(frozen=True)
class Finish:
    pass


class Worker(Supervised):
    starts: list[str] = []

    def setup(self) -> None:
        Worker.starts.append(self.actor_urn)

    def handle(self, message):
        if isinstance(message, Boom):
            raise RuntimeError("boom")
        if isinstance(message, Finish):
            self.stop()
        if isinstance(message, BackgroundDone):
            return message
        return None


def worker_factory(sup, child_id):
    return Worker.start(supervisor=sup, child_id=child_id)


class SampleSup(Supervisor):
    def __init__(self, specs, finished, **kw):
        super().__init__(**kw)
        self._specs = specs
        self.finished = finished

    def child_specs(self):
        return self._specs

    def on_child_finished(self, child_id, crashed, reason):
        self.finished.append((child_id, crashed))


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def start_sup(specs, finished=None, escalate=None):
    directory = Directory()
    ref = SampleSup.start(
        specs,
        finished if finished is not None else [],
        supervisor=None,
        child_id="sup",
        directory=directory,
        policy=FAST,
        on_escalate=escalate,
    )
    return ref, directory


def test_crashed_permanent_child_is_restarted_as_a_new_instance():
    Worker.starts = []
    _, directory = start_sup([ChildSpec("w", worker_factory)])
    assert wait_for(lambda: directory.get("w") is not None)
    first = directory.get("w")
    first.tell(Boom())
    assert wait_for(lambda: directory.get("w") is not None and directory.get("w") is not first)
    assert len(Worker.starts) == 2 and Worker.starts[0] != Worker.starts[1]
    assert directory.tell("w", Finish()) is True  # the new instance takes messages


def test_transient_child_that_finishes_normally_is_not_restarted():
    finished = []
    _, directory = start_sup([ChildSpec("t", worker_factory, restart="transient")], finished)
    assert wait_for(lambda: directory.get("t") is not None)
    directory.tell("t", Finish())
    assert wait_for(lambda: finished == [("t", False)])
    time.sleep(0.2)
    assert directory.get("t") is None


def test_restart_intensity_escalates():
    escalated = threading.Event()
    reasons = []

    def on_escalate(reason):
        reasons.append(reason)
        escalated.set()

    _, directory = start_sup([ChildSpec("w", worker_factory)], escalate=on_escalate)
    for _ in range(10):
        if escalated.is_set():
            break
        assert wait_for(lambda: directory.get("w") is not None or escalated.is_set())
        directory.tell("w", Boom())
        time.sleep(0.05)
    assert escalated.wait(5)
    assert "w failed" in reasons[0]


def test_stale_reports_do_not_disturb_the_current_child():
    Worker.starts = []
    sup_ref, directory = start_sup([ChildSpec("w", worker_factory)])
    assert wait_for(lambda: directory.get("w") is not None)
    from messages.lifecycle import ChildExited

    sup_ref.tell(ChildExited("w", "urn:uuid:not-the-current-one", "x", True))
    time.sleep(0.2)
    assert len(Worker.starts) == 1


def test_background_work_reports_back_to_the_actor():
    ref = Worker.start(supervisor=None, child_id="bg")
    got = []
    proxy_result = threading.Event()

    class Probe(Worker):
        def handle(self, message):
            if isinstance(message, BackgroundDone):
                got.append(message)
                proxy_result.set()
            elif message == "go":
                self.run_in_background(lambda: 41 + 1, tag="answer")

    probe = Probe.start(supervisor=None, child_id="probe")
    probe.tell("go")
    assert proxy_result.wait(5)
    assert got[0].tag == "answer" and got[0].result == 42
    ref.stop()
    probe.stop()
    assert not pykka.ActorRegistry.get_by_class(Probe)


class Silent(Worker):
    """Dies without reporting: an on_failure override that forgot to call the base class."""

    def on_failure(self, exception_type, exception_value, traceback):
        pass


def test_watchdog_restarts_a_child_that_died_without_reporting():
    Worker.starts = []
    spec = ChildSpec("s", lambda sup, cid: Silent.start(supervisor=sup, child_id=cid))
    _, directory = start_sup([spec])
    assert wait_for(lambda: directory.get("s") is not None)
    directory.get("s").tell(Boom())  # crashes; pykka stops it; nobody tells the supervisor
    assert wait_for(lambda: len(Worker.starts) == 2, timeout=5)


@dataclass(frozen=True)
class Hang:
    seconds: float


class Sleeper(Supervised):
    def handle(self, message):
        if isinstance(message, Hang):
            time.sleep(message.seconds)  # a stuck handler (the bug the watchdog is for)
        return None


def test_the_watchdog_replaces_a_child_whose_handler_does_not_answer_pings():
    import dataclasses

    directory = Directory()
    policy = dataclasses.replace(FAST, ping_timeout_s=0.3)
    ref = SampleSup.start(
        [ChildSpec("sleeper", lambda sup, cid: Sleeper.start(supervisor=sup, child_id=cid))],
        [],
        supervisor=None,
        child_id="sup",
        directory=directory,
        policy=policy,
    )
    try:
        assert wait_for(lambda: directory.get("sleeper") is not None)
        stuck = directory.get("sleeper")
        stuck.tell(Hang(2.0))
        assert wait_for(lambda: directory.get("sleeper") not in (None, stuck), 3.0)
        assert directory.get("sleeper").ask("ping-me-not", timeout=1) is None  # the new one answers
    finally:
        ref.stop()
