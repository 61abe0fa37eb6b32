#!/usr/bin/env python3
"""Parse messages with SpamScope's mail-parser (PyPI `mail-parser`) and read their
Received hops, for comparison with `mailtrace scan`.

With a folder, every `.eml` file in it is one message. With a file, the file is an mbox
written by bench_mbox.py and is split at its `From ` separator lines (the split is not
timed). Prints: messages, hops, parse seconds (mail-parser time only).

Usage: bench_mailparser.py FOLDER_OR_MBOX [MAX_MESSAGES]
"""

import re
import sys
import time
from pathlib import Path

import mailparser

SEPARATOR = re.compile(rb"^From [^\n]*\n", re.MULTILINE)


def messages_of(path: Path, limit: int | None) -> list[bytes]:
    if path.is_dir():
        found = [p.read_bytes() for p in sorted(path.glob("*.eml"))]
    else:
        found = [m for m in SEPARATOR.split(path.read_bytes()) if m]
    return found[:limit] if limit else found


def main() -> None:
    path = Path(sys.argv[1])
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    messages = messages_of(path, limit)
    hops = 0
    started = time.perf_counter()
    for raw in messages:
        parsed = mailparser.parse_from_bytes(raw)
        hops += len(parsed.received)
    elapsed = time.perf_counter() - started
    print(len(messages), hops, f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
