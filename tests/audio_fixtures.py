"""Shared material for the audio engine tests: simulator calls rendered to files, and independent meters.

The meters here do not use the engine's own code: decoding goes through PyAV (FFmpeg) or soundfile,
loudness through pyloudnorm on the decoded samples, true peak through 4x polyphase oversampling of the
decoded samples (and through ffmpeg's ebur128 when the ffmpeg executable is installed).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import soundfile as sf
from scipy import signal

from audio.channels import channel_of_side
from simulator import documents
from simulator.audio_synth import render_recording, speech_truth
from simulator.model import Call, Recording
from simulator.org import default_org
from simulator.scenarios import generate_call

SR = 8000
END_MS = 1_790_000_000_000


@dataclass
class SimCall:
    call: Call
    rec: Recording
    details: dict
    recording: dict
    samples: np.ndarray
    wav: Path

    def speech_mask(self, channel: int) -> np.ndarray:
        mask = np.zeros(len(self.samples), dtype=bool)
        for side, a, b in speech_truth(self.call, self.rec):
            if channel_of_side(side) == channel:
                mask[int(a * SR) : int(b * SR)] = True
        return mask

    def quiet_mask(self, guard_s: float = 0.1) -> np.ndarray:
        """Frames with no speech and no prompt/music on any channel (noise floor only)."""
        busy = np.zeros(len(self.samples), dtype=bool)
        g = int(guard_s * SR)
        spans = [(a, b) for _, a, b in speech_truth(self.call, self.rec)]
        for s in self.call.sounds:
            spans += [(a / 1000, b / 1000) for a, b in self.rec.wall_span_to_media(s.start_ms, s.end_ms)]
        for a, b in spans:
            busy[max(0, int(a * SR) - g) : int(b * SR) + g] = True
        return ~busy

    def sounds_media(self) -> list[tuple[str, float, float]]:
        out = []
        for s in self.call.sounds:
            out += [
                (s.kind, a / 1000, b / 1000) for a, b in self.rec.wall_span_to_media(s.start_ms, s.end_ms)
            ]
        return out


@lru_cache(maxsize=8)
def _generate(kind: str, seed: int, duration_s: float):
    org = default_org()
    call = generate_call(org, random.Random(seed), end_ms=END_MS, kind=kind, duration_s=duration_s)
    return org, call


def sim_call(
    tmp: Path, kind: str = "inbound_hold", seed: int = 3, duration_s: float = 60.0, index: int = 0
) -> SimCall:
    """A simulated call's recording `index`, rendered at 8 kHz into tmp/<id>.wav, with its documents."""
    org, call = _generate(kind, seed, duration_s)
    rec = call.recordings[index]
    details = documents.analytics_details(call, org)
    recording = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
    samples = render_recording(call, rec, SR)
    wav = tmp / f"{rec.recording_id}.wav"
    sf.write(str(wav), samples, SR, subtype="PCM_16")
    return SimCall(call, rec, json.loads(json.dumps(details)), recording, samples, wav)


def decode_av(path: Path) -> tuple[np.ndarray, int]:
    """Decode with PyAV (FFmpeg) to float32 (frames, channels) at the stream's native rate."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        parts = []
        rate = stream.codec_context.sample_rate
        for frame in c.decode(stream):
            arr = frame.to_ndarray()
            if frame.format.is_planar:
                arr = arr.T
            else:
                arr = arr.reshape(-1, len(frame.layout.channels))
            parts.append(arr.astype(np.float32) / (32768.0 if arr.dtype == np.int16 else 1.0))
    return np.concatenate(parts), rate


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-20))


def lufs(samples: np.ndarray, rate: int) -> float:
    """pyloudnorm integrated loudness, measured at 48 kHz (the meters agree best there)."""
    if rate != 48000:
        g = np.gcd(rate, 48000)
        samples = signal.resample_poly(samples, 48000 // g, rate // g, axis=0)
    return float(pyloudnorm.Meter(48000).integrated_loudness(samples))


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    """BS.1770-4 true peak: oversampled to >= 192 kHz (8 kHz -> x24) with a polyphase FIR."""
    factor = max(4, int(np.ceil(192000 / rate)))
    up = signal.resample_poly(samples, factor, 1, axis=0)
    return float(20 * np.log10(max(np.abs(up).max(), np.abs(samples).max(), 1e-12)))


def ffmpeg_ebur128(path: Path) -> tuple[float, float] | None:
    """(integrated LUFS, true peak dBTP) by ffmpeg's ebur128 filter at 48 kHz; None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if not exe:
        return None
    res = subprocess.run(
        [
            exe,
            "-nostats",
            "-hide_banner",
            "-i",
            str(path),
            "-af",
            "aresample=48000,ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = res.stderr[res.stderr.rfind("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return i, peak


def wav_chunks(path: Path) -> dict[bytes, bytes | int]:
    import struct

    out: dict[bytes, bytes | int] = {}
    with open(path, "rb") as f:
        riff, _, wave = struct.unpack("<4sI4s", f.read(12))
        assert (riff, wave) == (b"RIFF", b"WAVE")
        while len(h := f.read(8)) == 8:
            cid, size = struct.unpack("<4sI", h)
            body = f.read(min(size, 64)) if cid != b"data" else b""
            out[cid] = body if cid != b"data" else size
            f.seek(size + (size & 1) - len(body), 1)
    return out


def speechlike(seconds: float, rng: np.random.Generator, *, level_db: float = -20.0) -> np.ndarray:
    """Harmonic bursts (a crude voice) of about `level_db` RMS; for tests that need no simulator."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = 110 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 20))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    x = x * env
    x *= 10 ** (level_db / 20) / np.sqrt(np.mean(x**2))
    return x.astype(np.float32)
