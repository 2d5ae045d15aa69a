#!/usr/bin/env python3
"""Reads `cargo bench --no-run --message-format=json` on stdin and prints one
line per benchmark binary: its name, its package's directory, its path."""
import json
import os
import sys

for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    target = message.get("target") or {}
    if message.get("reason") == "compiler-artifact" and "bench" in target.get("kind", []) and message.get("executable"):
        print(target["name"], os.path.dirname(message["manifest_path"]), message["executable"], sep="\t")
