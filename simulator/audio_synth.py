"""Truth -> synthetic call audio (float32 samples), deterministic and renderable in blocks.

What is heard matches the call's segments:

* speech-like voices during `interact`: a glottal source (band-limited sawtooth following a pitch
  contour with declination and jitter) shaped by three formant resonators per syllable, a syllable-
  rate amplitude envelope and short fricative noise bursts; each speaker has its own pitch and
  vocal-tract scale, so customer and agents sound different;
* IVR prompts during `ivr` (a beep, then a monotone "robot" voice), queue music while waiting in
  queue and hold music during `hold` (arpeggiated chords), all on the internal side;
* silence around, plus a pink noise floor (about -55 dBFS) and 50 Hz mains hum with harmonics
  (about -60 dBFS) throughout, on every channel;
* the recording's gaps (secure pause, suppressed IVR/queue) are cut out of the media.

Dual recordings have the customer (external side) on `audio.channels.EXTERNAL_CHANNEL` and the
internal side on `INTERNAL_CHANNEL`, unless the recording's `channel_layout` is `swapped` (the other
way round) or `mixed` (both sides on every channel); mono recordings carry one side (both when
`mixed`). Consult recordings put the consulting agent on the internal channel and the consulted agent
on the external one.

Every sample is a function of (call, recording, wall-clock instant): rendering in blocks of any
size gives exactly the same samples as rendering at once (`render_block`, `iter_blocks`).
"""

from __future__ import annotations

import logging
import math
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import lfilter

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL, channel_of_side
from simulator.model import Call, Recording, Sound, Utterance

logger = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 8000
NOISE_DBFS = -55.0
HUM_DBFS = -60.0
SPEECH_PEAK = 0.45

# (F1, F2, F3) in Hz for a few vowels of an adult male vocal tract; scaled per speaker.
_VOWELS = np.array(
    [
        (730, 1090, 2440),  # a
        (530, 1840, 2480),  # e
        (270, 2290, 3010),  # i
        (570, 840, 2410),  # o
        (300, 870, 2240),  # u
        (660, 1720, 2410),  # ae
        (520, 1190, 2390),  # uh
    ],
    dtype=np.float64,
)
_BANDWIDTHS = (90.0, 110.0, 170.0)

# Per voice: (base pitch Hz, vocal-tract scale). Voices 0.. are assigned in order of joining.
_VOICE_TABLE = ((118.0, 1.0), (205.0, 1.17), (142.0, 1.04), (188.0, 1.12), (98.0, 0.95), (228.0, 1.2))
_IVR_VOICE = (165.0, 1.1)

_MUSIC_NOTES = (261.63, 329.63, 392.0, 523.25, 440.0, 349.23, 293.66, 392.0)  # C E G C' A F D G


@dataclass(frozen=True)
class _Item:
    """Something audible on one side: starts/ends in absolute wall-clock sample indices."""

    start: int
    end: int
    kind: str  # "speech", "ivr_prompt", "music"
    key: int  # index into the call's utterances or sounds
    gain: float


def _db(dbfs: float) -> float:
    return 10 ** (dbfs / 20.0)


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def media_frames(rec: Recording, sample_rate: int = DEFAULT_SAMPLE_RATE) -> int:
    """Number of frames of the recording's media (its wall span minus the gaps)."""
    return sum(_piece_frames(rec, sample_rate))


def _piece_frames(rec: Recording, sr: int) -> list[int]:
    return [_ms_to_frames(w1, sr) - _ms_to_frames(w0, sr) for w0, w1, _m0 in rec.media_pieces()]


def _ms_to_frames(ms: int | float, sr: int) -> int:
    return int(round(ms * sr / 1000))


MIXED_FAR_SIDE_GAIN = 0.5
"""In a `mixed` dual recording each channel also carries the other side, 6 dB down (its perspective)."""


def _side_channels(rec: Recording, side: str) -> tuple[tuple[int, float], ...]:
    """(channel index, gain) of every channel that carries a side in this recording (empty: none).

    `rec.channel_layout` (see `simulator.recording_variants`): `standard` puts a dual recording's
    sides on `audio.channels.channel_of_side`, `swapped` the other way round; a mono recording
    carries the one side its `layout` names. `mixed` puts the whole call on every channel.
    """
    if rec.layout == "dual":
        own = channel_of_side(side)
        if rec.channel_layout == "swapped":
            own = 1 - own
        if rec.channel_layout == "mixed":
            return ((own, 1.0), (1 - own, MIXED_FAR_SIDE_GAIN))
        return ((own, 1.0),)
    if rec.channel_layout == "mixed" or side == rec.layout:
        return ((0, 1.0),)
    return ()


