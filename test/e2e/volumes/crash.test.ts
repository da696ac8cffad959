import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHUNK_BYTES } from '../../../src/core/volumes/chunks.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { openDevice, readAll } from '../../helpers/volumes.js';

describe('Volumes: kill -9 after a flush loses nothing that flush acknowledged', () => {
  let server: TestServer | undefined;
  after(() => server?.destroy());

  it('every chunk whose flush the writer saw resolve reads back after SIGKILL and a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-vol-crash-'));
    const child = spawn(process.execPath, [join(import.meta.dirname, 'flush-writer.js'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const { volumeId, lastFlushed } = await new Promise<{ volumeId: string; lastFlushed: number }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const flushed = [...out.matchAll(/flushed (\d+)\n/g)].map((m) => Number(m[1]));
        // Killed mid-stream, some way into its writes (not at a quiet moment).
        if (flushed.length >= 60) {
          child.kill('SIGKILL');
          resolve({ volumeId: /volume (vol-\w+)/.exec(out)![1]!, lastFlushed: Math.max(...flushed) });
        }
      });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was killed: ${err}`)));
    });
    await new Promise((r) => child.once('exit', r));
    server = await startServer({ dataDir });
    // The dead writer's claim frees after its TTL (500 ms).
    let dev;
    for (let i = 0; ; i++) {
      try {
        dev = await openDevice(server, volumeId);
        break;
      } catch (e) {
        if (i > 40) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (let seq = Math.max(1, lastFlushed - 199); seq <= lastFlushed; seq++) {
      const got = await readAll(dev, (seq % 200) * CHUNK_BYTES, CHUNK_BYTES);
      // Later (unacknowledged) writes to the same slot may have landed too: seq, or seq + 200 at most.
      assert.ok(got.equals(Buffer.alloc(CHUNK_BYTES, seq % 256)) || got.equals(Buffer.alloc(CHUNK_BYTES, (seq + 200) % 256)), `chunk of flush ${seq} lost (last acknowledged ${lastFlushed})`);
    }
    await dev.close();
  });
});
