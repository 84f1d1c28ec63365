"""Every tuning constant of the audio engine, in one place, each with the reason for its value.

Processing parameters are set in code and apply uniformly to all profiles (a profile only switches
steps on or off). Values were chosen on 8 kHz telephone audio (see docs/audio.md for the measurements behind
them).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# --- block-wise processing ------------------------------------------------------------------------

BLOCK_FRAMES = 65536
"""Frames read, processed and encoded per block (8 s at 8 kHz, 1.4 s at 48 kHz). Memory is bounded by a
few blocks whatever the call length; larger blocks do not make numpy noticeably faster."""

SPLICE_FADE_S = 0.005
"""Raised-cosine fade applied at each cut inside an export (segment edges, concatenation joins) so that
a cut in the middle of a waveform does not click. 5 ms is inaudible as a fade and removes the click."""

# --- silence trimming -----------------------------------------------------------------------------

TRIM_HEAD = True
"""Trim silence before the first sound of the recording."""

TRIM_TAIL = True
"""Trim silence after the last sound of the recording."""

TRIM_FRAME_S = 0.010
"""Analysis frame for the activity detector. 10 ms frames give the 100 ms accuracy the trim promises
with room for the padding below."""

TRIM_DETECT_BAND_HZ = (200.0, 3400.0)
"""The detector listens only to the telephone speech band, so mains hum (50/60 Hz and harmonics) and
DC offsets are not mistaken for sound."""

TRIM_MIN_THRESHOLD_DBFS = -55.0
"""Frames quieter than this are silence whatever the noise floor (a digitally quiet line)."""

TRIM_MAX_THRESHOLD_DBFS = -35.0
"""The threshold never goes above this, so quiet speech on a noisy line is not cut."""

TRIM_MARGIN_OVER_FLOOR_DB = 12.0
"""Activity = band energy this far above the recording's noise floor (its 10th-percentile frame level).
Speech syllables sit 20-40 dB above the floor; 12 dB keeps breathy onsets and rejects noise bursts."""

TRIM_FLOOR_PERCENTILE = 10.0
"""Percentile of frame levels taken as the noise floor of the recording."""

TRIM_MIN_ACTIVE_S = 0.030
"""A sound must last this long to count (rejects single clicks and line pops)."""

TRIM_PAD_S = 0.050
"""Silence kept before the first and after the last sound, so the first syllable's attack is intact.
Well inside the 100 ms the trim promises."""

# --- noise reduction: band filter -----------------------------------------------------------------

HIGHPASS_HZ = 100.0
"""High-pass corner: removes rumble, DC and the mains-hum fundamental; telephone speech has nothing
useful below 200 Hz."""

LOWPASS_HZ = 7000.0
"""Low-pass corner for wideband sources; never above LOWPASS_MAX_OF_NYQUIST of the Nyquist frequency."""

LOWPASS_MAX_OF_NYQUIST = 0.95
"""At 8 kHz the low-pass lands at 3.8 kHz (0.95 x 4 kHz): removes aliasing hiss at the band edge."""

BAND_FILTER_ORDER = 4
"""Butterworth order of each band edge (24 dB/octave): steep enough to take 60 Hz hum down by ~20 dB
at a 100 Hz corner while leaving 200 Hz speech untouched (< 0.3 dB)."""

# --- noise reduction: spectral gate ---------------------------------------------------------------

DENOISE_WINDOW_S = 0.032
"""STFT window (256 samples at 8 kHz, 31 Hz bins). Library defaults (1024 samples) are tuned for
44.1 kHz and smear speech onsets at 8 kHz."""

DENOISE_HOP_FRACTION = 0.5
"""Hop as a fraction of the window: sqrt-Hann analysis and synthesis windows at 50 % overlap
reconstruct perfectly where the gate is open, so speech passes bit-for-bit-close."""

DENOISE_NOISE_PERCENTILE = 20.0
"""Frames at or below this percentile of a channel's level are taken as its noise (each party is
silent for well over 20 % of a call)."""

DENOISE_NOISE_MARGIN_DB = 3.0
"""... plus frames up to this far above that percentile (10 ms noise frames fluctuate by a few dB, so the
bare percentile would select scattered frames, not stretches)."""

DENOISE_NOISE_MIN_RUN_S = 0.060
"""Only stretches at least this long are used for the noise profile (no speech gaps between syllables)."""

DENOISE_NOISE_PROFILE_MAX_S = 30.0
"""At most this much noise per channel is analysed: stationary statistics converge well before that."""

DENOISE_THRESHOLD_STD = 1.5
"""A bin is signal when it exceeds the noise mean by this many noise standard deviations (in dB)."""

DENOISE_THRESHOLD_MARGIN_DB = 3.0
"""Plus this margin, so the noise's own upward fluctuations do not open the gate (musical noise)."""

