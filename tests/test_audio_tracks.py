"""Participant-track selection: an export keeps only the channels of the selected participants' sides.

Checked on simulated calls against the simulator's truth (which side speaks when), with independent
decoders (soundfile, PyAV) and meters (pyloudnorm, an oversampled true-peak meter).
"""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import SR, SimCall, db, decode_av, lufs, sim_call, true_peak_dbtp

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL, channel_of_side
from audio.errors import ChannelLayoutError
from audio.export import AudioOutput, export_recording
from audio.options import FORMATS, AudioOptions
from audio.tracks import select_tracks, sides_of_purposes, source_sides
from simulator.audio_synth import speech_truth

NATIVE_RATE = {"WEBM": 48000, "OGG_OPUS": 48000}  # Opus always decodes at 48 kHz
GUARD_S = 0.1


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> SimCall:
    return sim_call(tmp_path_factory.mktemp("tracks-src"), "inbound_hold", seed=3, duration_s=60.0)


def _side_only_masks(call: SimCall) -> dict[str, np.ndarray]:
    """Per side: media frames where only that side speaks (the other side silent, no prompt or music,
    with a guard around everything else)."""
    n = len(call.samples)
    g = int(GUARD_S * SR)
    speech = {"external": np.zeros(n, dtype=bool), "internal": np.zeros(n, dtype=bool)}
    busy = {"external": np.zeros(n, dtype=bool), "internal": np.zeros(n, dtype=bool)}
    for side, a, b in speech_truth(call.call, call.rec):
        speech[side][int(a * SR) : int(b * SR)] = True
        busy[side][max(0, int(a * SR) - g) : int(b * SR) + g] = True
    for _, a, b in call.sounds_media():  # IVR prompts, queue and hold music are on the internal side
        busy["internal"][max(0, int(a * SR) - g) : int(b * SR) + g] = True
    return {
        "external": speech["external"] & ~busy["internal"],
        "internal": speech["internal"] & ~busy["external"],
    }


def _to_output(mask: np.ndarray, out: AudioOutput, frames: int) -> np.ndarray:
    """A media-frame mask carried through the file's cuts onto its frames (fades at joins excluded)."""
    res = np.zeros(frames, dtype=bool)
    fade = int(0.01 * SR)
    for p in out.timeline.timemap.pieces:
        o, m = int(round(p.out_start * SR)), int(round(p.media_start * SR))
        k = min(int(round((p.media_end - p.media_start) * SR)), frames - o, len(mask) - m)
        if k > 2 * fade:
            res[o + fade : o + k - fade] = mask[m + fade : m + k - fade]
    return res


def _source_pcm(call: SimCall) -> np.ndarray:
    return sf.read(str(call.wav), dtype="int16", always_2d=True)[0]


def test_track_selection_rules_follow_audio_channels():
    assert sides_of_purposes(["agent"]) == {"internal"}
    assert sides_of_purposes(["agent", "ivr", "acd"]) == {"internal"}
    assert sides_of_purposes(["customer"]) == {"external"}
    assert sides_of_purposes(["agent", "customer"]) == sides_of_purposes([]) == {"external", "internal"}
    stereo = source_sides(2, {"mediaSubtype": "Trunk"})
    assert stereo[EXTERNAL_CHANNEL] == "external" and stereo[INTERNAL_CHANNEL] == "internal"
    assert select_tracks(stereo, {"internal"}) == (INTERNAL_CHANNEL,)
    assert select_tracks(stereo, {"external", "internal"}) == (0, 1)
    assert source_sides(1, {"mediaSubtype": "Trunk"}) == ("external",)
    assert source_sides(1, {"mediaSubtype": "Station"}) == ("internal",)
    assert select_tracks(source_sides(1, {"mediaSubtype": "Station"}), {"external"}) == ()
    assert select_tracks(source_sides(1, {}), {"external"}) == (0,)  # unknown side: kept whole


