"""Audio engine benchmark: our chain and encoders against the ffmpeg command line, in one run.

    .venv/bin/python bench/audio_bench.py [--repeats 5] [--minutes 10] [--memory-minutes 120]

On the same simulated 10-minute 8 kHz stereo call (the simulator's "long" kind: IVR, queue music,
hold, two voices, noise floor and mains hum) it measures, interleaving ffmpeg and us in every repeat so
both see the same machine load:

1. the full chain to WAV (trim -> band filter + denoise -> EBU R128 -> WAV) against one ffmpeg command
   (`silenceremove`/`areverse` trim, `highpass`, `lowpass`, `afftdn`, `loudnorm`), target >= 8x faster;
2. each encoder on the same processed WAV (read the file, encode, write; ffmpeg: one command with the
   same codec and settings), target median ratio <= 1.0;
3. noise-reduction quality on the simulator's truth (floor drop in speech-free stretches, speech level
   change) for our gate, ffmpeg's afftdn, and noisereduce with its defaults;
4. peak RSS of a child process exporting a 2-hour call through the full chain to MP3, target < 400 MB.

Requires the ffmpeg executable (Debian package `ffmpeg`) for the reference side.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from audio.decode import open_source, read_blocks  # noqa: E402
from audio.encoders import open_encoder  # noqa: E402
from audio.export import export_recording  # noqa: E402
from audio.options import AudioOptions  # noqa: E402

SR = 8000
END_MS = 1_790_000_000_000
FFMPEG = shutil.which("ffmpeg")

# Same codec and settings on both sides (ours: audio.parameters).
FFMPEG_ENCODERS = {
    "WAV": ["-c:a", "pcm_s16le"],
    "WAV_ULAW": ["-c:a", "pcm_mulaw"],
    "WEBM": ["-c:a", "libopus", "-b:a", "24k"],
    "OGG_VORBIS": ["-c:a", "libvorbis", "-q:a", "3"],
    "OGG_OPUS": ["-c:a", "libopus", "-b:a", "24k"],
    "MP3": ["-c:a", "libmp3lame", "-b:a", "32k"],  # LAME quality 3 (ffmpeg's default) = ours
    "M4B": ["-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart"],  # our M4B bitrate for a WAV source
}
EXT = {
    "WAV": "wav",
    "WAV_ULAW": "wav",
    "WEBM": "webm",
    "OGG_VORBIS": "ogg",
    "OGG_OPUS": "opus",
    "MP3": "mp3",
    "M4B": "m4b",
}
FFMPEG_CHAIN = (
    "silenceremove=start_periods=1:start_threshold=-45dB:start_silence=0.05,areverse,"
    "silenceremove=start_periods=1:start_threshold=-45dB:start_silence=0.05,areverse,"
    "highpass=f=100,lowpass=f=3800,afftdn=nr=12:nf=-50,loudnorm=I=-23:TP=-1:LRA=11"
)


def simulated_call(minutes: float, dest: Path):
    """Render the simulator's long call block by block into a 16-bit WAV; returns (call, rec)."""
    from simulator.audio_synth import RecordingRenderer
    from simulator.org import default_org
    from simulator.scenarios import generate_call

    call = generate_call(
        default_org(), random.Random(42), end_ms=END_MS, kind="long", duration_s=minutes * 60
    )
    rec = call.recordings[0]
    renderer = RecordingRenderer(call, rec, SR)
    with sf.SoundFile(str(dest), "w", samplerate=SR, channels=rec.channels, subtype="PCM_16") as f:
        for start in range(0, renderer.total_frames, 60 * SR):
            f.write(renderer.render_block(start, min(60 * SR, renderer.total_frames - start)))
    return call, rec


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


def our_chain(src: Path, out_dir: Path) -> None:
    options = AudioOptions(format="WAV", trim_silence=True, reduce_noise=True, normalize_loudness=True)
    export_recording(src, {"id": "chain"}, None, options, out_dir)


def our_encode(fmt: str, src: Path, dest: Path, chapters) -> None:
    source = open_source(src, dest.parent)
    enc = open_encoder(fmt, dest, SR, source.channels, source_bitrate=48000, chapters=chapters)
    for block in read_blocks(source):
        enc.write(block)
    enc.close(chapters)


def ffmetadata(chapters, path: Path) -> Path:
    lines = [";FFMETADATA1"]
    for title, a, b in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={int(a * 1000)}",
            f"END={int(b * 1000)}",
            f"title={title}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_speed(src: Path, work: Path, repeats: int, chapters) -> None:
    meta = ffmetadata(chapters, work / "chapters.txt")
    print(
        f"\n== speed: {repeats} interleaved repeats on {sf.info(str(src)).duration / 60:.1f} min, 8 kHz stereo =="
    )
    chain_ff, chain_us = [], []
    for _ in range(repeats):
        chain_ff.append(
            timed(
                lambda: ffmpeg(
                    "-i",
                    str(src),
                    "-af",
                    FFMPEG_CHAIN,
                    "-ar",
                    str(SR),
                    "-c:a",
                    "pcm_s16le",
                    str(work / "ff_chain.wav"),
                )
            )
        )
        chain_us.append(timed(lambda: our_chain(src, work / "us")))
    ff, us = statistics.median(chain_ff), statistics.median(chain_us)
    print(
        f"full chain -> WAV   ffmpeg {ff:7.2f} s   ours {us:6.2f} s   speed-up {ff / us:5.1f}x   (target >= 8x)"
    )
    processed = next((work / "us").glob("chain*.wav"))
    print(
        f"\n{'encoder':<11} {'ffmpeg s':>9} {'ours s':>8} {'ratio':>6}  (median of per-repeat ours/ffmpeg; target <= 1.0)"
    )
    for fmt, args in FFMPEG_ENCODERS.items():
        ratios, t_ff, t_us = [], [], []
        with_chapters = fmt in ("MP3", "M4B")
        for i in range(repeats):
            out_ff = work / f"ff_{fmt}.{EXT[fmt]}"
            extra = ["-i", str(meta), "-map", "0:a", "-map_chapters", "1"] if with_chapters else []
            a = timed(ffmpeg, "-i", str(processed), *extra, *args, str(out_ff))
            b = timed(
                our_encode,
                fmt,
                processed,
                work / f"us_{fmt}_{i}.{EXT[fmt]}",
                chapters if with_chapters else None,
            )
            t_ff.append(a)
            t_us.append(b)
            ratios.append(b / a)
        label = fmt + (" +ch" if with_chapters else "")
        print(
            f"{label:<11} {statistics.median(t_ff):9.3f} {statistics.median(t_us):8.3f} {statistics.median(ratios):6.2f}"
        )


