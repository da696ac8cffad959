import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NbdCerts, makeNbdCerts } from '../../helpers/nbd-certs.js';
import { LIBNBD_DEBUG, mustRun, nbdToolsMissing, runTool } from '../../helpers/nbd-tools.js';
import { killAll, spawnServe } from '../../helpers/process.js';
import { TestServer, startServer } from '../../helpers/server.js';
import { attachedVolume } from '../../helpers/volumes.js';

const skip = nbdToolsMissing() ?? false;

describe('NBD off loopback: TLS with client certificates only', { skip }, () => {
  let dir: string;
  let certs: NbdCerts;
  let server: TestServer;
  let volumeId: string;
  let port: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-tls-'));
    certs = makeNbdCerts(dir);
    server = await startServer({
      nbd: { host: '0.0.0.0', port: 0, tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caCert } },
    });
    volumeId = (await attachedVolume(server)).volumeId;
    port = new URL(server.nbdUrl!.replace(/^nbds:/, 'http:')).port;
  });
  after(async () => {
    killAll();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve refuses to start on a non-loopback NBD address without the TLS certificate, key and client CA', async () => {
    await assert.rejects(spawnServe(['--data-dir', join(dir, 'refused'), '--nbd-listen', '0.0.0.0:0']), /not a loopback address.*--nbd-tls-cert/s);
  });

  it('a client without TLS is refused (NBD_REP_ERR_TLS_REQD)', async () => {
    assert.match(server.nbdUrl!, /^nbds:\/\/0\.0\.0\.0:\d+$/);
    const r = await runTool('nbdinfo', [`nbd://127.0.0.1:${port}/${volumeId}`], 60_000, LIBNBD_DEBUG);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /server error message: TLS is required/, r.stderr);
  });

  it('nbdinfo with --tls and a client certificate the CA signed sees the volume; nbdcopy copies through TLS', async () => {
    const url = `nbds://127.0.0.1:${port}/${volumeId}?tls-certificates=${certs.dir}`;
    const info = JSON.parse(await mustRun('nbdinfo', ['--json', url])) as { protocol: string; TLS: boolean; exports: Array<Record<string, unknown>> };
    assert.equal(info.TLS, true);
    assert.equal(info.exports[0]!['export-size'], 2 ** 30);
    await mustRun('sh', ['-c', `printf 'over tls' | nbdcopy - '${url}' && nbdcopy '${url}' - | head -c 8 > '${join(dir, 'back')}'`]);
    assert.equal((await mustRun('cat', [join(dir, 'back')])), 'over tls');
  });

  it('a client whose certificate another CA signed is refused at the TLS handshake', async () => {
    const r = await runTool('nbdinfo', [`nbds://127.0.0.1:${port}/${volumeId}?tls-certificates=${certs.rogueDir}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TLS|handshake|certificate|closed|reset/i, r.stderr);
  });
});