def test_agent_interact_concatenation_is_mono_agent_speech_without_the_customer(call, tmp_path):
    """The seed example: only the agent's track contributes; the customer's voice is gone."""
    options = AudioOptions(format="WAV", purposes=("agent",), segment_types=("interact",), concatenate=True)
    (out,) = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    y, rate = sf.read(str(out.path), dtype="float32", always_2d=True)
    assert rate == SR and y.shape[1] == 1 == out.channels and out.sides == ("internal",)
    assert out.channel_of_side("internal") == 0 and out.channel_of_side("external") is None
    x = call.samples
    floor = db(x[call.quiet_mask(), INTERNAL_CHANNEL])
    masks = _side_only_masks(call)
    customer = _to_output(masks["external"], out, len(y))
    agent = _to_output(masks["internal"], out, len(y))
    assert customer.sum() > 3 * SR and agent.sum() > 3 * SR  # the customer does talk in these spans
    customer_in_source = db(x[masks["external"] & _media_mask(out, len(x)), EXTERNAL_CHANNEL])
    customer_in_output = db(y[customer, 0])
    kept = _media_mask(out, len(x))
    agent_in_output, agent_in_source = db(y[agent, 0]), db(x[masks["internal"] & kept, INTERNAL_CHANNEL])
    # The customer's speech is at the noise floor of the agent's line (it was ~30 dB above it on its own).
    assert customer_in_source > floor + 20
    # Measured: floor -53.7, customer -20.8 dBFS in the source (and in the old stereo export) -> -54.1.
    assert customer_in_output <= floor + 3.0, (customer_in_output, floor)
    assert abs(agent_in_output - agent_in_source) <= 1.0
    # Sample for sample, the file is the agent's channel of the kept spans.
    source = _source_pcm(call)
    got = sf.read(str(out.path), dtype="int16")[0]
    fade = int(0.005 * SR)
    for p in out.timeline.timemap.pieces:
        o, m = int(round(p.out_start * SR)), int(round(p.media_start * SR))
        k = int(round((p.media_end - p.media_start) * SR))
        assert np.array_equal(got[o + fade : o + k - fade], source[m + fade : m + k - fade, INTERNAL_CHANNEL])


def _media_mask(out: AudioOutput, frames: int) -> np.ndarray:
    kept = np.zeros(frames, dtype=bool)
    for p in out.timeline.timemap.pieces:
        kept[int(round(p.media_start * SR)) : int(round(p.media_end * SR))] = True
    return kept


def test_segment_files_of_customer_and_agent_hold_only_their_own_side(call, tmp_path):
    options = AudioOptions(format="WAV", purposes=("customer", "agent"), segment_types=("interact",))
    outputs = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    source = _source_pcm(call)
    fade = int(0.005 * SR)
    by_purpose: dict[str, list[AudioOutput]] = {}
    for out in outputs:
        y, rate = sf.read(str(out.path), dtype="int16", always_2d=True)
        side = "external" if out.segment.purpose == "customer" else "internal"
        assert y.shape[1] == 1 == out.channels and out.sides == (side,)
        start = int(round(out.segment.media_start * SR))
        want = source[start + fade : start + len(y) - fade, channel_of_side(side)]
        assert np.array_equal(y[fade:-fade, 0], want), out.path.name
        by_purpose.setdefault(out.segment.purpose, []).append(out)
    assert set(by_purpose) == {"customer", "agent"}
    # A customer segment and an agent segment over the same span are now different files.
    pairs = [
        (c, a)
        for c in by_purpose["customer"]
        for a in by_purpose["agent"]
        if a.segment.media_start >= c.segment.media_start and a.segment.media_end <= c.segment.media_end
    ]
    assert pairs
    for c, a in pairs:
        yc = sf.read(str(c.path), dtype="float32")[0]
        ya = sf.read(str(a.path), dtype="float32")[0]
        off = int(round((a.segment.media_start - c.segment.media_start) * SR))
        n = len(ya)
        assert c.path.read_bytes() != a.path.read_bytes()
        assert not np.allclose(yc[off + fade : off + n - fade], ya[fade:-fade], atol=1e-3)