def bench_quality(call, rec, src: Path, work: Path) -> None:
    import noisereduce

    from audio.channels import channel_of_side
    from simulator.audio_synth import speech_truth

    x, _ = sf.read(str(src), dtype="float32")
    n = len(x)
    busy = np.zeros(n, bool)
    speech = [np.zeros(n, bool), np.zeros(n, bool)]
    for side, a, b in speech_truth(call, rec):
        busy[max(0, int(a * SR) - 800) : int(b * SR) + 800] = True
        speech[channel_of_side(side)][int(a * SR) : int(b * SR)] = True
    for s in call.sounds:
        for a, b in rec.wall_span_to_media(s.start_ms, s.end_ms):
            busy[max(0, a * 8 - 800) : b * 8 + 800] = True
    quiet = ~busy

    def db(v):
        return 10 * np.log10(np.mean(np.asarray(v, np.float64) ** 2) + 1e-20)

    (ours,) = export_recording(
        src, {"id": "nr"}, None, AudioOptions(format="WAV", reduce_noise=True), work / "nr"
    )
    ffmpeg(
        "-i",
        str(src),
        "-af",
        "highpass=f=100,lowpass=f=3800,afftdn=nr=12:nf=-50",
        "-c:a",
        "pcm_s16le",
        str(work / "afftdn.wav"),
    )
    candidates = {
        "ours (band + spectral gate)": sf.read(str(ours.path), dtype="float32")[0],
        "ffmpeg highpass,lowpass,afftdn": sf.read(str(work / "afftdn.wav"), dtype="float32")[0],
        "noisereduce defaults": noisereduce.reduce_noise(y=x.T, sr=SR).T,
        "noisereduce stationary": noisereduce.reduce_noise(y=x.T, sr=SR, stationary=True).T,
    }
    print(
        f"\n== noise reduction on the simulator's truth ({quiet.sum() / SR:.0f} s speech-free; target floor >= 10 dB down, speech within 1 dB) =="
    )
    print(f"{'method':<32} {'floor ch0/ch1 dB':>18} {'speech change ch0/ch1 dB':>26}")
    for name, y in candidates.items():
        y = y[:n]
        drops = [db(x[quiet, c]) - db(y[quiet, c]) for c in range(2)]
        changes = [db(y[speech[c], c]) - db(x[speech[c], c]) for c in range(2)]
        print(f"{name:<32} {drops[0]:8.1f} / {drops[1]:5.1f} {changes[0]:+14.2f} / {changes[1]:+5.2f}")


def bench_memory(minutes: float, work: Path) -> None:
    print(
        f"\n== peak memory: {minutes:.0f}-minute 8 kHz stereo call, full chain -> MP3, in a child process =="
    )
    src = work / "long.wav"
    t0 = time.perf_counter()
    simulated_call(minutes, src)
    print(f"rendered {src.stat().st_size / 1e6:.0f} MB WAV in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(src), str(work / "long-out")],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    print(res.stdout.strip())
    print(f"child wall time {wall:.1f} s (RTF {wall / (minutes * 60):.4f})")
    src.unlink()


def memory_child(src: Path, out: Path) -> None:
    options = AudioOptions(format="MP3", trim_silence=True, reduce_noise=True, normalize_loudness=True)
    (result,) = export_recording(src, {"id": "long"}, None, options, out)
    # VmHWM: this process's own high-water mark (ru_maxrss would inherit the parent's across fork+exec).
    status = Path("/proc/self/status").read_text()
    peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(
        f"peak RSS {peak_mb:.0f} MB (target < 400 MB) for {result.duration_s / 60:.1f} min exported, including Python, numpy, scipy, PyAV"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--memory-minutes", type=float, default=120.0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "quality", "memory"])
    parser.add_argument("--memory-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    if not FFMPEG:
        print(
            "bench/audio_bench.py needs the ffmpeg executable (apt-get install ffmpeg) for the reference side"
        )
        return 2
    version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"reference: {version}")
    with tempfile.TemporaryDirectory(prefix="audio-bench-") as tmp:
        work = Path(tmp)
        src = work / "call.wav"
        call, rec = simulated_call(args.minutes, src)
        from audio.segments import chapter_spans, plan_segments
        from simulator import documents
        from simulator.org import default_org

        org = default_org()
        plan = plan_segments(
            documents.analytics_details(call, org),
            documents.recording(call, rec, org, format_id="WAV", media_uris=None),
        )
        chapters = [(t, a, b) for t, a, b, _ in chapter_spans(plan.segments, sf.info(str(src)).duration)]
        if "speed" not in args.skip:
            bench_speed(src, work, args.repeats, chapters)
        if "quality" not in args.skip:
            bench_quality(call, rec, src, work)
        if "memory" not in args.skip:
            bench_memory(args.memory_minutes, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
