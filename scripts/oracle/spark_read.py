#!/usr/bin/env python3
"""Read a Hudi table with Spark 3.5 + the Hudi 0.15 Spark bundle and print
canonical JSONL, exactly like hudi_read.py (same value encoding and row order),
so the two oracles and cdc-lake's own reader can be compared row for row.

usage:
  spark_read.py <table_path> [--mode snapshot|read_optimized|incremental]
                [--as-of T] [--start T --end T] [--columns a,b,c]

Needs HUDI_SPARK_BUNDLE (path of hudi-spark3.5-bundle_2.12-0.15.0.jar) and a
python with pyspark 3.5 (SPARK_PYTHON in .stack/env). Local paths only: the
stack does not put hadoop-aws on Spark's classpath.
Exit codes: 0 ok, 2 usage error, 3 the table could not be read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hudi_read import canonical, row_sort_key  # noqa: E402  (shared canonical encoding)


def start_spark(app: str, bundle: str):
    """A local Spark session with the Hudi bundle, on loopback, in UTC. Returns the
    session and a stream for JSONL: the JVM may print on stdout, so the real stdout
    is kept aside and stdout is pointed at stderr."""
    # Spark hands timestamps to Python as naive local times: make local UTC.
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName(app)
        .config("spark.jars", bundle)
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", "org.apache.spark.HoodieSparkKryoRegistrar")
        .config("spark.sql.extensions", "org.apache.spark.sql.hudi.HoodieSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.hudi.catalog.HoodieCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark, out


def read_rows(spark, table_path: str, mode: str, as_of=None, start=None, end=None, columns=None) -> list:
    """One Hudi query as canonical rows, sorted like hudi_read.py sorts them."""
    reader = spark.read.format("hudi").option("hoodie.metadata.enable", "false")
    if mode == "incremental":
        reader = reader.option("hoodie.datasource.query.type", "incremental").option("hoodie.datasource.read.begin.instanttime", start)
        if end:
            reader = reader.option("hoodie.datasource.read.end.instanttime", end)
    else:
        reader = reader.option("hoodie.datasource.query.type", mode)
        if as_of:
            reader = reader.option("as.of.instant", as_of)
    df = reader.load(table_path)
    if columns:
        df = df.select(*[c for c in columns.split(",") if c])
    rows = [{k: canonical(v) for k, v in r.asDict(recursive=True).items()} for r in df.collect()]
    rows.sort(key=row_sort_key)
    return rows


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Spark-Hudi oracle: print a Hudi table as canonical JSONL")
    ap.add_argument("table_path")
    ap.add_argument("--mode", choices=["snapshot", "read_optimized", "incremental"], default="snapshot")
    ap.add_argument("--as-of", dest="as_of")
    ap.add_argument("--start")
    ap.add_argument("--end")
    ap.add_argument("--columns")
    args = ap.parse_args(argv)
    if args.mode == "incremental" and not args.start:
        print("spark_read.py: --mode incremental needs --start (and optionally --end)", file=sys.stderr)
        return 2
    bundle = os.environ.get("HUDI_SPARK_BUNDLE")
    if not bundle or not os.path.isfile(bundle):
        print(f"spark_read.py: HUDI_SPARK_BUNDLE={bundle!r} is not a file: run `npm run stack:up`", file=sys.stderr)
        return 2

    spark, out = start_spark("cdc-lake-spark-oracle", bundle)
    try:
        rows = read_rows(spark, args.table_path, args.mode, args.as_of, args.start, args.end, args.columns)
    except Exception as e:  # py4j / analysis errors: report with the path
        print(f"spark_read.py: cannot read {args.mode} of Hudi table {args.table_path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    finally:
        spark.stop()
    for r in rows:
        out.write(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
