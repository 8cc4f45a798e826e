#!/usr/bin/env python3
"""Print DECNET's own wildcard decision for each [pattern, topic] pair.

Reads a JSON list of [pattern, topic] pairs on stdin; prints a JSON list of
booleans computed by decnet.bus.base.matches.
"""
import json
import sys

from decnet.bus.base import matches

pairs = json.load(sys.stdin)
print(json.dumps([matches(p, t) for p, t in pairs]))
