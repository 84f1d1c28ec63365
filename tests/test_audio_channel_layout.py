"""Which channel is who: detected from the audio and the conversation, never guessed for a one-side file.

The simulator lays a dual-channel recording out the standard way (the customer on channel 0), swapped,
or mixed (every channel carries the whole call, as a recording that is not dual-channel does). An
agent-only export must find the agent's channel in both real layouts and carry only the agent, and must
be refused (naming the conversation and the recording) when the channels cannot be told apart.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import soundfile as sf

from audio.channel_detect import speaker_spans
from audio.errors import ChannelLayoutError
from audio.export import export_recording
from audio.options import AudioOptions
from simulator import documents
from simulator.audio_synth import render_recording, speech_truth
from simulator.org import default_org
from simulator.recording_variants import with_channel_layout, with_flow_and_queue
from simulator.scenarios import generate_call
from transcripts.parse import load_transcript

SR = 8000
END_MS = 1_782_000_000_000
AGENT_ONLY = AudioOptions(format="WAV", purposes=("agent",), segment_types=("interact",), concatenate=True)


@pytest.fixture(scope="module")
def org():
    return default_org()


class Rendered:
    """A simulated call's first recording on disk, with its documents and its truth."""

    def __init__(self, org, call, tmp) -> None:
        self.call, self.rec = call, call.recordings[0]
        self.recording = documents.recording(call, self.rec, org, format_id="WAV", media_uris=None)
        self.details = documents.analytics_details(call, org)
        self.wav = tmp / f"{self.rec.recording_id}-{self.rec.channel_layout}.wav"
        sf.write(self.wav, render_recording(call, self.rec, SR), SR, subtype="PCM_16")
        self.pcm = sf.read(self.wav, dtype="int16", always_2d=True)[0]

    def channel_of(self, side: str) -> int:
        standard = 0 if side == "external" else 1
        return 1 - standard if self.rec.channel_layout == "swapped" else standard

    def export(self, options: AudioOptions, out, **kw):
        return export_recording(self.wav, self.recording, self.details, options, out, **kw)

    def solo(self, side: str) -> list[tuple[float, float]]:
        """Media spans where only `side` speaks (nothing else within 0.2 s)."""
        truth = speech_truth(self.call, self.rec)
        others = [(a - 0.2, b + 0.2) for s, a, b in truth if s != side]
        others += [
            (a / 1000 - 0.2, b / 1000 + 0.2)
            for snd in self.call.sounds
            for a, b in self.rec.wall_span_to_media(snd.start_ms, snd.end_ms)
        ]
        return [(a, b) for s, a, b in truth if s == side and all(b <= x or a >= y for x, y in others)]


def _inbound(org, layout: str, tmp, kind: str = "inbound_hold", seed: str = "layout-1") -> Rendered:
    call = generate_call(org, random.Random(seed), end_ms=END_MS, kind=kind, duration_s=60.0)
    call = with_channel_layout(with_flow_and_queue(call, "recorded"), layout)
    return Rendered(org, call, tmp)