DENOISE_ATTENUATION_DB = 24.0
"""Gain applied to noise bins. Library defaults (full attenuation, non-stationary) take 4-7 dB off speech;
a bounded attenuation with a smoothed mask lowers the floor by well over 10 dB and leaves speech alone."""

DENOISE_SMOOTH_TIME_S = 0.064
"""The open/closed mask is dilated over +-this time, so speech onsets and decays (which sit close to
the noise) keep their full level: this is what keeps speech within 1 dB."""

DENOISE_SMOOTH_FREQ_HZ = 125.0
"""... and over +-this frequency, so harmonics' skirts are not gated."""

# --- loudness normalisation -----------------------------------------------------------------------

LOUDNESS_TARGET_LUFS = -23.0
"""EBU R128 programme loudness target."""

LOUDNESS_MAX_GAIN_DB = 40.0
"""Never amplify by more than this (a nearly silent recording would otherwise become loud noise)."""

LOUDNESS_MIN_MEASURABLE_LUFS = -70.0
"""EBU R128 absolute gate: below this everything is silence and the gain is left at 0 dB."""

TRUE_PEAK_OVERSAMPLE = 8
"""Oversampling of the limiter's true-peak detector. BS.1770-4 asks for at least 4x at 48 kHz; at 8 kHz
telephone audio reaches close to Nyquist, where 4x under-reads inter-sample peaks by up to ~0.3 dB."""

TRUE_PEAK_CEILING_DBTP = {
    "WAV": -1.5,
    "WAV_ULAW": -2.0,
    "WEBM": -3.0,
    "OGG_OPUS": -3.0,
    "OGG_VORBIS": -3.0,
    "MP3": -3.0,
    "M4B": -4.5,
}
"""Limiter ceiling per output format. EBU R128 asks for <= -1 dBTP after decoding. Lossy codecs raise
peaks (measured from a -1.4 dBTP source: AAC +2.5..3.2 dB, MP3 +1.1..1.4 dB, Vorbis/Opus +0.6..1.3 dB),
so lossy formats are limited lower, leaving that headroom; PCM keeps 0.5 dB for meter differences and
u-law 1 dB for its quantisation."""

LIMITER_LOOKAHEAD_S = 0.005
"""The limiter sees peaks this far ahead and ramps the gain down over that time (no clicks)."""

LIMITER_HOLD_S = 0.040
"""After a peak the gain is held this long before it ramps back up (no gain pumping on each cycle)."""

LIMITER_RELEASE_S = 0.080
"""Length of the gain's recovery ramp after the hold."""

LIMITER_CORRECTION_LU = 0.3
"""If the limiter took more than this off the programme loudness, the gain is corrected once (a third
pass over the compact intermediate) so the output still lands on the target."""

# --- encoders -------------------------------------------------------------------------------------

MP3_BITRATE_KBPS = {8000: 32, 11025: 32, 12000: 32, 16000: 48, 22050: 64, 24000: 64}
"""CBR MP3 bitrate by sample rate (stereo); rates not listed use MP3_BITRATE_DEFAULT_KBPS. 32 kb/s at
8 kHz matches what Genesys Cloud serves as MP3."""

MP3_BITRATE_DEFAULT_KBPS = 128
"""MP3 bitrate for 32 kHz and above."""

MP3_QUALITY = 3
"""LAME algorithm quality (0 best/slowest .. 9 worst/fastest); 3 is LAME's and ffmpeg's default."""

OPUS_BITRATE_BPS = 24000
"""Opus bitrate (WEBM and OGG Opus): 24 kb/s is transparent for telephone speech in stereo."""

VORBIS_QUALITY = 0.3
"""Vorbis VBR quality (0..1; ffmpeg's libvorbis default q3 = 0.3)."""

AAC_MIN_BPS_PER_CHANNEL = 8000
"""M4B keeps the source bitrate, but not below this per channel (AAC below it is unusable)."""

AAC_MAX_BITS_PER_SAMPLE_PER_CHANNEL = 3.0
"""M4B keeps the source bitrate up to what AAC delivers at the sample rate. The format allows 6 bits per
sample per channel (6144 bits per 1024-sample frame), but FFmpeg's AAC encoder does not spend more than
about 3.5 (measured at 8 kHz stereo: asking 64 or 96 kb/s gives 55 kb/s); 3.0 (48 kb/s for 8 kHz
stereo) is a rate it reliably delivers, so the file's bitrate is the one asked for."""
