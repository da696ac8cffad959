import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { NbdServer } from '../../../src/protocols/nbd/server.js';
import { FileExports } from '../../helpers/file-block-device.js';
import { NbdCerts, makeNbdCerts } from '../../helpers/nbd-certs.js';
import { RawNbdClient } from '../../helpers/nbd-client.js';

const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, GO: 7 };
const REP = { ACK: 1, ERR_INVALID: 0x80000003, ERR_TLS_REQD: 0x80000005 };

describe('NBD over TLS with client certificates (FORCEDTLS)', () => {
  let dir: string;
  let certs: NbdCerts;
  let server: NbdServer;
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sr-nbd-tls-'));
    certs = makeNbdCerts(dir);
    const exports = new FileExports();
    writeFileSync(join(dir, 'vol'), Buffer.alloc(0));
    exports.add('vol-0a', join(dir, 'vol'), 1 << 20);
    server = new NbdServer({
      exports,
      log: pino({ level: process.env.NBD_LOG ?? 'silent' }),
      tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.caCert) },
    });
    ({ port } = await server.listen(0, '127.0.0.1'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every option but STARTTLS and ABORT is refused with NBD_REP_ERR_TLS_REQD before TLS', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.LIST);
    assert.equal((await c.optionReply()).type, REP.ERR_TLS_REQD);
    c.sendOption(OPT.GO, RawNbdClient.infoRequest('vol-0a'));
    assert.equal((await c.optionReply()).type, REP.ERR_TLS_REQD);
    c.sendOption(OPT.ABORT);
    assert.equal((await c.optionReply()).type, REP.ACK);
    assert.equal(await c.closed(), true);
  });

  it('NBD_OPT_EXPORT_NAME before TLS, or a client without fixed newstyle, is disconnected', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-0a'));
    assert.equal(await c.closed(), true);
    const old = await RawNbdClient.connect(port);
    await old.greet(0);
    assert.equal(await old.closed(), true);
  });

  it('with a client certificate the CA signed: STARTTLS, then options and I/O inside TLS', async () => {
    const c = await RawNbdClient.connect(port);
    await c.greet();
    c.sendOption(OPT.STARTTLS);
    assert.equal((await c.optionReply()).type, REP.ACK);
    const secure = await c.startTls({ ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
    assert.equal(secure.authorized, true);
    c.sendOption(OPT.STARTTLS);
    assert.equal((await c.optionReply()).type, REP.ERR_INVALID, 'STARTTLS twice');
    assert.equal((await c.go('vol-0a')).size, BigInt(1 << 20));
    c.request(1, 1n, 10, 5, { data: Buffer.from('hello') });
    assert.equal((await c.reply()).error, 0);
    c.request(0, 2n, 10, 5);
    assert.equal((await c.reply(new Map([[2n, 5]]))).data!.toString(), 'hello');
    c.request(2, 3n, 0, 0);
    assert.equal(await c.closed(), true);
  });

  it('a client without a certificate, or with one another CA signed, is refused at the TLS handshake', async () => {
    for (const creds of [{}, { cert: readFileSync(join(certs.rogueDir, 'client-cert.pem')), key: readFileSync(join(certs.rogueDir, 'client-key.pem')) }]) {
      const c = await RawNbdClient.connect(port);
      await c.greet();
      c.sendOption(OPT.STARTTLS);
      assert.equal((await c.optionReply()).type, REP.ACK);
      // TLS 1.3: the client's handshake may complete before the server rejects its certificate; then nothing more works.
      const outcome = await c
        .startTls({ ca: readFileSync(certs.caCert), ...creds })
        .then(async () => {
          c.sendOption(OPT.GO, RawNbdClient.infoRequest('vol-0a'));
          return c.optionReply().then(() => 'answered', () => 'closed');
        })
        .catch(() => 'closed');
      assert.equal(outcome, 'closed');
      c.destroy();
    }
  });
});
