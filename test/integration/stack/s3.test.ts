// The stack's S3 server honours conditional creates: the second PUT with
// If-None-Match: * is refused with 412, which the lake's writer fencing relies on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import { stackEnv, stackS3Client } from "../../support/stack-env.js";

test("put twice with If-None-Match: * -> 412 the second time", async () => {
  const { s3 } = stackEnv();
  const client = stackS3Client();
  const key = `stack-smoke/${Date.now()}-${Math.random().toString(36).slice(2)}`;
  try {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: "first", IfNoneMatch: "*" }));
    await assert.rejects(
      client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: "second", IfNoneMatch: "*" })),
      (e: unknown) => e instanceof S3ServiceException && e.$metadata.httpStatusCode === 412,
    );
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    assert.equal(await got.Body?.transformToString(), "first");
  } finally {
    client.destroy();
  }
});
