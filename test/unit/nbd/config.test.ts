import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

const tls = { STRONGROOM_NBD_TLS_CERT: '/c.pem', STRONGROOM_NBD_TLS_KEY: '/k.pem', STRONGROOM_NBD_TLS_CA: '/ca.pem' };

describe('--nbd-listen (STRONGROOM_NBD_LISTEN)', () => {
  it('is off by default', () => {
    assert.equal(loadConfig({}, {}).nbd, undefined);
    assert.equal(loadConfig({}, { STRONGROOM_NBD_LISTEN: 'off' }).nbd, undefined);
  });

  it('a bare port listens on loopback; HOST, HOST:PORT and [IPv6]:PORT are read as such; the flag wins over the variable', () => {
    assert.deepEqual(loadConfig({}, { STRONGROOM_NBD_LISTEN: '10809' }).nbd, { host: '127.0.0.1', port: 10809 });
    assert.deepEqual(loadConfig({}, { STRONGROOM_NBD_LISTEN: '127.0.0.2' }).nbd, { host: '127.0.0.2', port: 10809 });
    assert.deepEqual(loadConfig({ nbdListen: 'localhost:0' }, { STRONGROOM_NBD_LISTEN: '10809' }).nbd, { host: 'localhost', port: 0 });
    assert.deepEqual(loadConfig({}, { STRONGROOM_NBD_LISTEN: '[::1]:1234' }).nbd, { host: '::1', port: 1234 });
    assert.throws(() => loadConfig({}, { STRONGROOM_NBD_LISTEN: '127.0.0.1:99999' }), ConfigError);
  });

  it('off loopback it refuses to start without the TLS certificate, key and client CA', () => {
    for (const addr of ['0.0.0.0:10809', '[::]:10809', '192.168.1.5', 'nbd.example.com:10809']) {
      assert.throws(() => loadConfig({}, { STRONGROOM_NBD_LISTEN: addr }), /not a loopback address.*--nbd-tls-cert/);
    }
    assert.throws(() => loadConfig({}, { STRONGROOM_NBD_LISTEN: '0.0.0.0:1', STRONGROOM_NBD_TLS_CERT: '/c', STRONGROOM_NBD_TLS_KEY: '/k' }), /go together/);
    const nbd = loadConfig({}, { STRONGROOM_NBD_LISTEN: '0.0.0.0:10809', ...tls }).nbd!;
    assert.deepEqual(nbd, { host: '0.0.0.0', port: 10809, tls: { certFile: '/c.pem', keyFile: '/k.pem', caFile: '/ca.pem' } });
    assert.throws(() => loadConfig({}, tls), /need --nbd-listen/);
  });
});
