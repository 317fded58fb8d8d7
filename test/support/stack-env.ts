// Where the test stack's services are: read from <repo>/.stack/env (written by
// `scripts/stack up`), with process.env taking precedence so a developer can
// point tests at an existing Kafka / S3 / PostgreSQL. Tests that need services
// call stackEnv() and fail loudly — never skip — when the stack is not up.
import { S3Client } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface PostgresEnv {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** psql binary matching the stack's server (falls back to `psql` on PATH). */
  psql: string;
}

export interface S3Env {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
}

export interface StackEnv {
  repoRoot: string;
  /** `host:port` of the Kafka broker. */
  kafkaBootstrap: string;
  postgres: PostgresEnv;
  /** Kafka Connect REST base URL, no trailing slash. */
  connectUrl: string;
  s3: S3Env;
  /** Python with `hudi` (hudi-rs) and `pyarrow`: runs scripts/oracle/hudi_read.py. */
  hudiPython: string;
  schemaRegistryUrl: string | undefined;
  /** Python with pyspark 3.5, and the Hudi 0.15 Spark bundle jar: run scripts/oracle/spark_read.py. */
  spark: { python: string; hudiBundle: string };
  /** Trino's server install and the Java (24+) it runs on: test/interop/trino/trino_batch.py. */
  trino: { home: string; javaHome: string };
  /** Every variable as loaded, for child processes (cdc-lake daemon, oracles). */
  vars: Readonly<Record<string, string>>;
}

/** The stack is not running or its env file lacks a variable. */
export class StackNotRunningError extends Error {
  override readonly name = "StackNotRunningError";
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** The repository root (test/support/../..). */
export function repoRoot(): string {
  return resolve(HERE, "..", "..");
}

/**
 * The shared fixtures folder. CI clones the repo with `shared/` beside it, so
 * it is `<repo>/../shared/fixtures` unless CDC_LAKE_FIXTURES says otherwise.
 */
export function fixturesDir(): string {
  const fromEnv = process.env["CDC_LAKE_FIXTURES"];
  const dir = fromEnv ?? join(repoRoot(), "..", "shared", "fixtures");
  if (!existsSync(dir)) {
    throw new Error(`fixtures folder ${dir} not found: clone the repo beside shared/ or set CDC_LAKE_FIXTURES`);
  }
  return dir;
}

/** Parses `export K=V` / `K=V` lines (values unquoted, as scripts/stack writes them). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2] ?? "";
    if (value.length >= 2 && (value.startsWith('"') || value.startsWith("'")) && value.endsWith(value[0] ?? "")) {
      value = value.slice(1, -1);
    }
    out[m[1] ?? ""] = value;
  }
  return out;
}

let cached: StackEnv | undefined;

/** Loads the stack's addresses; throws StackNotRunningError saying how to start it. */
export function stackEnv(): StackEnv {
  if (cached) return cached;
  const root = repoRoot();
  const file = process.env["CDC_LAKE_STACK_ENV"] ?? join(root, ".stack", "env");
  const fromFile = existsSync(file) ? parseEnvFile(readFileSync(file, "utf8")) : {};
  const vars: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k in fromFile) vars[k] = v;
  const get = (key: string): string => {
    const v = process.env[key] ?? fromFile[key];
    if (v === undefined || v === "") {
      const why = existsSync(file) ? `${file} has no ${key}` : `${file} does not exist`;
      throw new StackNotRunningError(
        `test stack not available (${why}): run \`npm run stack:up\` (or set ${key} to an existing service)`,
      );
    }
    vars[key] = v;
    return v;
  };
  const pgPort = Number(get("PGPORT"));
  if (!Number.isInteger(pgPort)) throw new StackNotRunningError(`PGPORT=${get("PGPORT")} is not a port number`);
  cached = {
    repoRoot: root,
    kafkaBootstrap: get("KAFKA_BOOTSTRAP"),
    postgres: {
      host: get("PGHOST"),
      port: pgPort,
      user: get("PGUSER"),
      password: get("PGPASSWORD"),
      database: get("PGDATABASE"),
      psql: process.env["PSQL"] ?? fromFile["PSQL"] ?? "psql",
    },
    connectUrl: get("CONNECT_URL").replace(/\/+$/, ""),
    s3: {
      endpoint: get("AWS_ENDPOINT_URL_S3"),
      accessKeyId: get("AWS_ACCESS_KEY_ID"),
      secretAccessKey: get("AWS_SECRET_ACCESS_KEY"),
      region: get("AWS_REGION"),
      bucket: get("CDC_LAKE_TEST_BUCKET"),
    },
    hudiPython: get("HUDI_PYTHON"),
    schemaRegistryUrl: process.env["SCHEMA_REGISTRY_URL"] ?? fromFile["SCHEMA_REGISTRY_URL"],
    spark: { python: get("SPARK_PYTHON"), hudiBundle: get("HUDI_SPARK_BUNDLE") },
    trino: { home: get("TRINO_HOME"), javaHome: get("TRINO_JAVA_HOME") },
    vars,
  };
  return cached;
}

