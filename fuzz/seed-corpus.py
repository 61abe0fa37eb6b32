#!/usr/bin/env python3
"""Build seed corpora for the mailtrace fuzz targets from the shared test data.

Usage: fuzz/seed-corpus.py DATA_DIR... OUT_DIR

Field targets (received, authres, taglist, exchange) get one file per unfolded header
value of the matching fields. The whole-message, .msg and mbox targets read the data
folders directly, so they need no seeds from here. Seeds stay outside the repository because
the shared mail contains personal data.
"""

import hashlib
import os
import re
import sys

FIELDS = {
    "received": re.compile(rb"^received$"),
    "authres": re.compile(rb"^(arc-)?authentication-results$|^received-spf$"),
    "taglist": re.compile(rb"^(dkim-signature|arc-seal|arc-message-signature)$"),
    "exchange": re.compile(rb"^x-(forefront|microsoft|ms-exchange|incoming|originating|sender-ip)"),
}
MAX_FILE_BYTES = 4 * 1024 * 1024


def header_fields(data):
    """Yield (lower-case name, unfolded value) for each field of the first header block."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    name, value = None, []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and name is not None:
            value.append(line.strip())
            continue
        if name is not None:
            yield name, b" ".join(value)
        colon = line.find(b":")
        if colon <= 0:
            name, value = None, []
            continue
        name, value = line[:colon].strip().lower(), [line[colon + 1 :].strip()]
    if name is not None:
        yield name, b" ".join(value)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    *data_dirs, out = sys.argv[1:]
    counts = dict.fromkeys(FIELDS, 0)
    for target in FIELDS:
        os.makedirs(os.path.join(out, target), exist_ok=True)
    for data_dir in data_dirs:
        for root, _, files in os.walk(data_dir):
            for file_name in files:
                path = os.path.join(root, file_name)
                if os.path.getsize(path) > MAX_FILE_BYTES:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                for name, value in header_fields(data):
                    for target, pattern in FIELDS.items():
                        if pattern.search(name):
                            digest = hashlib.sha1(value).hexdigest()
                            with open(os.path.join(out, target, digest), "wb") as seed:
                                seed.write(value)
                            counts[target] += 1
    for target, count in counts.items():
        print(f"{target}: {count} values")


if __name__ == "__main__":
    main()
