"""Benchmark of the naming and writing path of every exported file.

    python bench/storage_bench.py [--files N] [--size-kb K]

Prints: file names rendered per second (build_context + target_path with a typical template), compared
with a plain ``str.format`` of the same fields (the reference, measured in the same run); and atomic
``write_file`` (temp + fsync + rename + metadata) against a plain ``open().write()`` + fsync of the same
bytes. Targets: naming well under 1 ms per file; the atomic write within 2x of the fsynced plain write.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import storage_fixtures as fx  # noqa: E402

from profiles import Profile  # noqa: E402
from storage.context import build_context  # noqa: E402
from storage.paths import target_path  # noqa: E402
from storage.write import write_file  # noqa: E402

TEMPLATE = "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{CustomerCall.Attribute.CRMTicketNumber}_{Conversation.Id}.{FileExtension}"


def bench_naming(n: int, root: Path) -> None:
    profile = dataclasses.replace(
        Profile(name="Bench", time_zone_offset="Europe/Oslo"),
        destination_root=str(root),
        directory_structure_mode="Hierarchical",
        interval="1h",
        audio_file_template=TEMPLATE,
    )
    details, recording, conversation = fx.details(), fx.recording(), fx.conversation()
    t0 = time.perf_counter()
    for _ in range(n):
        ctx = build_context(
            details=details, profile=profile, recording=recording, conversation=conversation,
            queue_names=fx.QUEUE_NAMES, user_names=fx.USER_NAMES, file_extension="wav", format_name="WAV",
        )  # fmt: skip
        target_path(profile, ctx, kind="audio")
    ours = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n):
        start = fx.RECORDING_START
        str(root / f"{start:%Y}" / f"{start:%m}" / f"{start:%d}" / f"{start:%H}" /
            "{:%Y%m%d_%H%M%S}_{}_{}_{}.{}".format(start, "Jane Smith", "TKT-98765", fx.CONVERSATION_ID, "wav"))  # fmt: skip
    ref = (time.perf_counter() - t0) / n
    print(
        f"naming: {ours * 1e6:8.1f} us/file (build_context + target_path); plain str.format {ref * 1e6:.1f} us"
    )


def bench_write(n: int, size: int, root: Path) -> None:
    data = os.urandom(size)
    meta = {"Conversation.Id": fx.CONVERSATION_ID, "Recording.Id": fx.RECORDING_ID, "Acd.Name": "Support"}
    t0 = time.perf_counter()
    for i in range(n):
        path = root / "plain" / f"f{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    plain = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for i in range(n):
        write_file(root / "atomic" / f"f{i}.wav", data, "AppendCounter", metadata=meta)
    atomic = (time.perf_counter() - t0) / n
    print(
        f"write {size // 1024} KiB: atomic write_file {atomic * 1e3:.2f} ms/file, plain write+fsync "
        f"{plain * 1e3:.2f} ms/file, ratio {atomic / plain:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size-kb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_naming(args.files, Path(tmp))
        bench_write(min(args.files, 100), args.size_kb * 1024, Path(tmp))


if __name__ == "__main__":
    main()
