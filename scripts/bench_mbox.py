#!/usr/bin/env python3
"""Build a benchmark mbox by repeating a folder's messages until the file reaches a size.

Each message gets an mbox `From ` separator line and mboxrd escaping (every line that
matches `>*From ` gets one more `>`), so a reader splits it back into exactly the
messages written. A leading `From ` line of a message file is dropped first, because the
separator replaces it. Prints the number of messages written.

Usage: bench_mbox.py SOURCE_DIR OUTPUT_FILE SIZE_BYTES
"""

import re
import sys
from pathlib import Path

ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)
SEPARATOR = b"From bench@example.invalid Thu Jan  1 00:00:00 2026\n"


def load_messages(folder: Path) -> list[bytes]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        data = path.read_bytes()
        if data.startswith(b"From "):
            data = data.split(b"\n", 1)[1] if b"\n" in data else b""
        data = ESCAPE.sub(rb">\1", data)
        if not data.endswith(b"\n"):
            data += b"\n"
        messages.append(SEPARATOR + data + b"\n")
    return messages


def main() -> None:
    source, output, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    messages = load_messages(source)
    if not messages:
        sys.exit(f"no .eml files in {source}")
    written = 0
    count = 0
    with output.open("wb") as out:
        while written < size:
            for message in messages:
                out.write(message)
                written += len(message)
                count += 1
                if written >= size:
                    break
    print(count)


if __name__ == "__main__":
    main()