def _check_agent_only(r: Rendered, out) -> None:
    """The file is the agent's channel of the source, sample for sample, and the customer is absent."""
    y = sf.read(out.path, dtype="int16", always_2d=True)[0]
    assert y.shape[1] == 1 and out.sides == ("internal",)
    fade = int(0.005 * SR)
    agent, customer = r.channel_of("internal"), r.channel_of("external")
    for p in out.timeline.timemap.pieces:
        o, m = round(p.out_start * SR), round(p.media_start * SR)
        k = round((p.media_end - p.media_start) * SR)
        assert np.array_equal(y[o + fade : o + k - fade, 0], r.pcm[m + fade : m + k - fade, agent])
    # where only the customer speaks, the file is at the agent line's noise floor
    heard = []
    for a, b in r.solo("external"):
        span = out.timeline.timemap.map_span(a, b)
        if span and span[1] - span[0] > 0.3:
            heard.append(y[round(span[0] * SR) : round(span[1] * SR), 0].astype(float))
    assert sum(len(h) for h in heard) > 2 * SR
    customer_level = 10 * np.log10(np.mean(np.concatenate(heard) ** 2) / 32768**2)
    floor = 10 * np.log10(np.mean(r.pcm[: SR // 4, customer].astype(float) ** 2) / 32768**2 + 1e-12)
    assert customer_level < -45, (customer_level, floor)


@pytest.mark.parametrize("layout", ["standard", "swapped"])
def test_detection_finds_the_agent_channel_in_either_layout(org, layout, tmp_path, caplog):
    r = _inbound(org, layout, tmp_path)
    caplog.set_level(logging.INFO, logger="audio.channel_detect")
    (out,) = r.export(AGENT_ONLY, tmp_path / "out")
    _check_agent_only(r, out)
    if layout == "swapped":  # an operator sees that the default layout would have been wrong
        assert "unlike the default layout" in caplog.text and r.call.conversation_id in caplog.text
    else:
        assert "channel layout confirmed" in caplog.text
    # per-segment files of both parties: each one its own party's channel
    both = AudioOptions(format="WAV", purposes=("agent", "customer"), segment_types=("interact",))
    fade = int(0.005 * SR)
    for seg_out in r.export(both, tmp_path / "segments"):
        side = "internal" if seg_out.segment.purpose == "agent" else "external"
        y = sf.read(seg_out.path, dtype="int16")[0]
        start = round(seg_out.segment.media_start * SR)
        want = r.pcm[start + fade : start + len(y) - fade, r.channel_of(side)]
        assert seg_out.sides == (side,) and np.array_equal(y[fade:-fade], want)


def test_a_forced_layout_is_used_as_set(org, tmp_path):
    """`default` and `swapped` are not second-guessed: forcing the wrong one exports the wrong side."""
    r = _inbound(org, "swapped", tmp_path)
    forced = AudioOptions(**{**AGENT_ONLY.__dict__, "channel_layout": "swapped"})
    (out,) = r.export(forced, tmp_path / "swapped")
    _check_agent_only(r, out)
    wrong = AudioOptions(**{**AGENT_ONLY.__dict__, "channel_layout": "default"})
    (out,) = r.export(wrong, tmp_path / "default")
    y = sf.read(out.path, dtype="int16")[0]
    p = out.timeline.timemap.pieces[0]
    m, k = round(p.media_start * SR), round((p.media_end - p.media_start) * SR)
    assert np.array_equal(y[40 : k - 40], r.pcm[m + 40 : m + k - 40, r.channel_of("external")])


def test_channels_that_each_carry_the_whole_call_refuse_one_side_exports(org, tmp_path, caplog):
    r = _inbound(org, "mixed", tmp_path)
    for options in (
        AGENT_ONLY,
        AudioOptions(format="MP3", purposes=("customer",), concatenate=True),
        AudioOptions(format="WAV", purposes=("agent",), segment_types=("interact",)),  # one file each
    ):
        with pytest.raises(ChannelLayoutError) as refused:
            r.export(options, tmp_path / "refused")
        message = str(refused.value)
        assert r.call.conversation_id in message and r.rec.recording_id in message
        assert "both channels carry" in message and "refused" in message
    assert not [p for p in (tmp_path / "refused").iterdir() if not p.name.startswith(".")]
    # exports that keep every channel do not depend on the layout and still work
    (whole,) = r.export(AudioOptions(format="WAV"), tmp_path / "whole")
    assert whole.channels == 2
    both = AudioOptions(
        format="WAV", purposes=("agent", "customer"), segment_types=("interact",), concatenate=True
    )
    (joined,) = r.export(both, tmp_path / "both")
    assert joined.channels == 2


@pytest.mark.parametrize("layout", ["standard", "swapped"])
def test_without_evidence_the_export_is_refused_and_transcript_speaker_times_decide(org, layout, tmp_path):
    """An outbound call without hold: no IVR, queue or hold audio says which channel is the agent's."""
    call = generate_call(org, random.Random("layout-out-3"), end_ms=END_MS, kind="outbound", duration_s=50.0)
    assert not any(s.segment_type == "hold" for p in call.participants for s in p.segments)
    r = Rendered(org, with_channel_layout(call, layout), tmp_path)
    with pytest.raises(ChannelLayoutError, match="no stretch of the call tells the channels apart"):
        r.export(AGENT_ONLY, tmp_path / "none")
    (communication,) = documents.transcript_communication_ids(r.call)
    transcript = load_transcript(documents.transcript_document(r.call, org, communication))
    (out,) = r.export(AGENT_ONLY, tmp_path / "out", speakers=speaker_spans(transcript))
    _check_agent_only(r, out)
