#!/usr/bin/env python3
"""Read Hudi tables with Trino's own Hudi connector and print canonical JSONL.

One Trino server (TRINO_HOME, on TRINO_JAVA_HOME) starts for all the tables of a
call: a JVM start costs ~10 s here. Each table is registered in a file metastore
as a Hive sync would register it (`<table>_ro`: HoodieParquetInputFormat, the
columns of the latest commit's schema, hive-style partitions from the folders that
hold `.hoodie_partition_metadata`), then read with `SELECT *`. Trino 476's Hudi
connector reads Merge-On-Read tables read-optimized only (base files).

usage: trino_batch.py <table_dir>...      (local folders)
Output: {"t": <index>, "row": {...}} per row, or {"t": <index>, "error": "..."};
rows encoded as hudi_read.py encodes them (canonical()).
Exit codes: 0 ok (per-table errors are in the output), 3 Trino did not start.
"""
from __future__ import annotations

import datetime as dt
import decimal
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "oracle"))
from hudi_read import canonical, row_sort_key  # noqa: E402  (shared canonical encoding)

TRINO_VERSION = "476"
META = ["_hoodie_commit_time", "_hoodie_commit_seqno", "_hoodie_record_key", "_hoodie_partition_path", "_hoodie_file_name"]
AVRO_TO_HIVE = {"long": "bigint", "int": "int", "string": "string", "boolean": "boolean", "double": "double", "float": "float", "bytes": "binary"}


def hive_type(t: Any) -> str:
    if isinstance(t, list):
        t = next(x for x in t if x != "null")
    if isinstance(t, dict):
        logical = t.get("logicalType")
        if logical == "decimal":
            return f"decimal({t['precision']},{t.get('scale', 0)})"
        if logical == "date":
            return "date"
        if logical in ("timestamp-micros", "timestamp-millis"):
            return "timestamp"
        t = t["type"]
    return AVRO_TO_HIVE[t]


def latest_schema(table_dir: str) -> dict[str, Any]:
    """The Avro schema of the newest completed write that records one (commit metadata `schema`)."""
    for path in sorted(glob.glob(os.path.join(table_dir, ".hoodie", "*.*commit")), reverse=True):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if not text.strip():
            continue
        schema = (json.loads(text).get("extraMetadata") or {}).get("schema")
        if schema:
            return json.loads(schema)
    raise ValueError(f"{table_dir}: no completed commit records a schema")


