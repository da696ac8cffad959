// ModifyVolume on PostgreSQL with two nodes on one database: concurrent modifications of one volume through both
// nodes give one modification (the check and the write are one transaction, the row locked), the other node
// describes it, and a device opened afterwards on either node has the new size, the grown area zeroes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT_KEY_FILE } from '../../../src/core/crypto/root-of-trust/file.js';
import { postgresCluster, postgresSkip } from '../../helpers/postgres.js';
import { signedQueryRequest } from '../../helpers/query-request.js';
import { sendRaw } from '../../helpers/raw-request.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume, openDevice, readAll } from '../../helpers/volumes.js';

const GiB = 2 ** 30;

describe('ModifyVolume on PostgreSQL, two nodes on one database', { skip: postgresSkip() }, () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const databaseUrl = await (await postgresCluster()).createDatabase();
    a = await startServer({ databaseUrl });
    b = await startServer({ databaseUrl, rootOfTrustFile: join(a.dataDir, ROOT_KEY_FILE) });
  });
  after(async () => {
    await b?.destroy();
    await a?.destroy();
  });

  it('one of concurrent modifications through both nodes wins, the rest are VolumeModificationRateExceeded; the other node opens the volume at its new size', async () => {
    const post = async (node: TestServer, params: Record<string, string>) => sendRaw(node.url, await signedQueryRequest(node.url, { Version: '2016-11-15', ...params }, { service: 'ec2' }));
    const v = await attachedVolume(a);
    const data = randomBytes(70_000);
    const onA = await openDevice(a, v.volumeId);
    await onA.write(GiB - data.length, data, false);
    await onA.flush();
    await onA.close();

    // The same size in each: a larger one first would make a smaller one after it refused as a shrink, not by the cooldown.
    const answers = await Promise.all([0, 1, 2, 3].map((i) => post(i % 2 ? b : a, { Action: 'ModifyVolume', VolumeId: v.volumeId, Size: '3' })));
    const ok = answers.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, answers.map((r) => r.text).join('\n'));
    for (const r of answers.filter((x) => x.status !== 200)) assert.match(r.text, /<Code>VolumeModificationRateExceeded<\/Code>/);
    const target = Number(/<targetSize>(\d+)<\/targetSize>/.exec(ok[0]!.text)![1]);
    for (const node of [a, b]) {
      const mods = await post(node, { Action: 'DescribeVolumesModifications', 'VolumeId.1': v.volumeId });
      assert.match(mods.text, new RegExp(`<targetSize>${target}</targetSize>`));
      assert.match(mods.text, /<modificationState>completed<\/modificationState>/);
    }

    const onB = await openDevice(b, v.volumeId);
    try {
      assert.equal(onB.size, target * GiB);
      assert.ok((await readAll(onB, GiB - data.length, data.length)).equals(data), 'the data before the old end is kept');
      assert.ok((await readAll(onB, GiB, 65_536 * 2)).equals(Buffer.alloc(65_536 * 2)), 'the grown area reads as zeroes');
      const past = randomBytes(5000);
      await onB.write(target * GiB - past.length, past, false);
      await onB.flush();
      assert.ok((await readAll(onB, target * GiB - past.length, past.length)).equals(past));
    } finally {
      await onB.close();
    }
  });
});
