#!/usr/bin/python3
"""Fetches a Meridian process's /metrics and checks it with Prometheus' own parser.

Usage: check_metrics.py URL [--positive NAME]... [--observed NAME]...

The page must parse with prometheus_client (Debian: python3-prometheus-client) and every family
must carry HELP and TYPE and the meridian_ prefix. Every histogram series must be consistent:
buckets cumulative (non-decreasing as `le` grows), a +Inf bucket equal to _count, a _sum that is
not negative (every Meridian histogram observes durations). --positive NAME: the samples of the
counter or gauge family NAME sum to more than 0. --observed NAME: the histogram NAME counted
something. Prints one line per family checked; exits 1 with the reasons on any failure.
"""

import argparse
import math
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def check_histogram(family, errors):
    series = {}  # labels without le -> {"buckets": [(le, value)], "sum": x, "count": n}
    for sample in family.samples:
        labels = dict(sample.labels)
        le = labels.pop("le", None)
        key = tuple(sorted(labels.items()))
        entry = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sample.name.endswith("_bucket"):
            entry["buckets"].append((float(le), sample.value))
        elif sample.name.endswith("_sum"):
            entry["sum"] = sample.value
        elif sample.name.endswith("_count"):
            entry["count"] = sample.value
    total = 0
    for key, entry in series.items():
        where = f"{family.name}{dict(key)}"
        buckets = sorted(entry["buckets"])
        if not buckets or not math.isinf(buckets[-1][0]):
            errors.append(f"{where}: no +Inf bucket")
            continue
        for (le_a, a), (le_b, b) in zip(buckets, buckets[1:]):
            if b < a:
                errors.append(f"{where}: bucket le={le_b} ({b}) < bucket le={le_a} ({a}): "
                              "buckets are not cumulative")
        if entry["count"] != buckets[-1][1]:
            errors.append(f"{where}: _count {entry['count']} != +Inf bucket {buckets[-1][1]}")
        if entry["sum"] is None or entry["sum"] < 0:
            errors.append(f"{where}: _sum is {entry['sum']}")
        total += entry["count"] or 0
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--positive", action="append", default=[])
    parser.add_argument("--observed", action="append", default=[])
    args = parser.parse_args()

    with urllib.request.urlopen(args.url, timeout=10) as response:
        content_type = response.headers.get("Content-Type", "")
        text = response.read().decode("utf-8")
    errors = []
    if not content_type.startswith("text/plain; version=0.0.4"):
        errors.append(f"Content-Type is '{content_type}', not the text format 0.0.4")
    totals = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("meridian_"):
            errors.append(f"{family.name}: no meridian_ prefix")
        if not family.documentation:
            errors.append(f"{family.name}: no HELP")
        if family.type == "histogram":
            totals[family.name] = check_histogram(family, errors)
        elif family.type in ("counter", "gauge"):
            totals[family.name] = sum(s.value for s in family.samples)
        else:
            errors.append(f"{family.name}: type {family.type} (no TYPE line?)")
        print(f"{family.type:9} {family.name}: {totals.get(family.name)}")
    for name in args.positive + args.observed:
        family = name[:-len("_total")] if name.endswith("_total") else name
        if totals.get(family, 0) <= 0:
            errors.append(f"{name}: expected > 0, got {totals.get(family)}")
    for error in errors:
        print("ERROR:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
