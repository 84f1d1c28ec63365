"""write_once on a real ledger (SQLite and PostgreSQL): a file is written once per item, also when
two instances of a shared ledger both think they export the same conversation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from export.failures import classify
from export.write_once import LeaseLost, write_once
from ledger import Ledger
from storage.write import write_file

AUDIO = b"RIFF" + bytes(range(256)) * 40


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"  # the SQLite ledger lives in tmp_path
    out.mkdir()
    return out


def _running(ledger: Ledger, owner: str) -> None:
    ledger.add_job("c1", ("q1",), 1.0)
    assert ledger.start("c1", owner=owner, lease_s=60) is not None


def test_an_instance_that_lost_the_lease_writes_nothing(ledger_location, tmp_path):
    ledger = Ledger(ledger_location)
    out = _folder(tmp_path)
    _running(ledger, "beta")
    target = out / "c1.wav"
    assert ledger.holds("c1", "beta") and not ledger.holds("c1", "alpha")
    with pytest.raises(LeaseLost) as caught:
        write_once(ledger, "c1", "Archive", "audio:r1", target, AUDIO, "AppendCounter", owner="alpha")
    assert list(out.iterdir()) == []
    assert ledger.output("c1", "Archive", "audio:r1") is None
    # the export retries (and is soon stopped by its supervisor): never a permanent failure
    assert classify(caught.value).kind == "recoverable"
    outcome = write_once(ledger, "c1", "Archive", "audio:r1", target, AUDIO, "AppendCounter", owner="beta")
    assert (outcome.path, outcome.action) == (target, "written")


def test_two_instances_racing_on_one_item_leave_one_file(ledger_location, tmp_path):
    """alpha planned the file, then stalled past its lease; beta took the job over and wrote the item;
    alpha's write then lands under a counter name, sees beta's record and removes its copy."""
    ledger = Ledger(ledger_location)
    out = _folder(tmp_path)
    _running(ledger, "alpha")
    target = out / "c1_r1.wav"

    def stalled_write(path: Path, source: bytes, strategy: str, **kwargs):  # type: ignore[no-untyped-def]
        # while alpha stalls, its lease expires and beta takes over and writes the same item
        assert ledger.expire_leases(now=time.time() + 120) == [("c1", "alpha")]
        assert ledger.start("c1", owner="beta", lease_s=60) is not None
        # beta's write_once runs in beta's process (this one's lock would hold it): its steps are these
        assert ledger.holds("c1", "beta") and ledger.output("c1", "Archive", "audio:r1").status == "planned"
        theirs = write_file(path, source, strategy)
        ledger.record_output("c1", "Archive", "audio:r1", "written", str(theirs.path), theirs.bytes_written)
        assert theirs.path == target
        return write_file(path, source, strategy, **kwargs)

    outcome = write_once(
        ledger,
        "c1",
        "Archive",
        "audio:r1",
        target,
        AUDIO,
        "AppendCounter",
        write=stalled_write,
        owner="alpha",
    )
    assert (outcome.path, outcome.action) == (target, "already written")
    assert sorted(p.name for p in out.iterdir()) == ["c1_r1.wav"]
    assert target.read_bytes() == AUDIO
    record = ledger.output("c1", "Archive", "audio:r1")
    assert (record.status, Path(record.path)) == ("written", target)


def test_racing_writes_to_the_same_name_remove_nothing(ledger_location, tmp_path):
    """With Overwrite both instances wrote the one file (their hosts may even name the share
    differently): the record of the first stands and the file is never removed."""
    ledger = Ledger(ledger_location)
    out = _folder(tmp_path)
    _running(ledger, "alpha")
    target = out / "c1.wav"
    alias = tmp_path / "share"  # the same folder under another name, as another host mounts it
    alias.symlink_to(out, target_is_directory=True)

    def stalled_write(path: Path, source: bytes, strategy: str, **kwargs):  # type: ignore[no-untyped-def]
        ledger.record_output("c1", "Archive", "audio:r1", "written", str(alias / "c1.wav"), len(source))
        return write_file(path, source, strategy, **kwargs)

    outcome = write_once(
        ledger, "c1", "Archive", "audio:r1", target, AUDIO, "Overwrite", write=stalled_write, owner="alpha"
    )
    assert outcome.action == "already written" and outcome.path == alias / "c1.wav"
    assert target.read_bytes() == AUDIO and [p.name for p in out.iterdir()] == ["c1.wav"]


def test_the_final_record_is_taken_by_exactly_one_writer(ledger_location):
    ledger = Ledger(ledger_location)
    ledger.record_output("c1", "P", "audio:r1", "planned", "/share/c1.wav")
    assert ledger.record_written_once("c1", "P", "audio:r1", "/share/c1_1.wav", 10) is None
    assert ledger.record_written_once("c1", "P", "audio:r1", "/share/c1.wav", 10) == "/share/c1_1.wav"
    assert ledger.record_written_once("c1", "P", "audio:r1", "/share/c1_1.wav", 10) is None  # the same again
    assert ledger.record_written_once("c2", "P", "audio:r1", "/share/c2.wav", 5) is None  # never planned
    assert ledger.output("c2", "P", "audio:r1").status == "written"


def test_without_an_owner_the_writer_is_not_fenced(ledger_location, tmp_path):
    """A single instance (no shared ledger) writes whatever the job's lease says."""
    ledger = Ledger(ledger_location)
    out = _folder(tmp_path)
    _running(ledger, "beta")
    outcome = write_once(ledger, "c1", "QA", "audio:r1", out / "a.wav", AUDIO, "AppendCounter")
    assert outcome.action == "written"
    again = write_once(ledger, "c1", "QA", "audio:r1", out / "a.wav", AUDIO, "AppendCounter")
    assert again.action == "already written" and sorted(p.name for p in out.iterdir()) == ["a.wav"]
