"""``python run.py metadata FILE``: list the metadata streams / extended attributes of exported files."""

from __future__ import annotations

import argparse
import json
import logging

from storage.metadata import mechanism, read_metadata

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="exported audio or transcript file(s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")


def main(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            attrs = read_metadata(file)
        except OSError as exc:
            print(f"{file}: cannot read metadata: {exc.strerror or exc}")
            status = 1
            continue
        if args.json:
            print(
                json.dumps({"file": file, "mechanism": mechanism(), "attributes": attrs}, ensure_ascii=False)
            )
            continue
        how = {"ads": "NTFS alternate data streams", "xattr": "extended attributes (user.*)"}.get(
            mechanism(), "no metadata support on this platform"
        )
        print(f"{file}  [{how}]")
        if not attrs:
            print("  (no metadata)")
        width = max((len(name) for name in attrs), default=0)
        for name, value in attrs.items():
            print(f"  {name:<{width}}  {value}")
    return status