class RecordingRenderer:
    """Renders one recording of one call, block by block, with a small cache of rendered speech."""

    def __init__(self, call: Call, rec: Recording, sample_rate: int = DEFAULT_SAMPLE_RATE) -> None:
        self.call, self.rec, self.sr = call, rec, sample_rate
        self.channels = rec.channels
        self.total_frames = media_frames(rec, sample_rate)
        self._pieces = []  # (media_frame_start, media_frame_end, wall_sample_start)
        media = 0
        for (w0, _w1, _m0), n in zip(rec.media_pieces(), _piece_frames(rec, sample_rate), strict=True):
            self._pieces.append((media, media + n, _ms_to_frames(w0, sample_rate)))
            media += n
        self._items: list[list[_Item]] = [[] for _ in range(self.channels)]
        for i, u in enumerate(call.utterances):
            if u.scope != rec.scope:
                continue
            for ch, gain in _side_channels(rec, u.side):
                self._items[ch].append(
                    _Item(
                        _ms_to_frames(u.start_ms, sample_rate),
                        _ms_to_frames(u.end_ms, sample_rate) + sample_rate // 20,
                        "speech",
                        i,
                        gain,
                    )
                )
        for i, s in enumerate(call.sounds):
            if s.scope != rec.scope:
                continue
            kind = "ivr_prompt" if s.kind == "ivr_prompt" else "music"
            for ch, gain in _side_channels(rec, s.side):
                self._items[ch].append(
                    _Item(
                        _ms_to_frames(s.start_ms, sample_rate),
                        _ms_to_frames(s.end_ms, sample_rate),
                        kind,
                        i,
                        gain * (0.5 if s.kind == "queue_music" else 0.7),
                    )
                )
        self._starts = [np.array([it.start for it in items], dtype=np.int64) for items in self._items]
        self._ends = [np.array([it.end for it in items], dtype=np.int64) for items in self._items]
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        seed = _stable_seed(call.audio_seed, rec.recording_id)
        self._floor = [_noise_floor(seed + ch, sample_rate) for ch in range(self.channels)]

    # -- public -------------------------------------------------------------------------------
    def render_block(self, start_frame: int, n_frames: int) -> np.ndarray:
        """Frames [start_frame, start_frame + n_frames) of the media, clipped to its end."""
        start_frame = max(0, start_frame)
        n = max(0, min(n_frames, self.total_frames - start_frame))
        out = np.zeros((n, self.channels), dtype=np.float64)
        if n == 0:
            return out.astype(np.float32)
        for ch in range(self.channels):
            out[:, ch] = _tile(self._floor[ch], start_frame, n)
        block_end = start_frame + n
        for m0, m1, w0 in self._pieces:
            a, b = max(m0, start_frame), min(m1, block_end)
            if b <= a:
                continue
            wall_a = w0 + (a - m0)
            wall_b = wall_a + (b - a)
            for ch in range(self.channels):
                starts, ends = self._starts[ch], self._ends[ch]
                if not len(starts):
                    continue
                hits = np.nonzero((starts < wall_b) & (ends > wall_a))[0]
                for h in hits:
                    item = self._items[ch][h]
                    lo, hi = max(item.start, wall_a), min(item.end, wall_b)
                    seg = self._render_item(item, lo, hi)
                    out[a - start_frame + (lo - wall_a) : a - start_frame + (hi - wall_a), ch] += seg
        np.clip(out, -1.0, 1.0, out=out)
        return out.astype(np.float32)

    def iter_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        for start in range(0, self.total_frames, block_frames):
            yield self.render_block(start, block_frames)

    # -- items --------------------------------------------------------------------------------
    def _render_item(self, item: _Item, lo: int, hi: int) -> np.ndarray:
        if item.kind == "music":
            return _music(self.call.sounds[item.key], lo, hi, self.sr) * item.gain
        key = (item.kind, item.key)
        full = self._cache.get(key)
        if full is None:
            if item.kind == "speech":
                full = _speech(
                    self.call.utterances[item.key], item.end - item.start, self.sr, self.call.audio_seed
                )
            else:
                full = _ivr_prompt(
                    self.call.sounds[item.key], item.end - item.start, self.sr, self.call.audio_seed
                )
            self._cache[key] = full
            if len(self._cache) > 32:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return full[lo - item.start : hi - item.start] * item.gain


