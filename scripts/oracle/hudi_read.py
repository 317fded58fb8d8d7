#!/usr/bin/env python3
"""Read a Hudi table with hudi-rs (the `hudi` PyPI package) and print JSONL.

The rows are the oracle TypeScript tests compare against, so the output is
canonical: one JSON object per row, keys sorted, rows sorted by
(_hoodie_partition_path, _hoodie_record_key, whole row), and values encoded as
  bytes -> base64 string        decimal -> string with its scale ("12.50")
  date  -> "YYYY-MM-DD"         timestamp -> ISO-8601 UTC with "Z"
  int64 -> JSON integer (exact) float NaN/inf -> "NaN"/"Infinity"/"-Infinity"
  map   -> object (string keys) or list of [key, value] pairs

usage:
  hudi_read.py <table_path> [--mode snapshot|read_optimized|incremental|timeline]
               [--as-of T] [--start T --end T] [--columns a,b,c]

table_path is a local folder or s3://bucket/prefix; for S3 the standard
AWS_* variables are used (AWS_ENDPOINT_URL_S3 for a local server such as moto).
Exit codes: 0 ok, 2 usage error, 3 the table could not be read.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import decimal
import json
import math
import os
import sys
from typing import Any


def storage_options(path: str) -> dict[str, str]:
    if not path.startswith(("s3://", "s3a://")):
        return {}
    opts: dict[str, str] = {}
    env = os.environ
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        opts["aws_endpoint_url"] = endpoint
        if endpoint.startswith("http://"):
            opts["aws_allow_http"] = "true"
        # Local servers (moto) address buckets by path, not virtual host.
        opts["aws_virtual_hosted_style_request"] = "false"
    for env_key, opt_key in (
        ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        ("AWS_SESSION_TOKEN", "aws_session_token"),
    ):
        if env.get(env_key):
            opts[opt_key] = env[env_key]
    opts["aws_region"] = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return opts


def canonical(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)  # Hudi stores UTC instants
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(microseconds=1)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [canonical(v) for v in value]
        # pyarrow renders a map as a list of (key, value) tuples.
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            if all(isinstance(k, str) for k, _ in value):
                return {k: v for k, v in items}
            return [list(kv) for kv in items]
        return items
    return str(value)


def row_sort_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (
        str(row.get("_hoodie_partition_path") or ""),
        str(row.get("_hoodie_record_key") or ""),
        json.dumps(row, sort_keys=True),
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="hudi-rs oracle: print a Hudi table as canonical JSONL")
    ap.add_argument("table_path")
    ap.add_argument("--mode", choices=["snapshot", "read_optimized", "incremental", "timeline"], default="snapshot")
    ap.add_argument("--as-of", dest="as_of")
    ap.add_argument("--start")
    ap.add_argument("--end")
    ap.add_argument("--columns", help="comma-separated projection")
    args = ap.parse_args(argv)

    import hudi  # imported late so --help works without the venv

    if args.mode == "incremental" and not args.start:
        print("hudi_read.py: --mode incremental needs --start (and optionally --end)", file=sys.stderr)
        return 2

    try:
        table = hudi.HudiTable(args.table_path, storage_options(args.table_path))
        if args.mode == "timeline":
            tl = table.get_timeline()
            instants = tl.get_completed_commits() + tl.get_completed_deltacommits() + tl.get_completed_replacecommits()
            for i in sorted(instants, key=lambda i: (i.timestamp, i.action)):
                print(json.dumps({"timestamp": i.timestamp, "action": i.action, "state": i.state}, sort_keys=True))
            return 0
        opts = hudi.HudiReadOptions()
        if args.mode == "incremental":
            opts = opts.with_query_type(hudi.HudiQueryType.Incremental).with_start_timestamp(args.start)
            if args.end:
                opts = opts.with_end_timestamp(args.end)
        else:
            opts = opts.with_query_type(hudi.HudiQueryType.Snapshot)
            if args.as_of:
                opts = opts.with_as_of_timestamp(args.as_of)
            if args.mode == "read_optimized":
                opts = opts.with_hudi_option("hoodie.read.use.read_optimized.mode", "true")
        if args.columns:
            opts = opts.with_projection([c for c in args.columns.split(",") if c])
        batches = table.read(opts)
    except Exception as e:  # hudi raises its own error types; report them with the path
        print(f"hudi_read.py: cannot read {args.mode} of Hudi table {args.table_path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 3

    rows: list[dict[str, Any]] = []
    for batch in batches:
        for r in batch.to_pylist():
            rows.append({k: canonical(v) for k, v in r.items()})
    rows.sort(key=row_sort_key)
    out = sys.stdout
    for r in rows:
        out.write(json.dumps(r, sort_keys=True, ensure_ascii=False))
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
