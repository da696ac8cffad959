import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { DatabaseUnreachableError, RETRY_AFTER_MS, Reachability, unreachable } from '../../src/store/metadata/postgres/reachability.js';

const serverError = (code: string) => Object.assign(new pg.DatabaseError('refused', 0, 'error'), { code });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('PostgreSQL reachability (fail fast while the database is out of reach)', () => {
  it('takes pg’s connection errors and timeouts, and the server’s connection, shutdown and too-many-connections SQLSTATEs, for out of reach — not a refused statement', () => {
    for (const e of [refused, new Error('Connection terminated unexpectedly'), new Error('Query read timeout'), new Error('timeout exceeded when trying to connect')]) {
      assert.equal(unreachable(e), true, e.message);
    }
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300']) assert.equal(unreachable(serverError(code)), true, code);
    for (const code of ['23505', '42P01', '40001', '57014', '22P02']) assert.equal(unreachable(serverError(code)), false, code);
  });

  it('after an out-of-reach failure calls fail at once; after RETRY_AFTER_MS one call at a time tries, and the first that reaches the database reopens', async () => {
    let now = 0;
    const reach = new Reachability(() => now);
    let ran = 0;
    const ok = () => reach.note((ran++, Promise.resolve('ok')));
    await assert.rejects(reach.run(() => reach.note(Promise.reject(refused))), refused);
    assert.equal(reach.reachable, false);
    await assert.rejects(reach.run(ok), DatabaseUnreachableError);
    assert.equal(ran, 0, 'not tried');
    now += RETRY_AFTER_MS;
    let release!: () => void;
    const probe = reach.run(() => reach.note(new Promise<string>((r) => (release = () => r('probe')))));
    await assert.rejects(reach.run(ok), DatabaseUnreachableError, 'one probe at a time');
    release();
    assert.equal(await probe, 'probe');
    assert.equal(reach.reachable, true);
    assert.equal(await reach.run(ok), 'ok');
  });

  it('a failed probe keeps calls failing at once for another RETRY_AFTER_MS; a refused statement or an error of the caller’s own changes nothing', async () => {
    let now = 0;
    const reach = new Reachability(() => now);
    await assert.rejects(reach.run(() => reach.note(Promise.reject(serverError('23505')))));
    await assert.rejects(reach.run(() => Promise.reject(new Error('a store error of its own'))));
    assert.equal(reach.reachable, true);
    reach.failed(refused);
    now += RETRY_AFTER_MS;
    await assert.rejects(reach.run(() => reach.note(Promise.reject(new Error('Connection terminated unexpectedly')))));
    now += RETRY_AFTER_MS - 1;
    await assert.rejects(reach.run(() => reach.note(Promise.resolve(1))), DatabaseUnreachableError);
    now += 1;
    assert.equal(await reach.run(() => reach.note(Promise.resolve(1))), 1);
  });
});
