import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { killAll, spawnServe } from '../../helpers/process.js';

/** Every file under dir (relative path → SHA-256 and mode), to show a refused start wrote nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[relative(dir, p) + '/'] = (statSync(p).mode & 0o777).toString(8);
        walk(p);
      } else {
        out[relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${(statSync(p).mode & 0o777).toString(8)}`;
      }
    }
  };
  walk(dir);
  return out;
}

function credentialsFrom(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  return { accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]! };
}

describe('strongroom serve refuses a data dir whose parts do not belong together, before writing anything', () => {
  let base: string;
  let made: string;
  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'sr-datadir-'));
    made = join(base, 'made');
    const proc = await spawnServe(['--data-dir', made], { STRONGROOM_ACCOUNT_ID: '444455556666' });
    const kms = new KMSClient({ endpoint: proc.url, region: 'us-east-1', credentials: credentialsFrom(join(made, 'credentials')), maxAttempts: 1 });
    await kms.send(new CreateKeyCommand({ Description: 'something to lose' }));
    kms.destroy();
    assert.equal(await proc.terminate(), 0);
    assert.ok(existsSync(join(made, 'blobs')), 'a started data dir has blobs/');
  });
  after(() => {
    killAll();
    rmSync(base, { recursive: true, force: true });
  });

  /** A copy of the started data dir, changed by `damage`. */
  const copyOfMade = (name: string, damage: (dir: string) => void) => {
    const dir = join(base, name);
    cpSync(made, dir, { recursive: true });
    damage(dir);
    return dir;
  };

  const refuses = async (dir: string, message: RegExp) => {
    const before = snapshot(dir);
    const run = await runCli(['serve', '--port', '0', '--data-dir', dir]);
    assert.notEqual(run.code, 0, 'exit code');
    assert.doesNotMatch(run.stdout, /listening|AWS_SECRET_ACCESS_KEY/, 'nothing started, no credentials printed');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack: ${run.stderr}`);
    assert.match(lines[0]!, message);
    assert.deepEqual(snapshot(dir), before, 'nothing in the data dir was created or changed');
  };

  it('a database without root-of-trust.key: refused naming the missing key file; no new key is written', async () => {
    const dir = copyOfMade('no-key', (d) => rmSync(join(d, 'root-of-trust.key')));
    await refuses(dir, /^strongroom: data dir .*no-key has a database \(strongroom\.db\) but no root-of-trust key at .*no-key\/root-of-trust\.key: restore the key file .* refusing to create a new one$/);
    assert.equal(existsSync(join(dir, 'root-of-trust.key')), false);
  });

  it('blobs/ and credentials without the database: refused; no new, empty deployment (database, key, credentials) is made', async () => {
    const dir = copyOfMade('no-db', (d) => {
      for (const f of readdirSync(d)) if (f.startsWith('strongroom.db')) rmSync(join(d, f));
    });
    await refuses(dir, /^strongroom: data dir .*no-db has blobs\/ and credentials but no database \(strongroom\.db\): restore the database, or use an empty data dir .* refusing to start a new, empty one over them$/);
    assert.equal(existsSync(join(dir, 'strongroom.db')), false);
  });

  it('blobs/ alone without the database is refused too', async () => {
    const dir = copyOfMade('only-blobs', (d) => {
      for (const f of readdirSync(d)) if (f !== 'blobs') rmSync(join(d, f), { recursive: true });
    });
    await refuses(dir, /has blobs\/ but no database \(strongroom\.db\)/);
  });

  it('a root-of-trust.key that does not open the database: one clear line, no stack, nothing written (also with STRONGROOM_ROOT_* set)', async () => {
    const dir = copyOfMade('wrong-key', (d) => writeFileSync(join(d, 'root-of-trust.key'), randomBytes(32), { mode: 0o600 }));
    await refuses(dir, /^strongroom: the root-of-trust key .*wrong-key\/root-of-trust\.key does not open the keys wrapped in the database \(.*wrong-key\/strongroom\.db: .*\): it is not the key this database was made with — restore the original key file/);
    const before = snapshot(dir);
    const run = await runCli(['serve', '--port', '0', '--data-dir', dir], { STRONGROOM_ROOT_ACCESS_KEY_ID: 'AKIAFIXED', STRONGROOM_ROOT_SECRET_ACCESS_KEY: 'fixed-secret' });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /does not open the keys wrapped in the database/);
    assert.deepEqual(snapshot(dir), before);
  });

  it('the intact data dir still starts (the checks refuse only mismatches)', async () => {
    const dir = copyOfMade('intact', () => {});
    const proc = await spawnServe(['--data-dir', dir]);
    const code = await proc.terminate();
    assert.equal(code, 0, `signal ${proc.child.signalCode}; stderr: ${proc.stderr()}`);
  });
});

describe('offline commands work only on an existing data dir', () => {
  it('`strongroom explain` on a folder that is not a data dir: one line, exit 1, and no database is created there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-not-datadir-'));
    try {
      const run = await runCli(['explain', '--data-dir', dir, '--principal', 'arn:aws:iam::111122223333:root', '--action', 'kms:Decrypt', '--key', 'alias/x']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /is not a Strongroom data dir/);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
      assert.deepEqual(readdirSync(dir), []);
      const missing = join(dir, 'nothing-here');
      const again = await runCli(['explain', '--data-dir', missing, '--principal', 'arn:aws:iam::111122223333:root', '--action', 'kms:Decrypt', '--key', 'alias/x']);
      assert.equal(again.code, 1);
      assert.equal(existsSync(missing), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