def test_trim_looks_at_the_exported_side_only(call, tmp_path):
    """The customer's segment file is trimmed to the customer's first words, not the agent's."""
    options = AudioOptions(
        format="WAV", purposes=("customer",), segment_types=("interact",), trim_silence=True
    )
    outputs = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    truth = [(a, b) for side, a, b in speech_truth(call.call, call.rec) if side == "external"]
    checked = 0
    for out in outputs:
        seg = out.segment
        inside = [(a, b) for a, b in truth if a >= seg.media_start and b <= seg.media_end]
        if not inside:
            continue
        first = inside[0][0] - seg.media_start
        if first < 0.5:
            continue
        # 50 ms margin kept before the first sound; within 100 ms of the customer's first speech.
        assert abs(out.stats["trimmed_head_s"] - (first - 0.05)) <= 0.1, (out.path.name, first)
        checked += 1
    assert checked >= 1


def test_a_filter_covering_both_sides_stays_stereo_and_internal_purposes_stay_mono(call, tmp_path):
    both = AudioOptions(
        format="WAV", purposes=("agent", "customer"), segment_types=("interact",), concatenate=True
    )
    (out,) = export_recording(call.wav, call.recording, call.details, both, tmp_path / "both")
    y = sf.read(str(out.path), dtype="int16", always_2d=True)[0]
    assert y.shape[1] == 2 == out.channels and out.sides == ("external", "internal")
    internal = AudioOptions(format="WAV", purposes=("agent", "ivr", "acd"), concatenate=True)
    (out,) = export_recording(call.wav, call.recording, call.details, internal, tmp_path / "int")
    assert sf.info(str(out.path)).channels == 1 == out.channels and out.sides == ("internal",)
    # Segment-type filter only (no purpose filter): both sides, as recorded.
    types_only = AudioOptions(format="WAV", segment_types=("interact",), concatenate=True)
    (out,) = export_recording(call.wav, call.recording, call.details, types_only, tmp_path / "types")
    assert sf.info(str(out.path)).channels == 2 == out.channels
    # Chapters: never filtered, the whole stereo recording.
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="MP3", chapters=True), tmp_path / "ch"
    )
    assert decode_av(out.path)[0].shape[1] == 2 == out.channels


@pytest.fixture(scope="module")
def mono_outputs(call, tmp_path_factory) -> dict[str, AudioOutput]:
    out = {}
    for fmt in FORMATS:
        options = AudioOptions(
            format=fmt,
            purposes=("agent",),
            segment_types=("interact",),
            concatenate=True,
            normalize_loudness=True,
            reduce_noise=True,
        )
        (out[fmt],) = export_recording(
            call.wav, call.recording, call.details, options, tmp_path_factory.mktemp(f"mono-{fmt}")
        )
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_encodes_the_selected_track_as_mono_on_loudness_target(mono_outputs, call, fmt):
    out = mono_outputs[fmt]
    want = sum(p.media_end - p.media_start for p in out.timeline.timemap.pieces)
    samples, rate = decode_av(out.path)
    assert samples.shape[1] == 1 == out.channels and rate == NATIVE_RATE.get(fmt, SR)
    assert abs(len(samples) / rate - out.duration_s) <= 0.020
    assert abs(out.duration_s - want) <= 0.020 + (0.128 if fmt == "M4B" else 0.0)  # AAC: whole frames
    if fmt not in ("WEBM", "M4B"):  # soundfile (libsndfile) as a second decoder
        info = sf.info(str(out.path))
        assert info.channels == 1 and abs(info.frames / info.samplerate - out.duration_s) <= 0.020
    assert abs(lufs(samples, rate) - (-23.0)) <= 1.0
    assert true_peak_dbtp(samples, rate) <= -1.0


