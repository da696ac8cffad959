// Sealed start on PostgreSQL: each node is unsealed on its own (README "Sealed start (key shares)"), and a node
// finds from the keyring row that it starts sealed without being told (no STRONGROOM_ROOT_OF_TRUST).
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { ServeProcess, killAll, spawnServe } from '../../helpers/process.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../../helpers/server.js';

const ROOT_ENV = { STRONGROOM_ACCOUNT_ID: '111122223333', STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
const kmsAt = (url: string) => new KMSClient({ endpoint: url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });

async function unseal(node: ServeProcess, dataDir: string, share: string): Promise<{ sealed: boolean; progress: number }> {
  const token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
  const res = await fetch(`${node.url}/_strongroom/operator/unseal`, { method: 'POST', headers: { 'x-strongroom-operator-token': token }, body: share });
  assert.equal(res.status, 200);
  return (await res.json()) as { sealed: boolean; progress: number };
}

async function healthOf(node: ServeProcess): Promise<string> {
  return ((await (await fetch(`${node.url}/_strongroom/health`)).json()) as { status: string }).status;
}

describe('sealed start on PostgreSQL: two nodes, each unsealed on its own', { skip: postgresSkip() }, () => {
  let url: string;
  let shares: string[];
  const dirs = [0, 1].map(() => join(mkdtempSync(join(tmpdir(), 'sr-sealed-pg-')), 'data'));
  let nodes: ServeProcess[];
  before(async () => {
    url = await (await postgresCluster()).createDatabase();
    const init = await runCli(['operator', 'init', '--key-shares', '3', '--key-threshold', '2', '--database-url', url, '--data-dir', dirs[0]!], ROOT_ENV);
    assert.equal(init.code, 0, init.stderr);
    shares = [...init.stdout.matchAll(/^Key share \d+ of \d+: (\S+)$/gm)].map((m) => m[1]!);
    nodes = await Promise.all(dirs.map((d) => spawnServe(['--database-url', url, '--data-dir', d], ROOT_ENV)));
  });
  after(() => killAll());

  it('both nodes start sealed; unsealing one leaves the other sealed; the other, unsealed with other shares, decrypts what the first encrypted', async () => {
    assert.deepEqual(await Promise.all(nodes.map(healthOf)), ['sealed', 'sealed']);
    const again = await runCli(['operator', 'init', '--key-shares', '3', '--key-threshold', '2', '--database-url', url, '--data-dir', dirs[1]!]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /holds an initialised deployment already/);
    assert.deepEqual(await unseal(nodes[0]!, dirs[0]!, shares[0]!), { sealed: true, progress: 1, threshold: 2, shares: 3, setId: shares[0]!.split('-')[1] });
    assert.equal((await unseal(nodes[0]!, dirs[0]!, shares[1]!)).sealed, false);
    assert.deepEqual(await Promise.all(nodes.map(healthOf)), ['ok', 'sealed']);
    const a = kmsAt(nodes[0]!.url);
    const keyId = (await a.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const ct = (await a.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('node a') }))).CiphertextBlob!;
    a.destroy();
    const b = kmsAt(nodes[1]!.url);
    const refused = await b.send(new DecryptCommand({ CiphertextBlob: ct })).then(() => undefined, (e: Error) => e);
    assert.equal(refused?.name, 'KMSInternalException');
    for (const i of [2, 0]) await unseal(nodes[1]!, dirs[1]!, shares[i]!);
    assert.equal(Buffer.from((await b.send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'node a');
    b.destroy();
  });
});
