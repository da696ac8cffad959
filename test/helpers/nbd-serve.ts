import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServeProcess, killAll } from './process.js';
import { TEST_CREDENTIALS, startServer } from './server.js';
import { attachedVolume } from './volumes.js';

/** The environment `strongroom serve` is spawned with: the test account's root credentials. */
export const SERVE_ENV = { STRONGROOM_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, STRONGROOM_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };

/** The NBD line of serve's banner. */
export function nbdUrlOf(proc: ServeProcess): string {
  const m = /NBD: attached volumes exported on (nbd:\/\/\S+)\/<volume-id>/.exec(proc.stdout());
  assert.ok(m, proc.stdout());
  return m[1]!;
}

/** Tries `fn` until it succeeds (a volume whose last holder was killed is free again after its claim's TTL). */
export async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
    }
  }
}

/** A data dir holding one attached volume, made by a server that is then stopped so that `serve` can take over. */
export async function dataDirWithAttachedVolume(): Promise<{ dataDir: string; volumeId: string }> {
  const made = await startServer();
  const volumeId = (await attachedVolume(made)).volumeId;
  await made.stop();
  return { dataDir: made.dataDir, volumeId };
}

/** Kills every serve process spawned and removes the data dir. */
export function killServesAndRemove(dataDir: string): void {
  killAll();
  rmSync(dataDir, { recursive: true, force: true });
}
