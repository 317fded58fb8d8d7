// Tests needing services must fail loudly, with the fix, when the stack is absent.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { parseEnvFile, repoRoot, stackEnv } from "../../support/stack-env.js";

test("parseEnvFile reads the export lines scripts/stack writes", () => {
  const vars = parseEnvFile("# c\nexport KAFKA_BOOTSTRAP=127.0.0.1:9092\nPGPORT=5433\nexport Q='a b'\n\nnot a line\n");
  assert.deepEqual(vars, { KAFKA_BOOTSTRAP: "127.0.0.1:9092", PGPORT: "5433", Q: "a b" });
});

test("stackEnv() names the running services", () => {
  const env = stackEnv();
  assert.match(env.kafkaBootstrap, /^[\w.-]+:\d+$/);
  assert.ok(env.postgres.port > 0);
  assert.match(env.connectUrl, /^http:\/\//);
  assert.match(env.s3.endpoint, /^https?:\/\//);
});

test("without .stack/env, stackEnv() throws telling to run npm run stack:up", () => {
  const script =
    "import { stackEnv } from './test/support/stack-env.ts';" +
    "try { stackEnv(); console.log('NO ERROR'); } catch (e) { console.log(e.name + ': ' + e.message); }";
  const clean: NodeJS.ProcessEnv = { PATH: process.env["PATH"], HOME: process.env["HOME"], CDC_LAKE_STACK_ENV: "/nonexistent/env" };
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot(),
    env: clean,
    encoding: "utf8",
  });
  assert.match(out, /^StackNotRunningError: /);
  assert.match(out, /npm run stack:up/);
  assert.match(out, /\/nonexistent\/env does not exist/);
});