def _noise_floor(seed: int, sr: int) -> np.ndarray:
    """A 7-second loop of pink noise plus 50 Hz mains hum with harmonics (exactly periodic)."""
    n = 7 * sr
    t = np.arange(n) / sr
    ph = (seed % 1000) / 1000 * 2 * math.pi
    hum = (
        np.sin(2 * np.pi * 50 * t + ph)
        + 0.5 * np.sin(2 * np.pi * 100 * t + 2 * ph)
        + 0.3 * np.sin(2 * np.pi * 150 * t + 3 * ph)
    )
    hum *= _db(HUM_DBFS) / np.sqrt(np.mean(hum**2))
    return _pink_noise(np.random.default_rng(seed), n) * _db(NOISE_DBFS) + hum


def _tile(loop: np.ndarray, start: int, n: int) -> np.ndarray:
    """loop[(start + i) % len(loop)] for i in range(n), by slicing."""
    size = len(loop)
    offset = start % size
    reps = (offset + n + size - 1) // size
    return np.tile(loop, reps)[offset : offset + n] if reps > 1 else loop[offset : offset + n]


def _pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f)
    x = np.fft.irfft(spectrum, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


@lru_cache(maxsize=256)
def _vocal_tract(vowel: int, scale: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Cascade of three formant resonators (Klatt style, unity gain at DC) as one IIR filter."""
    a = np.array([1.0])
    gain = 1.0
    for f, bw in zip(_VOWELS[vowel] * scale, _BANDWIDTHS, strict=True):
        if f >= sr / 2 - 200:
            continue
        c = -math.exp(-2 * math.pi * bw / sr)
        b_ = 2 * math.exp(-math.pi * bw / sr) * math.cos(2 * math.pi * f / sr)
        a = np.convolve(a, [1.0, -b_, -c])
        gain *= 1.0 - b_ - c
    return np.array([gain]), a


@lru_cache(maxsize=4096)
def _envelope(n: int, sr: int) -> np.ndarray:
    """Syllable envelope: quick attack, sustained nucleus, smooth decay."""
    env = np.ones(n)
    attack = max(1, min(n // 3, int(0.02 * sr)))
    env[:attack] = np.linspace(0.0, 1.0, attack)
    decay = max(1, int(min(0.35 * n, 0.08 * sr)))
    env[-decay:] *= np.linspace(1.0, 0.0, decay) ** 1.5
    return env


def _voice(voice: int, seed: int) -> tuple[float, float]:
    base, scale = _VOICE_TABLE[voice % len(_VOICE_TABLE)]
    wobble = 1.0 + ((seed >> (voice % 16)) % 7 - 3) * 0.01
    return base * wobble, scale


def _syllables(word: str) -> int:
    vowels = sum(1 for c in word.lower() if c in "aeiouy")
    return max(1, min(4, vowels if vowels else len(word) // 3 or 1))


def _voiced(
    length: int, syllables: list[tuple[int, int, float, int]], scale: float, sr: int, rng: np.random.Generator
) -> np.ndarray:
    """Render syllables (start, end, f0, vowel) into a buffer of `length` samples."""
    out = np.zeros(length)
    if not syllables:
        return out
    f0 = np.zeros(length)
    for s0, s1, pitch, _v in syllables:
        f0[s0:s1] = pitch
    t = np.arange(length) / sr
    f0 *= 1.0 + 0.03 * np.sin(2 * np.pi * rng.uniform(3.5, 6.0) * t)  # slow vibrato/jitter
    phase = np.cumsum(f0 / sr)
    source = 2.0 * (phase - np.floor(phase)) - 1.0  # sawtooth: every harmonic, 1/k tilt
    source += 0.04 * rng.standard_normal(length)  # breathiness
    fric = np.diff(rng.standard_normal(length + 1))  # high-passed noise for consonants
    ring = int(0.03 * sr)
    for s0, s1, _pitch, vowel in syllables:
        n = s1 - s0
        b, a = _vocal_tract(vowel, scale, sr)
        e = min(length, s1 + ring)
        seg = np.zeros(e - s0)
        seg[:n] = source[s0:s1] * _envelope(n, sr)
        out[s0:e] += lfilter(b, a, seg)
        if rng.random() < 0.45:
            burst = min(n, int(rng.uniform(0.02, 0.06) * sr))
            out[s0 : s0 + burst] += fric[s0 : s0 + burst] * np.linspace(0.5, 0.0, burst)
    return out


def _speech(u: Utterance, length: int, sr: int, seed: int) -> np.ndarray:
    """One utterance: syllables timed by its words, in the speaker's voice."""
    base_f0, scale = _voice(u.voice, seed)
    rng = np.random.default_rng(_stable_seed(seed, u.start_ms, u.participant_id))
    origin = _ms_to_frames(u.start_ms, sr)
    total = max(1, _ms_to_frames(u.end_ms, sr) - origin)
    syllables = []
    for w in u.words:
        w0 = max(0, _ms_to_frames(w.start_ms, sr) - origin)
        w1 = min(length, _ms_to_frames(w.end_ms, sr) - origin)
        n_syl = _syllables(w.text)
        step = (w1 - w0) / n_syl
        for k in range(n_syl):
            s0, s1 = int(w0 + k * step), int(w0 + (k + 1) * step)
            if s1 - s0 >= 8:
                pitch = base_f0 * (1.12 - 0.22 * s0 / total) * (1.0 + rng.uniform(-0.06, 0.1))
                syllables.append((s0, s1, pitch, int(rng.integers(len(_VOWELS)))))
    out = _voiced(length, syllables, scale, sr, rng)
    peak = np.max(np.abs(out)) or 1.0
    return out * (SPEECH_PEAK / peak)


def _ivr_prompt(sound: Sound, length: int, sr: int, seed: int) -> np.ndarray:
    """A 1 kHz beep, then a monotone synthetic voice reading the prompt."""
    rng = np.random.default_rng(_stable_seed(seed, "ivr", sound.start_ms))
    out = np.zeros(length)
    beep = min(length, int(0.18 * sr))
    t = np.arange(beep) / sr
    tone_f = min(1000.0, sr / 2 - 200)
    out[:beep] = 0.3 * np.sin(2 * np.pi * tone_f * t) * np.hanning(beep)
    pos = beep + int(0.25 * sr)
    base_f0, scale = _IVR_VOICE
    syllables = []
    while pos < length - int(0.15 * sr):
        n = min(int(rng.uniform(0.14, 0.26) * sr), length - pos)
        if n < 8:
            break
        syllables.append((pos, pos + n, base_f0, int(rng.integers(len(_VOWELS)))))
        pos += n + (int(rng.uniform(0.2, 0.45) * sr) if rng.random() < 0.2 else int(0.02 * sr))
    out += _voiced(length, syllables, scale, sr, rng)
    peak = np.max(np.abs(out[beep:])) if length > beep else 0.0
    if peak > 0:
        out[beep:] *= 0.4 / peak
    return out


def _music(sound: Sound, lo: int, hi: int, sr: int) -> np.ndarray:
    """Arpeggiated chord pattern, a function of the absolute sample index (any sub-range)."""
    start = _ms_to_frames(sound.start_ms, sr)
    idx = np.arange(lo, hi) - start
    note_len = int(0.4 * sr)
    note = idx // note_len
    pos = (idx - note * note_len) / sr
    freqs = np.array(_MUSIC_NOTES)[note % len(_MUSIC_NOTES)]
    bass = np.array(_MUSIC_NOTES)[((note // 8) * 3) % len(_MUSIC_NOTES)] / 2
    env = np.exp(-pos * 5.0)
    tone = (
        np.sin(2 * np.pi * freqs * pos)
        + 0.35 * np.sin(4 * np.pi * freqs * pos)
        + 0.15 * np.sin(6 * np.pi * freqs * pos)
    )
    t_abs = idx / sr
    pad = 0.35 * np.sin(2 * np.pi * bass * t_abs)
    return 0.22 * (tone * env + pad)


# ---------------------------------------------------------------------------------------------
# module-level API
# ---------------------------------------------------------------------------------------------


def render_recording(call: Call, rec: Recording, sample_rate: int = DEFAULT_SAMPLE_RATE) -> np.ndarray:
    """The whole recording: float32 array of shape (frames, channels)."""
    r = RecordingRenderer(call, rec, sample_rate)
    return r.render_block(0, r.total_frames)


def render_block(
    call: Call, rec: Recording, start_frame: int, n_frames: int, sample_rate: int = DEFAULT_SAMPLE_RATE
) -> np.ndarray:
    """Frames [start_frame, start_frame + n_frames) of the recording (a fresh renderer; for
    many blocks keep a `RecordingRenderer`)."""
    return RecordingRenderer(call, rec, sample_rate).render_block(start_frame, n_frames)


def speech_truth(call: Call, rec: Recording) -> list[tuple[str, float, float]]:
    """(side, media_start_s, media_end_s) of every utterance heard in the recording's media."""
    out: list[tuple[str, float, float]] = []
    for u in call.utterances:
        if u.scope != rec.scope or u.side not in rec.sides:
            continue
        for a, b in rec.wall_span_to_media(u.start_ms, u.end_ms):
            out.append((u.side, a / 1000.0, b / 1000.0))
    return sorted(out, key=lambda x: x[1])


__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "EXTERNAL_CHANNEL",
    "INTERNAL_CHANNEL",
    "RecordingRenderer",
    "media_frames",
    "render_block",
    "render_recording",
    "speech_truth",
]
