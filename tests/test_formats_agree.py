"""The audio engine encodes and storage names files: both must use the same extension per format."""

from __future__ import annotations

from audio.options import EXTENSIONS
from storage.formats import AUDIO_EXTENSIONS, TRANSCRIPT_EXTENSIONS
from transcripts.formats import FORMATS


def test_audio_extensions_agree():
    assert {k: v.lstrip(".") for k, v in EXTENSIONS.items()} == dict(AUDIO_EXTENSIONS)


def test_transcript_extensions_agree():
    assert {k: f.extension.lstrip(".") for k, f in FORMATS.items()} == dict(TRANSCRIPT_EXTENSIONS)