def test_mono_recordings_yield_nothing_for_the_other_side(tmp_path, caplog):
    """With the default layout (a mono recording's side from its mediaSubtype), as before."""
    caplog.set_level(logging.INFO, logger="audio.export")
    station = sim_call(tmp_path, "mono_pair", seed=3, duration_s=45.0, index=1)
    assert station.recording["mediaSubtype"] == "Station" and station.samples.shape[1] == 1
    customer = AudioOptions(
        format="WAV", purposes=("customer",), segment_types=("interact",), channel_layout="default"
    )
    for concatenate in (False, True):
        opts = AudioOptions(**{**customer.__dict__, "concatenate": concatenate})
        got = export_recording(station.wav, station.recording, station.details, opts, tmp_path / "o")
        assert got == []
    assert "holds only the agent/IVR (internal) side" in caplog.text
    assert station.call.conversation_id in caplog.text
    assert not [p for p in (tmp_path / "o").iterdir() if not p.name.startswith(".")]
    # The agent's side of the same mono recording is exported as it is.
    agent = AudioOptions(
        format="WAV",
        purposes=("agent",),
        segment_types=("interact",),
        concatenate=True,
        channel_layout="default",
    )
    (out,) = export_recording(station.wav, station.recording, station.details, agent, tmp_path / "a")
    assert sf.info(str(out.path)).channels == 1 == out.channels and out.sides == ("internal",)
    # A mono recording whose side the metadata does not say is never dropped.
    unknown = {k: v for k, v in station.recording.items() if k != "mediaSubtype"}
    opts = AudioOptions(
        format="WAV",
        purposes=("customer",),
        segment_types=("interact",),
        concatenate=True,
        channel_layout="default",
    )
    (out,) = export_recording(station.wav, unknown, station.details, opts, tmp_path / "u")
    assert out.channels == 1 and out.sides == ("",)


def test_a_mono_recording_is_split_only_on_evidence(tmp_path, caplog):
    """Detected layout: a mono recording may hold the whole call (seed 003), so its mediaSubtype alone
    does not make an agent-only file; the transcript's speaker times show this one holds only the agent."""
    station = sim_call(tmp_path, "mono_pair", seed=3, duration_s=45.0, index=1)
    agent = AudioOptions(format="WAV", purposes=("agent",), segment_types=("interact",), concatenate=True)
    with pytest.raises(ChannelLayoutError) as refused:
        export_recording(station.wav, station.recording, station.details, agent, tmp_path / "a")
    assert station.call.conversation_id in str(refused.value) and station.rec.recording_id in str(
        refused.value
    )
    assert pickle.loads(pickle.dumps(refused.value)).args == refused.value.args  # crosses the process pool
    speakers = [(u.side, u.start_ms, u.end_ms) for u in station.call.utterances if u.scope == "main"]
    (out,) = export_recording(
        station.wav, station.recording, station.details, agent, tmp_path / "b", speakers=speakers
    )
    assert out.sides == ("internal",)
    customer = AudioOptions(
        format="WAV", purposes=("customer",), segment_types=("interact",), concatenate=True
    )
    caplog.set_level(logging.INFO, logger="audio.export")
    assert (
        export_recording(
            station.wav, station.recording, station.details, customer, tmp_path / "c", speakers=speakers
        )
        == []
    )
    assert "holds only the agent/IVR (internal) side" in caplog.text
    # The trunk recording of the pair is silent while the IVR and the queue play: only the customer.
    trunk = sim_call(tmp_path, "mono_pair", seed=3, duration_s=45.0, index=0)
    opts = AudioOptions(format="WAV", purposes=("customer",), segment_types=("interact",), concatenate=True)
    (out,) = export_recording(trunk.wav, trunk.recording, trunk.details, opts, tmp_path / "t")
    assert out.sides == ("external",)
