import { CreateKeyCommand, EnableKeyRotationCommand, EncryptCommand, ListKeyRotationsCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { DAY_MS, ManualClock } from '../../../src/core/clock.js';
import { localIdentity } from '../../../src/core/leases/host-identity.js';
import { SqliteDatabase } from '../../../src/store/metadata/sqlite/database.js';
import { SqliteLeaseStore } from '../../../src/store/metadata/sqlite/lease-store.js';
import { TEST_ACCOUNT, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

/** A holder id of a process of this host with `pid` (as another serve on this machine would have made it). */
const holderOf = (pid: number) => `${localIdentity()!.holder.replace(/^\d+/, String(pid))}:claim`;

/** The pid of a process that ran and was reaped: a serve killed -9. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

const running: ChildProcess[] = [];
after(() => running.forEach((c) => c.kill('SIGKILL')));
/** A process of this host that keeps running: another serve. */
function livePid(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  running.push(child);
  return child.pid!;
}

/**
 * KMS's own claims (a key's transition, an AWS managed key's creation: src/core/kms/lifecycle.ts,
 * aws-managed-keys.ts) are leases like a volume's: one left by a process of this host that no longer runs is
 * taken over at once; one of a live process is waited for (src/core/leases/claim.ts).
 */
describe('KMS claims left by a dead process of this host', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.destroy();
  });
  /** A lease store on the server's data dir, as another process of this host would open it. */
  const leasesOf = (server: TestServer, clock: ManualClock) => new SqliteLeaseStore(SqliteDatabase.inDataDir(server.dataDir), clock);

  it('a key due for rotation whose transition claim a killed process holds is rotated at its next use; one a live process holds is not', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    servers.push(server);
    const kms = server.kms();
    const leases = leasesOf(server, clock);
    const keys = [];
    for (let i = 0; i < 2; i++) {
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
      keys.push(keyId);
    }
    const [deadsKey, livesKey] = keys as [string, string];
    clock.advance(91 * DAY_MS);
    const dead = await leases.tryAcquire(`kms-key-transition:${deadsKey}`, holderOf(await deadPid()), 60_000);
    const live = await leases.tryAcquire(`kms-key-transition:${livesKey}`, holderOf(livePid()), 60_000);
    assert.ok(dead && live);
    for (const keyId of keys) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: deadsKey }))).Rotations!.length, 1, 'rotated under the claim taken over');
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: livesKey }))).Rotations!.length, 0, 'the live process makes that rotation');
    assert.equal((await leases.current(`kms-key-transition:${livesKey}`))?.holder, live.holder);
  });

  it('an AWS managed key whose creation claim a killed process holds is made at first use, without waiting out the claim', async () => {
    const clock = new ManualClock();
    const server = await startServer({ clock });
    servers.push(server);
    const leases = leasesOf(server, clock);
    const name = `aws-managed-key:${TEST_ACCOUNT}/${TEST_REGION}/s3`;
    const dead = (await leases.tryAcquire(name, holderOf(await deadPid()), 10 * 60_000))!;
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'dead-claim' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'dead-claim', Key: 'o', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    assert.match(put.SSEKMSKeyId!, /^arn:aws:kms:us-east-1:111122223333:key\//);
    // Taken over (token + 1) and given up after the creation; the manual clock never reached the dead claim's expiry.
    const now = (await leases.current(name))!;
    assert.notEqual(now.holder, dead.holder);
    assert.equal(now.token, dead.token + 1);
    assert.ok(clock.now() < dead.expiresAt);
  });
});
