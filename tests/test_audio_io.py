"""Decoding what Genesys Cloud serves, corrupt input, stereo merge, the process pool and the CLI."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import SR, _generate, decode_av, sim_call

from audio import channels
from audio.errors import AudioDecodeError
from audio.export import AudioOutput, export_recording
from audio.options import AudioOptions
from audio.stereo import merge_mono
from simulator import media
from simulator.audio_synth import DEFAULT_SAMPLE_RATE

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("format_id", media.FORMAT_IDS)
def test_decodes_every_format_genesys_serves(tmp_path, format_id):
    call = sim_call(tmp_path, "inbound_simple", seed=1, duration_s=20.0)
    src = media.encode_recording(
        call.call, call.rec, format_id, tmp_path / f"in{media.EXTENSIONS[format_id]}"
    )
    (out,) = export_recording(Path(src), call.recording, None, AudioOptions(format="WAV"), tmp_path / "o")
    info = sf.info(str(out.path))
    # Opus (Ogg, WebM) keeps the rate it was made from (its header's input rate): the call's 8 kHz
    rate = DEFAULT_SAMPLE_RATE if format_id in ("OGG_OPUS", "WEBM") else media.SAMPLE_RATES[format_id]
    assert info.channels == 2 and info.samplerate == rate
    assert abs(info.frames / info.samplerate - call.rec.media_duration_ms / 1000) <= 0.020


def _corrupt_inputs(tmp_path: Path, good_wav: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    files = {
        "random.wav": rng.integers(0, 256, 20000, dtype=np.uint8).tobytes(),
        "empty.mp3": b"",
        "text.webm": b"this is not audio at all\n" * 50,
        "header-only.wav": good_wav.read_bytes()[:44],
    }
    out = {}
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        out[name] = path
    return out


def test_corrupt_input_raises_a_decode_error_naming_file_and_cause(tmp_path):
    call = sim_call(tmp_path, "inbound_simple", seed=1, duration_s=20.0)
    for name, path in _corrupt_inputs(tmp_path, call.wav).items():
        with pytest.raises(AudioDecodeError) as err:
            export_recording(path, call.recording, None, AudioOptions(format="MP3"), tmp_path / "o")
        assert name in str(err.value) and err.value.cause, name
    with pytest.raises(AudioDecodeError, match="not found"):
        export_recording(tmp_path / "missing.wav", {}, None, AudioOptions(), tmp_path / "o")


def test_merge_mono_pair_aligns_both_sides_on_their_channels(tmp_path):
    org, call = _generate("mono_pair", 3, 60.0)
    by_side = {rec.layout: rec for rec in call.recordings}
    assert set(by_side) == {"external", "internal"}
    paths, starts = {}, {}
    for side, rec in by_side.items():
        paths[side] = Path(media.encode_recording(call, rec, "WAV", tmp_path / f"{side}.wav"))
        starts[side] = rec.start_ms
    dest = merge_mono(
        paths["external"],
        paths["internal"],
        external_start_ms=starts["external"],
        internal_start_ms=starts["internal"],
        dest=tmp_path / "merged.wav",
    )
    merged, rate = sf.read(str(dest), dtype="int16")
    assert rate == SR and merged.shape[1] == 2
    t0 = min(starts.values())
    for side, ch in (("external", channels.EXTERNAL_CHANNEL), ("internal", channels.INTERNAL_CHANNEL)):
        mono, _ = sf.read(str(paths[side]), dtype="int16")
        offset = (starts[side] - t0) * SR // 1000
        assert np.array_equal(merged[offset : offset + len(mono), ch], mono)
        assert not merged[:offset, ch].any()
    assert len(merged) == max((starts[s] - t0) * SR // 1000 + len(sf.read(str(paths[s]))[0]) for s in paths)


def test_runs_in_a_worker_process_with_picklable_results_and_errors(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=30.0)
    options = AudioOptions(format="MP3", purposes=("agent",), segment_types=("interact",), concatenate=True)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        good = pool.submit(export_recording, call.wav, call.recording, call.details, options, tmp_path / "o")
        failing = pool.submit(export_recording, bad, call.recording, call.details, options, tmp_path / "o")
        (out,) = good.result(timeout=120)
        with pytest.raises(AudioDecodeError, match="bad.wav"):
            failing.result(timeout=120)
    assert isinstance(out, AudioOutput) and out.path.is_file()
    assert pickle.loads(pickle.dumps(out)) == out
    samples, rate = decode_av(out.path)
    assert abs(len(samples) / rate - out.duration_s) <= 0.020


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "audio", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_plan_then_convert_runs_the_service_code(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=30.0)
    (tmp_path / "details.json").write_text(json.dumps(call.details))
    (tmp_path / "recording.json").write_text(json.dumps([call.recording]))
    plan_path = tmp_path / "plan.json"
    res = _run(
        "plan", "--details", str(tmp_path / "details.json"), "--recording", str(tmp_path / "recording.json"),
        "--purpose", "agent", "--segment-type", "interact", "-o", str(plan_path),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    plan = json.loads(plan_path.read_text())
    assert plan["segments"] and all(s["segment_type"] == "interact" for s in plan["segments"])
    out = tmp_path / "agent.mp3"
    convert = ["convert", str(call.wav), "--format", "mp3", "--normalize", "--denoise"]
    convert += ["--segments", str(plan_path), "--concatenate", "-o", str(out)]
    # an agent-only file needs to know which channel is the agent's: no evidence, no file
    res = _run(*convert)
    assert res.returncode == 1 and "refused" in res.stderr and call.call.conversation_id in res.stderr
    assert not out.exists()
    res = _run(*convert, "--details", str(tmp_path / "details.json"))  # IVR/queue/hold audio tell
    assert res.returncode == 0, res.stderr
    line = json.loads(res.stdout.strip().splitlines()[-1])
    total = sum(s["media_end"] - s["media_start"] for s in plan["segments"])
    assert abs(line["duration_s"] - total) < 0.01 and out.is_file()
    res = _run(
        "convert",
        str(call.wav),
        "--format",
        "M4B",
        "--segments",
        str(tmp_path / "plan-all.json"),
        "--chapters",
        "-o",
        str(tmp_path / "c.m4b"),
    )
    assert res.returncode == 1 and "plan-all.json" in res.stderr  # a missing plan file is a clear error
    res = _run("convert", str(tmp_path / "nope.wav"), "--format", "WAV", "-o", str(tmp_path / "x.wav"))
    assert res.returncode == 1 and "nope.wav" in res.stderr
