// No record lost under load: 20 concurrent @aws-sdk/client-kms clients (each its own connections) make 50 calls
// each — allowed, failing and invalid — and every answered request's x-amzn-RequestId has exactly one record, read
// back page by page with LookupEvents; then `strongroom audit verify` passes on the data dir.
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const CLIENTS = 20;
const CALLS = 50;

describe('audit under concurrent load', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.destroy();
  });

  it(`${CLIENTS} clients × ${CALLS} calls: every answered request has exactly one record, and the chain verifies`, async () => {
    const setup = server.kms();
    const keyId = (await setup.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await setup.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('load') }));

    const answered: string[] = [];
    let failures = 0;
    const worker = async (n: number) => {
      const kms = new KMSClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        for (let i = 0; i < CALLS; i++) {
          const call = [
            () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`c${n}-${i}`) })),
            () => kms.send(new DecryptCommand({ CiphertextBlob })),
            () => kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })),
            () => kms.send(new DescribeKeyCommand({ KeyId: keyId })),
            // Answered with an error: recorded all the same.
            () => kms.send(new DescribeKeyCommand({ KeyId: `alias/missing-${n}` })),
          ][(n + i) % 5]!;
          try {
            answered.push((await call()).$metadata.requestId!);
          } catch (err) {
            failures += 1;
            const id = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
            assert.ok(id, `an error answer without a request id: ${String(err)}`);
            answered.push(id);
          }
        }
      } finally {
        kms.destroy();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => worker(n)));
    assert.equal(answered.length, CLIENTS * CALLS);
    assert.equal(failures, (CLIENTS * CALLS) / 5);
    assert.equal(new Set(answered).size, answered.length, 'request ids are unique');

    // Every KMS record, newest first, page by page.
    const trail = new CloudTrailClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const seen = new Map<string, number>();
    try {
      let token: string | undefined;
      do {
        const page = await trail.send(new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'kms.amazonaws.com' }],
          MaxResults: 50,
          ...(token ? { NextToken: token } : {}),
        }));
        for (const e of page.Events ?? []) {
          const id = (JSON.parse(e.CloudTrailEvent!) as { requestID: string }).requestID;
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        token = page.NextToken;
      } while (token);
    } finally {
      trail.destroy();
    }
    const missing = answered.filter((id) => !seen.has(id));
    assert.deepEqual(missing, [], 'answered requests without a record');
    const doubled = [...seen].filter(([, n]) => n !== 1);
    assert.deepEqual(doubled, [], 'requests with more than one record');
    // Nothing else: the load's records plus CreateKey and Encrypt of the setup.
    assert.equal(seen.size, answered.length + 2);

    await server.stop();
    const res = spawnSync(process.execPath, ['bin/strongroom.js', 'audit', 'verify', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.match(res.stdout, /audit log verified: \d+ records/);
  });
});
