"""Benchmark: a 2-hour call's transcript converted to all nine formats (target: < 2 s in total).

    python bench/transcripts_bench.py [--repeat 3]

Generates a 2-hour simulated call (deterministic), takes its STA transcript document as the bytes
the service downloads, and times parsing plus rendering to each format, once without and once with
an export timeline (segment extraction: the agent's interact spans, then trimmed). Reports the best
of --repeat runs. As a same-run reference it also times `json.loads` + `json.dumps(indent=2)` of
the same document (the least any converter must do), and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audio.timemap import ExportTimeline, MediaClock, TimeMap  # noqa: E402
from simulator import documents  # noqa: E402
from simulator.org import default_org  # noqa: E402
from simulator.scenarios import generate_call  # noqa: E402
from transcripts.formats import FORMATS  # noqa: E402
from transcripts.parse import load_transcript  # noqa: E402
from transcripts.render import render, render_many  # noqa: E402
from transcripts.speakers import SpeakerInfo  # noqa: E402

logger = logging.getLogger(__name__)

TARGET_S = 2.0


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    org = default_org()
    call = generate_call(
        org,
        random.Random("bench-2h"),
        end_ms=1_760_000_000_000,
        kind="long",
        duration_s=7200,
        queue_name="Sales",
    )
    (communication_id,) = documents.transcript_communication_ids(call)
    raw = documents.transcript_document(call, org, communication_id)
    data = json.dumps(raw).encode("utf-8")
    details = documents.analytics_details(call, org)
    speakers = SpeakerInfo.from_details(details)
    transcript = raw["transcripts"][0]
    words = sum(len(p["words"]) for p in transcript["phrases"])
    print(
        f"call: {(call.end_ms - call.start_ms) / 60000:.1f} min, {len(transcript['phrases'])} phrases, "
        f"{words} words, document {len(data) / 1e6:.2f} MB"
    )

    ref_s, _ = _best(lambda: json.dumps(json.loads(data), indent=2), args.repeat)
    parse_s, doc = _best(lambda: load_transcript(data), args.repeat)

    rec_start = transcript["startTime"]
    agent_spans = sorted(
        ((s.start_ms - rec_start) / 1000, (s.end_ms - rec_start) / 1000) for s in speakers.agent_spans
    )
    timeline = ExportTimeline(MediaClock(rec_start), TimeMap.concatenation(agent_spans).trimmed(0.5, 0.5))

    for label, tl in (("no timeline", None), ("segment timeline", timeline)):
        total = parse_s
        print(f"\n{label}:")
        print(f"  {'parse':<7} {parse_s * 1000:8.1f} ms")
        for name in FORMATS:
            seconds, out = _best(
                lambda name=name, tl=tl: render(doc, name, speakers=speakers, timeline=tl), args.repeat
            )
            total += seconds
            print(f"  {name:<7} {seconds * 1000:8.1f} ms  {len(out) / 1e6:6.2f} MB")
        verdict = "OK" if total < TARGET_S else "TOO SLOW"
        print(
            f"  total   {total * 1000:8.1f} ms  (target < {TARGET_S * 1000:.0f} ms: {verdict}; "
            f"{total / ref_s:.1f}x the json.loads+dumps reference of {ref_s * 1000:.1f} ms)"
        )
        many_s, _ = _best(
            lambda tl=tl: render_many(load_transcript(data), list(FORMATS), speakers=speakers, timeline=tl),
            args.repeat,
        )
        print(f"  render_many (parse + all nine, cues built once): {many_s * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
