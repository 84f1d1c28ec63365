"""Where a file goes: ``DestinationRoot`` + the directory mode's sub-folders + the file-name template.

Directory modes (``DirectoryStructureMode``):

* ``Hierarchical``: ``yyyy\\MM\\dd\\HH\\mm`` down to the unit of ``Interval`` (``1d`` → ``yyyy\\MM\\dd``)
* ``Flat``: one folder ``yyyyMMddHHmm`` cut the same way (``1d`` → ``20260324``)
* ``NoSubdirectory``: the files go straight into ``DestinationRoot``
* ``PathTemplate``: the folders come from the profile's ``PathTemplate``

The time is the recording start (else transcript start, else conversation start) in the profile's
time zone, floored to the interval. After assembling the path, a resolved-path containment check
(symlinks followed) guarantees that nothing lands outside ``DestinationRoot``.
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
from typing import Protocol

from storage.context import TemplateContext
from storage.intervals import parse_interval
from storage.sanitize import clean_component, clean_value
from storage.templates import render

logger = logging.getLogger(__name__)

MAX_PATH_CHARS = 1024
_WINDOWS_ROOT = re.compile(r"^(\\\\|[A-Za-z]:[\\/])")


class PathEscapeError(ValueError):
    """A rendered path would leave the destination root (never expected: a last line of defence)."""


class PathTooLongError(ValueError):
    """The full target path exceeds MAX_PATH_CHARS."""


class ProfilePaths(Protocol):
    """What path building reads of a profile (`profiles.model.Profile`, a frozen dataclass)."""

    @property
    def name(self) -> str: ...
    @property
    def destination_root(self) -> str: ...
    @property
    def directory_structure_mode(self) -> str: ...
    @property
    def interval(self) -> str: ...
    @property
    def path_template(self) -> str: ...
    @property
    def audio_file_template(self) -> str: ...
    @property
    def transcription_file_template(self) -> str: ...


def directory_parts(profile: ProfilePaths, context: TemplateContext) -> tuple[str, ...]:
    mode = profile.directory_structure_mode
    if mode == "NoSubdirectory":
        return ()
    if mode == "PathTemplate":
        return render(profile.path_template, context)
    interval = parse_interval(profile.interval)
    moment = context.bucket_time()
    if mode == "Hierarchical":
        return tuple(interval.hierarchical_parts(moment))
    if mode == "Flat":
        return (interval.flat_name(moment),)
    raise ValueError(f"unknown DirectoryStructureMode {mode!r}")


def _with_suffix(name: str, suffix: str, extension: str) -> str:
    if not suffix:
        return name
    suffix = clean_value(suffix)
    ext = f".{extension}" if extension else ""
    if ext and name.lower().endswith(ext.lower()):
        return clean_component(f"{name[: -len(ext)]}_{suffix}{name[-len(ext) :]}")
    stem, dot, tail = name.rpartition(".")
    if dot and stem and len(tail) <= 8:
        return clean_component(f"{stem}_{suffix}.{tail}")
    return clean_component(f"{name}_{suffix}")


def relative_parts(
    profile: ProfilePaths, context: TemplateContext, *, kind: str, file_name_suffix: str = ""
) -> tuple[str, ...]:
    """The safe components below DestinationRoot: folders then the file name."""
    if kind not in ("audio", "transcript"):
        raise ValueError(f"kind must be 'audio' or 'transcript', not {kind!r}")
    template = profile.audio_file_template if kind == "audio" else profile.transcription_file_template
    name_parts = render(template, context)
    if not name_parts:
        name_parts = ("unnamed",)
    extension = str(context.value("FileExtension") or "")
    name_parts = (*name_parts[:-1], _with_suffix(name_parts[-1], file_name_suffix, extension))
    return directory_parts(profile, context) + name_parts


def root_path(destination_root: str) -> pathlib.Path:
    """``DestinationRoot`` as a path of this platform (backslashes separate folders on Linux too)."""
    if os.sep == "/":
        return pathlib.Path(destination_root.replace("\\", "/"))
    return pathlib.Path(destination_root)


def ensure_inside(root: pathlib.Path, target: pathlib.Path) -> None:
    resolved_root = root.resolve()
    resolved = target.resolve()
    if resolved == resolved_root or not resolved.is_relative_to(resolved_root):
        raise PathEscapeError(
            f"refusing to write {target}: it resolves to {resolved}, outside {resolved_root}"
        )


def target_path(
    profile: ProfilePaths, context: TemplateContext, *, kind: str, file_name_suffix: str = ""
) -> pathlib.Path:
    """The absolute-or-root-relative path of one output file, checked to stay inside DestinationRoot.

    ``file_name_suffix`` (individual segment files, see ``segment_suffix``) is inserted before the
    extension, separated by ``_``.
    """
    root = root_path(profile.destination_root)
    target = root.joinpath(*relative_parts(profile, context, kind=kind, file_name_suffix=file_name_suffix))
    if len(str(target)) > MAX_PATH_CHARS:
        raise PathTooLongError(
            f"target path is {len(str(target))} characters (limit {MAX_PATH_CHARS}): {target}"
        )
    ensure_inside(root, target)
    return target


def display_path(
    profile: ProfilePaths, context: TemplateContext, *, kind: str, file_name_suffix: str = ""
) -> str:
    """The target path as an administrator would see it: Windows roots (``\\\\srv\\share``, ``D:\\x``)
    are shown with backslashes on every platform (the ``profiles check`` preview)."""
    parts = relative_parts(profile, context, kind=kind, file_name_suffix=file_name_suffix)
    root = profile.destination_root
    if _WINDOWS_ROOT.match(root) or ("\\" in root and "/" not in root):
        return str(pathlib.PureWindowsPath(root).joinpath(*parts))
    return str(pathlib.PurePosixPath(root.replace("\\", "/")).joinpath(*parts))


def segment_suffix(participant_name: str, segment_type: str, ordinal: int) -> str:
    """The file-name suffix of an individual segment file: ``<NNN>_<participant>_<segmentType>``
    (the ordinal first, zero-padded, so the files sort in time order)."""
    return f"{ordinal:03d}_{participant_name}_{segment_type}"


def segment_file_suffix(segment: object) -> str:
    """``segment_suffix`` of an ``audio.segments.PlannedSegment`` (participant name, else purpose)."""
    name = getattr(segment, "participant_name", "") or getattr(segment, "purpose", "")
    return segment_suffix(
        str(name), str(getattr(segment, "segment_type", "")), int(getattr(segment, "ordinal", 0))
    )