/** Resolves when `host:port` accepts a TCP connection; rejects naming the service and the fix. */
export function assertReachable(hostPort: string, service: string, timeoutMs = 3000): Promise<void> {
  const idx = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, idx).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(idx + 1));
  return new Promise((ok, fail) => {
    const sock = createConnection({ host, port });
    const done = (err?: Error): void => {
      sock.destroy();
      if (err) {
        fail(new StackNotRunningError(`${service} at ${hostPort} is not reachable (${err.message}): run \`npm run stack:up\``));
      } else ok();
    };
    sock.setTimeout(timeoutMs, () => done(new Error(`no answer in ${timeoutMs} ms`)));
    sock.once("connect", () => done());
    sock.once("error", (e) => done(e));
  });
}

export interface HudiOracleOptions {
  mode?: "snapshot" | "read_optimized" | "incremental" | "timeline";
  asOf?: string;
  start?: string;
  end?: string;
  columns?: readonly string[];
}

/** A row as printed by scripts/oracle/hudi_read.py (canonical JSON values). */
export type OracleRow = Record<string, unknown>;

/**
 * Reads a Hudi table (local path or s3://) with hudi-rs through
 * scripts/oracle/hudi_read.py and returns its canonical rows, sorted.
 */
export async function readWithHudiRs(tablePath: string, opts: HudiOracleOptions = {}): Promise<OracleRow[]> {
  const env = stackEnv();
  const args = [join(env.repoRoot, "scripts", "oracle", "hudi_read.py"), tablePath, "--mode", opts.mode ?? "snapshot"];
  if (opts.asOf) args.push("--as-of", opts.asOf);
  if (opts.start) args.push("--start", opts.start);
  if (opts.end) args.push("--end", opts.end);
  if (opts.columns) args.push("--columns", opts.columns.join(","));
  const { stdout, stderr, code } = await run(env.hudiPython, args, { ...process.env, ...env.vars });
  if (code !== 0) {
    throw new Error(`hudi-rs oracle failed (exit ${code}) reading ${tablePath}: ${stderr.trim()}`);
  }
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as OracleRow);
}

/**
 * Reads a local Hudi table with Spark 3.5 + Hudi 0.15 through
 * scripts/oracle/spark_read.py; same canonical rows as readWithHudiRs.
 * Slow (a JVM per call, ~30 s): read several modes per test sparingly.
 */
export async function readWithSpark(tablePath: string, opts: Omit<HudiOracleOptions, "mode"> & { mode?: "snapshot" | "read_optimized" | "incremental" } = {}): Promise<OracleRow[]> {
  const env = stackEnv();
  const args = [join(env.repoRoot, "scripts", "oracle", "spark_read.py"), tablePath, "--mode", opts.mode ?? "snapshot"];
  if (opts.asOf) args.push("--as-of", opts.asOf);
  if (opts.start) args.push("--start", opts.start);
  if (opts.end) args.push("--end", opts.end);
  if (opts.columns) args.push("--columns", opts.columns.join(","));
  const { stdout, stderr, code } = await run(env.spark.python, args, { ...process.env, ...env.vars });
  if (code !== 0) {
    throw new Error(`Spark oracle failed (exit ${code}) reading ${tablePath}: ${stderr.trim().split("\n").slice(-20).join("\n")}`);
  }
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as OracleRow);
}

export interface ProcessResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program to completion, capturing output (no shell). */
export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<ProcessResult> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", (e) => fail(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.once("close", (code) => ok({ stdout, stderr, code: code ?? -1 }));
    child.stdin.end(input ?? "");
  });
}

/** An S3 client for the stack's S3 server (path-style, its credentials). */
export function stackS3Client(): S3Client {
  const { s3 } = stackEnv();
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}
