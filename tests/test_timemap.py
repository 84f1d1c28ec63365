from __future__ import annotations

import pytest

from audio.timemap import ExportTimeline, Gap, MediaClock, Piece, TimeMap


def test_media_clock_without_gaps_is_an_offset():
    clock = MediaClock(1_000_000)
    assert clock.to_media(1_002_500) == 2.5


def test_media_clock_skips_gaps():
    clock = MediaClock(0, (Gap(10_000, 5_000),))
    assert clock.to_media(9_000) == 9.0
    assert clock.to_media(12_000) is None
    assert clock.to_media(16_000) == 11.0
    assert clock.span_to_media(12_000, 20_000) == (10.0, 15.0)
    assert clock.span_to_media(11_000, 14_000) is None


def test_concatenation_and_span_mapping():
    tm = TimeMap.concatenation([(10.0, 20.0), (30.0, 35.0)])
    assert tm.duration == 15.0
    assert tm.to_output(12.0) == 2.0
    assert tm.to_output(31.0) == 11.0
    assert tm.to_output(25.0) is None
    assert tm.map_span(18.0, 32.0) == (8.0, 12.0)
    assert tm.map_span(21.0, 29.0) is None


def test_trim_shifts_and_clips():
    tm = TimeMap.identity(60.0).trimmed(head=5.0, tail=10.0)
    assert tm.pieces == (Piece(5.0, 50.0, 0.0),)
    assert tm.to_output(5.0) == 0.0
    assert tm.to_output(4.0) is None
    trimmed = TimeMap.concatenation([(0.0, 10.0), (20.0, 30.0)]).trimmed(head=12.0, tail=0.0)
    assert trimmed.pieces == (Piece(22.0, 30.0, 0.0),)


def test_export_timeline_chains_both():
    timeline = ExportTimeline(MediaClock(1_000, (Gap(5_000, 2_000),)), TimeMap.concatenation([(3.0, 8.0)]))
    # wall 9_000 ms -> media 6.0 s (2 s gap removed) -> export 3.0 s
    assert timeline.map_span(9_000, 10_000) == pytest.approx((3.0, 4.0))


def test_gap_edges_map_to_the_cut_point():
    clock = MediaClock(0, (Gap(10_000, 5_000),))
    assert clock.to_media(10_000) == 10.0  # the instant the gap starts
    assert clock.to_media(15_000) == 10.0  # the instant it ends: the same media point
    assert clock.span_to_media(5_000, 10_000) == (5.0, 10.0)  # a span ending exactly where the gap starts
    assert clock.span_to_media(15_000, 17_000) == (10.0, 12.0)