def register(metastore: str, schema_name: str, name: str, table_dir: str) -> None:
    """File-metastore entries (Trino's own JSON) for one table and its partitions."""
    avro = latest_schema(table_dir)
    props: dict[str, str] = {}
    with open(os.path.join(table_dir, ".hoodie", "hoodie.properties"), encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                props[k] = v
    pfields = [p for p in props.get("hoodie.table.partition.fields", "").split(",") if p]
    column = lambda n, t: {"name": n, "type": t, "properties": {}}  # noqa: E731
    data = [column(c, "string") for c in META] + [column(f["name"], hive_type(f["type"])) for f in avro["fields"] if f["name"] not in pfields]
    parts = [column(f["name"], hive_type(f["type"])) for f in avro["fields"] if f["name"] in pfields]
    location = "local://" + os.path.abspath(table_dir)
    tdir = os.path.join(metastore, schema_name, name)
    os.makedirs(tdir, exist_ok=True)
    doc = {
        "writerVersion": TRINO_VERSION, "owner": "cdc-lake", "tableType": "EXTERNAL_TABLE",
        "dataColumns": data, "partitionColumns": parts, "parameters": {"EXTERNAL": "TRUE"},
        "originalStorageFormat": {
            "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "inputFormat": "org.apache.hudi.hadoop.HoodieParquetInputFormat",
            "outputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        },
        "serdeParameters": {}, "externalLocation": location, "columnStatistics": {},
    }
    with open(os.path.join(tdir, ".trinoSchema"), "w", encoding="utf-8") as f:
        json.dump(doc, f)
    if not pfields:
        return
    for dirpath, dirnames, filenames in os.walk(table_dir):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if ".hoodie_partition_metadata" not in filenames:
            continue
        rel = os.path.relpath(dirpath, table_dir)
        pdir = os.path.join(tdir, rel)
        os.makedirs(pdir, exist_ok=True)
        with open(os.path.join(pdir, ".trinoSchema"), "w", encoding="utf-8") as f:
            json.dump({"columns": data, "parameters": {}, "storageFormat": "PARQUET", "serdeParameters": {},
                       "externalLocation": location + "/" + rel, "columnStatistics": {}}, f)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(etc: str, data: str, metastore: str, port: int) -> None:
    os.makedirs(os.path.join(etc, "catalog"), exist_ok=True)
    files = {
        "node.properties": f"node.environment=cdclake\nnode.id=cdc-lake-oracle\nnode.data-dir={data}\n",
        "jvm.config": "\n".join([
            "-server", "-Xmx1G", "-XX:InitialRAMPercentage=5", "-XX:+UseG1GC", "-XX:G1HeapRegionSize=32M",
            "-XX:+ExplicitGCInvokesConcurrent", "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
            "-XX:ReservedCodeCacheSize=256M", "-Djdk.attach.allowAttachSelf=true", "-Djdk.nio.maxCachedBufferSize=2000000",
            "-Dfile.encoding=UTF-8", "-XX:+EnableDynamicAgentLoading", "",
        ]),
        "config.properties": (
            f"coordinator=true\nnode-scheduler.include-coordinator=true\nhttp-server.http.port={port}\n"
            f"discovery.uri=http://127.0.0.1:{port}\nquery.max-memory=512MB\nquery.max-memory-per-node=256MB\ntask.concurrency=2\n"
        ),
        # The native local file system lists paths back as local:///…: the metastore uses that scheme too.
        "catalog/hudi.properties": (
            f"connector.name=hudi\nhive.metastore=file\nhive.metastore.catalog.dir=local://{os.path.abspath(metastore)}\n"
            "fs.native-local.enabled=true\nlocal.location=/\n"
        ),
    }
    for name, text in files.items():
        with open(os.path.join(etc, name), "w", encoding="utf-8") as f:
            f.write(text)


class TrinoError(Exception):
    pass


def query(url: str, sql: str) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    req = urllib.request.Request(url + "/v1/statement", data=sql.encode(), method="POST", headers={"X-Trino-User": "cdc-lake", "X-Trino-Catalog": "hudi"})
    resp = json.load(urllib.request.urlopen(req, timeout=60))
    columns: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    while True:
        if "error" in resp:
            e = resp["error"]
            raise TrinoError(f"{e.get('errorName')}: {e.get('message')}")
        columns = columns or resp.get("columns") or []
        rows += resp.get("data") or []
        if "nextUri" not in resp:
            return columns, rows
        resp = json.load(urllib.request.urlopen(resp["nextUri"], timeout=60))


def value(v: Any, trino_type: str) -> Any:
    """A Trino JSON value as the Python value hudi_read.py canonicalizes (same encoding as the other oracles)."""
    if v is None:
        return None
    if trino_type.startswith("decimal"):
        return decimal.Decimal(v)
    if trino_type == "date":
        return dt.date.fromisoformat(v)
    if trino_type.startswith("timestamp"):
        return dt.datetime.fromisoformat(v)  # Hive timestamps carry no zone: Hudi stores UTC instants
    if trino_type == "varbinary":
        return v  # already base64, as canonical() encodes bytes
    if trino_type in ("double", "real") and isinstance(v, str):
        return float(v)  # "NaN", "Infinity"
    return v


def wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Until Trino answers; a scan may still meet NO_NODES_AVAILABLE for some seconds (see scan())."""
    while True:
        if proc.poll() is not None:
            raise TrinoError(f"Trino exited with {proc.returncode} while starting")
        try:
            query(url, "SELECT 1")
            return
        except (OSError, TrinoError) as e:
            if time.monotonic() > deadline:
                raise TrinoError(f"Trino not ready after 180 s: {e}") from e
        time.sleep(0.5)


def scan(url: str, sql: str, deadline: float) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The query, retried while the coordinator has not yet registered itself as a worker."""
    while True:
        try:
            return query(url, sql)
        except TrinoError as e:
            if "NO_NODES_AVAILABLE" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    home, java = os.environ.get("TRINO_HOME"), os.environ.get("TRINO_JAVA_HOME")
    if not home or not java:
        print("trino_batch.py: TRINO_HOME and TRINO_JAVA_HOME must be set (scripts/stack up trino; .stack/env)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cdc-lake-trino-") as work:
        metastore = os.path.join(work, "metastore")
        os.makedirs(os.path.join(metastore, "lake"))
        with open(os.path.join(metastore, ".lake.trinoSchema"), "w", encoding="utf-8") as f:
            json.dump({"writerVersion": TRINO_VERSION, "ownerName": "cdc-lake", "ownerType": "USER", "parameters": {}}, f)
        failures: dict[int, str] = {}
        for i, table_dir in enumerate(argv):
            try:
                register(metastore, "lake", f"t{i}_ro", table_dir)
            except (OSError, ValueError, KeyError) as e:
                failures[i] = f"cannot register {table_dir}: {e}"
        port = free_port()
        configure(os.path.join(work, "etc"), os.path.join(work, "data"), metastore, port)
        log = open(os.path.join(work, "server.log"), "wb")
        proc = subprocess.Popen(
            [os.path.join(home, "bin", "launcher"), "run", f"--etc-dir={work}/etc", f"--data-dir={work}/data"],
            env={**os.environ, "JAVA_HOME": java, "PATH": f"{java}/bin:{os.environ.get('PATH', '')}"}, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc, time.monotonic() + 180)
            for i in range(len(argv)):
                if i in failures:
                    print(json.dumps({"t": i, "error": failures[i]}))
                    continue
                try:
                    columns, data = scan(url, f"SELECT * FROM hudi.lake.t{i}_ro", time.monotonic() + 120)
                except TrinoError as e:
                    print(json.dumps({"t": i, "error": str(e)}))
                    continue
                rows = [{c["name"]: canonical(value(v, c["type"])) for c, v in zip(columns, r)} for r in data]
                rows.sort(key=row_sort_key)
                for r in rows:
                    print(json.dumps({"t": i, "row": r}, sort_keys=True, ensure_ascii=False))
        except TrinoError as e:
            log.flush()
            with open(os.path.join(work, "server.log"), encoding="utf-8", errors="replace") as f:
                tail = f.read()[-3000:]
            print(f"trino_batch.py: {e}\n{tail}", file=sys.stderr)
            return 3
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
