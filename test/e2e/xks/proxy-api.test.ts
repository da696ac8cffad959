import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { constants, createCipheriv, createDecipheriv, createHash, createPublicKey, hkdfSync, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sendRaw } from '../../helpers/raw-request.js';
import { TEST_ACCOUNT, TestServer, startServer } from '../../helpers/server.js';
import { XKS_CREDENTIAL, XKS_OTHER_CREDENTIAL, XKS_URI_PATH, requestMetadata, xksCall } from '../../helpers/xks.js';

/**
 * Strongroom serving AWS's External Key Store Proxy API (issue 13), spoken to with raw requests signed by the
 * AWS SDK's SigV4 signer (service kms-xks-proxy), as AWS KMS sends them:
 * https://github.com/aws/aws-kms-xksproxy-api-spec/blob/main/xks_proxy_api_spec.md
 */
describe('XKS proxy API (GetHealthStatus, GetKeyMetadata, Encrypt, Decrypt) over raw SigV4-signed requests', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;
  let keyArn: string;
  const keyPath = (id: string, op: string) => `${XKS_URI_PATH}/keys/${id}/${op}`;

  before(async () => {
    server = await startServer({
      xksProxy: {
        credentials: [
          { accountId: TEST_ACCOUNT, ...XKS_CREDENTIAL },
          // A credential of another account: it must not open this account's keys.
          { accountId: '444455556666', ...XKS_OTHER_CREDENTIAL },
        ],
      },
    });
    kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    keyId = key.KeyId!;
    keyArn = key.Arn!;
  });
  after(async () => server.destroy());

  const encrypt = (plaintext: Buffer, aad?: Buffer, extra: Record<string, unknown> = {}) =>
    xksCall(server.url, keyPath(keyId, 'encrypt'), {
      requestMetadata: requestMetadata('Encrypt', keyArn),
      plaintext: plaintext.toString('base64'),
      encryptionAlgorithm: 'AES_GCM',
      ...(aad ? { additionalAuthenticatedData: aad.toString('base64') } : {}),
      ...extra,
    });
  const decrypt = (fields: Record<string, unknown>, aad?: Buffer) =>
    xksCall(server.url, keyPath(keyId, 'decrypt'), {
      requestMetadata: requestMetadata('Decrypt', keyArn),
      encryptionAlgorithm: 'AES_GCM',
      ciphertext: fields.ciphertext,
      ciphertextMetadata: fields.ciphertextMetadata,
      initializationVector: fields.initializationVector,
      authenticationTag: fields.authenticationTag,
      ...(aad ? { additionalAuthenticatedData: aad.toString('base64') } : {}),
    });

  it('GetHealthStatus answers the fleet fields the spec requires', async () => {
    const res = await xksCall(server.url, `${XKS_URI_PATH}/health`, { requestMetadata: { kmsRequestId: 'r-1', kmsOperation: 'KmsHealthCheck' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.json.xksProxyFleetSize, 1);
    assert.equal(res.json.xksProxyVendor, 'Strongroom');
    assert.match(String(res.json.xksProxyModel), /^Strongroom XKS proxy /);
    assert.equal(res.json.ekmVendor, 'Strongroom');
    assert.deepEqual((res.json.ekmFleetDetails as { healthStatus: string }[]).map((d) => d.healthStatus), ['ACTIVE']);
  });

  it('GetKeyMetadata: a symmetric KMS key is an AES_256 ENCRYPT/DECRYPT key whose status follows its key state; other keys are KeyNotFoundException', async () => {
    const meta = () => xksCall(server.url, keyPath(keyId, 'metadata'), { requestMetadata: requestMetadata('CreateKey') });
    let res = await meta();
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { keySpec: 'AES_256', keyUsage: ['ENCRYPT', 'DECRYPT'], keyStatus: 'ENABLED' });
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    try {
      res = await meta();
      assert.equal(res.json.keyStatus, 'DISABLED');
      // A disabled key does not encrypt: InvalidStateException (400).
      const enc = await encrypt(Buffer.from('x'));
      assert.equal(enc.status, 400);
      assert.equal(enc.json.errorName, 'InvalidStateException');
    } finally {
      await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    }
    const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    for (const id of [hmac, '00000000-0000-0000-0000-000000000000']) {
      res = await xksCall(server.url, keyPath(id, 'metadata'), { requestMetadata: requestMetadata('CreateKey') });
      assert.equal(res.status, 404);
      assert.equal(res.json.errorName, 'KeyNotFoundException');
    }
  });

  it('Encrypt gives AES-GCM ciphertext of the plaintext\'s length, a 12-byte IV, a 16-byte tag and the CDIV of Appendix C; Decrypt gives the plaintext back only with the same AAD and metadata', async () => {
    const plaintext = randomBytes(4300);
    const aad = Buffer.from('project=nile,department=marketing');
    const enc = await encrypt(plaintext, aad, { ciphertextDataIntegrityValueAlgorithm: 'SHA_256' });
    assert.equal(enc.status, 200, enc.text);
    const b = (name: string) => Buffer.from(String(enc.json[name]), 'base64');
    assert.equal(b('ciphertext').length, plaintext.length);
    assert.equal(b('initializationVector').length, 12);
    assert.equal(b('authenticationTag').length, 16);
    assert.ok(b('ciphertextMetadata').length <= 20);
    const cdiv = createHash('sha256').update(aad).update(b('ciphertextMetadata')).update(b('initializationVector')).update(b('ciphertext')).update(b('authenticationTag')).digest();
    assert.equal(enc.json.ciphertextDataIntegrityValue, cdiv.toString('base64'));
    // Without the CDIV algorithm in the request, no CDIV in the answer.
    assert.equal((await encrypt(plaintext)).json.ciphertextDataIntegrityValue, undefined);

    const dec = await decrypt(enc.json, aad);
    assert.equal(dec.status, 200, dec.text);
    assert.deepEqual(Buffer.from(String(dec.json.plaintext), 'base64'), plaintext);

    for (const [what, res] of [
      ['another AAD', await decrypt(enc.json, Buffer.from('project=amazon'))],
      ['no AAD', await decrypt(enc.json)],
      ['a flipped ciphertext bit', await decrypt({ ...enc.json, ciphertext: flip(String(enc.json.ciphertext)) }, aad)],
      ['a flipped tag bit', await decrypt({ ...enc.json, authenticationTag: flip(String(enc.json.authenticationTag)) }, aad)],
      ['changed metadata', await decrypt({ ...enc.json, ciphertextMetadata: flip(String(enc.json.ciphertextMetadata)) }, aad)],
      ['no metadata', await decrypt({ ...enc.json, ciphertextMetadata: undefined }, aad)],
    ] as const) {
      assert.equal(res.status, 400, what);
      assert.equal(res.json.errorName, 'InvalidCiphertextException', what);
    }
    // The metadata passed as AAD does not decrypt (the spec's length prefixes keep the two apart).
    const res = await decrypt({ ...enc.json, ciphertextMetadata: undefined }, b('ciphertextMetadata'));
    assert.equal(res.json.errorName, 'InvalidCiphertextException');
  });

  it('the ciphertext is AES-256-GCM over the spec\'s AAD (2-byte length || AAD || 1-byte length || metadata): independent decryption with the key derived from the key\'s material agrees', async () => {
    // The proxy's answer is checked against node:crypto with the proxy's key — HKDF-SHA256 of the key's material,
    // read as KMS holds it (the key-separation test below says why it is not the material itself).
    const key = (await server.app.kms.deps.store.getKey(keyId))!;
    const material = Buffer.from(hkdfSync('sha256', (await server.app.kms.deps.materials.current(key)).reveal(), Buffer.alloc(0), 'strongroom xks-proxy aes-256-gcm v1', 32));
    const plaintext = Buffer.from('Hello World!');
    const aad = Buffer.from('ctx');
    const enc = (await encrypt(plaintext, aad)).json;
    const metadata = Buffer.from(String(enc.ciphertextMetadata), 'base64');
    const d = createDecipheriv('aes-256-gcm', material, Buffer.from(String(enc.initializationVector), 'base64'));
    d.setAAD(Buffer.concat([Buffer.of(0, aad.length), aad, Buffer.of(metadata.length), metadata]));
    d.setAuthTag(Buffer.from(String(enc.authenticationTag), 'base64'));
    assert.deepEqual(Buffer.concat([d.update(Buffer.from(String(enc.ciphertext), 'base64')), d.final()]), plaintext);
  });

  it('ciphertext made before a rotation of the KMS key still decrypts after it (the metadata names the material)', async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const call = (op: string, body: Record<string, unknown>) => xksCall(server.url, keyPath(key.KeyId!, op), { requestMetadata: requestMetadata(op, key.Arn), encryptionAlgorithm: 'AES_GCM', ...body });
    const before = (await call('encrypt', { plaintext: Buffer.from('old').toString('base64') })).json;
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const afterRotation = (await call('encrypt', { plaintext: Buffer.from('new').toString('base64') })).json;
    assert.notEqual(afterRotation.ciphertextMetadata, before.ciphertextMetadata);
    for (const [enc, text] of [[before, 'old'], [afterRotation, 'new']] as const) {
      const { ciphertext, ciphertextMetadata, initializationVector, authenticationTag } = enc;
      const dec = await call('decrypt', { ciphertext, ciphertextMetadata, initializationVector, authenticationTag });
      assert.equal(dec.status, 200, dec.text);
      assert.equal(Buffer.from(String(dec.json.plaintext), 'base64').toString(), text);
    }
  });

  it('authentication: a wrong secret, an unknown access key, another account\'s credential, another service name, a request signed 6 minutes ago or no signature are AuthenticationFailedException (401)', async () => {
    const body = { requestMetadata: { kmsRequestId: 'r-2', kmsOperation: 'KmsHealthCheck' } };
    const path = `${XKS_URI_PATH}/health`;
    const cases = [
      ['wrong secret', await xksCall(server.url, path, body, { credentials: { ...XKS_CREDENTIAL, secretAccessKey: XKS_OTHER_CREDENTIAL.secretAccessKey } })],
      ['unknown access key', await xksCall(server.url, path, body, { credentials: { accessKeyId: 'XKSUNKNOWNACCESSKEY23456', secretAccessKey: XKS_CREDENTIAL.secretAccessKey } })],
      ['another account', await xksCall(server.url, path, body, { credentials: XKS_OTHER_CREDENTIAL })],
      ['service kms', await xksCall(server.url, path, body, { service: 'kms' })],
      ['6 minutes old', await xksCall(server.url, path, body, { signingDate: new Date(Date.now() - 6 * 60_000) })],
      ['unsigned', await sendRaw(server.url, { path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })],
    ] as const;
    for (const [what, res] of cases) {
      assert.equal(res.status, 401, what);
      assert.equal((JSON.parse(res.text) as { errorName: string }).errorName, 'AuthenticationFailedException', what);
    }
    // The other account's credential opens the other account's path (and finds no key there).
    const other = await xksCall(server.url, `/_strongroom/xks/444455556666/kms/xks/v1/keys/${keyId}/metadata`, { requestMetadata: requestMetadata('DescribeKey') }, { credentials: XKS_OTHER_CREDENTIAL });
    assert.equal(other.json.errorName, 'KeyNotFoundException');
    // A body changed after signing no longer matches its signature.
    const changed = await xksCall(server.url, path, body, { sendBody: JSON.stringify({ requestMetadata: { kmsRequestId: 'r-3', kmsOperation: 'KmsHealthCheck' } }) });
    assert.equal(changed.status, 401);
    assert.equal(changed.json.errorName, 'AuthenticationFailedException');
    assert.equal((await xksCall(server.url, path, body)).status, 200);
  });

  it('malformed requests: not JSON, no requestMetadata, no kmsKeyArn, bad base64, another algorithm, a GET, an unknown path', async () => {
    const enc = keyPath(keyId, 'encrypt');
    const meta = requestMetadata('Encrypt', keyArn);
    const cases: [string, Promise<{ status: number; json: Record<string, unknown> }>, number, string][] = [
      ['not JSON', xksCall(server.url, enc, '{"requestMetadata":'), 400, 'ValidationException'],
      ['a JSON array', xksCall(server.url, enc, '[]'), 400, 'ValidationException'],
      ['no requestMetadata', xksCall(server.url, enc, { plaintext: 'AA==', encryptionAlgorithm: 'AES_GCM' }), 400, 'ValidationException'],
      ['no kmsKeyArn', xksCall(server.url, enc, { requestMetadata: requestMetadata('Encrypt'), plaintext: 'AA==', encryptionAlgorithm: 'AES_GCM' }), 400, 'ValidationException'],
      ['no plaintext', xksCall(server.url, enc, { requestMetadata: meta, encryptionAlgorithm: 'AES_GCM' }), 400, 'ValidationException'],
      ['plaintext not base64', xksCall(server.url, enc, { requestMetadata: meta, plaintext: 'not base64!', encryptionAlgorithm: 'AES_GCM' }), 400, 'ValidationException'],
      ['no algorithm', xksCall(server.url, enc, { requestMetadata: meta, plaintext: 'AA==' }), 400, 'ValidationException'],
      ['AES_CBC', xksCall(server.url, enc, { requestMetadata: meta, plaintext: 'AA==', encryptionAlgorithm: 'AES_CBC' }), 501, 'UnsupportedOperationException'],
      ['CDIV SHA_1', xksCall(server.url, enc, { requestMetadata: meta, plaintext: 'AA==', encryptionAlgorithm: 'AES_GCM', ciphertextDataIntegrityValueAlgorithm: 'SHA_1' }), 501, 'UnsupportedOperationException'],
      ['a short IV', xksCall(server.url, keyPath(keyId, 'decrypt'), { requestMetadata: requestMetadata('Decrypt', keyArn), encryptionAlgorithm: 'AES_GCM', ciphertext: 'AA==', initializationVector: 'AAAA', authenticationTag: Buffer.alloc(16).toString('base64') }), 400, 'ValidationException'],
      ['a GET', xksCall(server.url, enc, '', { method: 'GET' }), 405, 'ValidationException'],
      ['an unknown operation', xksCall(server.url, keyPath(keyId, 'sign'), {}), 404, 'InvalidUriPathException'],
      ['no /kms/xks/v1', xksCall(server.url, `/_strongroom/xks/${TEST_ACCOUNT}/keys/${keyId}/encrypt`, {}), 404, 'InvalidUriPathException'],
      ['a key id with a slash', xksCall(server.url, `${XKS_URI_PATH}/keys/a%2Fb/encrypt`, {}), 404, 'InvalidUriPathException'],
    ];
    for (const [what, p, status, errorName] of cases) {
      const res = await p;
      assert.equal(res.status, status, what);
      assert.equal(res.json.errorName, errorName, what);
      assert.equal(typeof res.json.errorMessage, 'string');
      assert.ok((res.json.errorMessage as string).length < 512 && /^[\x20-\x7e]*$/.test(res.json.errorMessage as string), what);
    }
  });

  it('Encrypt works over a new connection per call and over one kept-alive connection (10 calls each, each a new IV, each decrypts); the proxy logs every call\'s kmsRequestId but never the plaintext or the secret', async () => {
    // Timing is not asserted here: `npm run bench:xks` measures these round trips against a floor (README, Benchmarks).
    const plaintext = randomBytes(32);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const keptSockets = new Set<unknown>();
    agent.on('free', (socket) => keptSockets.add(socket));
    const requestIds: string[] = [];
    const ivs = new Set<string>();
    const calls = async (extra: { agent?: Agent }) => {
      for (let i = 0; i < 10; i++) {
        const kmsRequestId = randomUUID();
        requestIds.push(kmsRequestId);
        const res = await xksCall(server.url, keyPath(keyId, 'encrypt'), { requestMetadata: { ...requestMetadata('Encrypt', keyArn), kmsRequestId }, plaintext: plaintext.toString('base64'), encryptionAlgorithm: 'AES_GCM' }, extra);
        assert.equal(res.status, 200, res.text);
        ivs.add(String(res.json.initializationVector));
        const dec = await decrypt(res.json);
        assert.equal(dec.status, 200, dec.text);
        assert.deepEqual(Buffer.from(String(dec.json.plaintext), 'base64'), plaintext);
      }
    };
    try {
      await calls({});
      await calls({ agent });
    } finally {
      agent.destroy();
    }
    assert.equal(ivs.size, 20);
    // The kept-alive calls all went over one connection.
    assert.equal(keptSockets.size, 1);
    const logged = server.logs.map((l) => JSON.parse(l) as { msg: string; xks?: { kmsRequestId?: string; kmsOperation?: string } })
      .filter((l) => l.msg === 'xks proxy request' && l.xks?.kmsOperation === 'Encrypt').map((l) => l.xks!.kmsRequestId);
    for (const id of requestIds) assert.ok(logged.includes(id), `kmsRequestId ${id} logged`);
    const logs = server.logs.join('');
    assert.ok(!logs.includes(plaintext.toString('base64')));
    assert.ok(!logs.includes(XKS_CREDENTIAL.secretAccessKey));
  });
  it('key separation: the proxy encrypts under a key derived from the KMS key\'s material, never the material itself — a GCM ciphertext under the raw material (what KMS\'s own ciphertexts are) does not decrypt through the proxy, whatever AAD the caller sends', async () => {
    // A key whose material the test knows: imported (Origin EXTERNAL), wrapped with RSAES_OAEP_SHA_256.
    const material = randomBytes(32);
    const ext = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: ext.KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      material,
    );
    await kms.send(new ImportKeyMaterialCommand({ KeyId: ext.KeyId!, ImportToken: params.ImportToken!, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const path = (op: string) => keyPath(ext.KeyId!, op);
    const xksAad = (aad: Buffer, metadata: Buffer) => Buffer.concat([Buffer.of(aad.length >> 8, aad.length & 0xff), aad, Buffer.of(metadata.length), metadata]);
    const gcmOpen = (key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, aadBytes: Buffer): Buffer | undefined => {
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(aadBytes);
      d.setAuthTag(tag);
      try {
        return Buffer.concat([d.update(ct), d.final()]);
      } catch {
        return undefined;
      }
    };
    const derived = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'strongroom xks-proxy aes-256-gcm v1', 32));

    // What the proxy makes opens under the derived key and not under the material.
    const aad = randomBytes(40);
    const plaintext = Buffer.from('separated');
    const enc = await xksCall(server.url, path('encrypt'), { requestMetadata: requestMetadata('Encrypt', ext.Arn!), plaintext: plaintext.toString('base64'), encryptionAlgorithm: 'AES_GCM', additionalAuthenticatedData: aad.toString('base64') });
    assert.equal(enc.status, 200, enc.text);
    const field = (name: string) => Buffer.from(String(enc.json[name]), 'base64');
    const metadata = field('ciphertextMetadata');
    const fullAad = xksAad(aad, metadata);
    assert.deepEqual(gcmOpen(derived, field('initializationVector'), field('ciphertext'), field('authenticationTag'), fullAad), plaintext);
    assert.equal(gcmOpen(material, field('initializationVector'), field('ciphertext'), field('authenticationTag'), fullAad), undefined);

    // A ciphertext sealed under the raw material with exactly the AAD the proxy will form is refused.
    const forge = (key: Buffer) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(fullAad);
      const ct = Buffer.concat([c.update(Buffer.from('forged under the material')), c.final()]);
      return { ciphertext: ct.toString('base64'), initializationVector: iv.toString('base64'), authenticationTag: c.getAuthTag().toString('base64') };
    };
    const dec = (fields: Record<string, string>) => xksCall(server.url, path('decrypt'), {
      requestMetadata: requestMetadata('Decrypt', ext.Arn!), encryptionAlgorithm: 'AES_GCM', ...fields,
      ciphertextMetadata: metadata.toString('base64'), additionalAuthenticatedData: aad.toString('base64'),
    });
    const underMaterial = await dec(forge(material));
    assert.equal(underMaterial.status, 400, underMaterial.text);
    assert.equal(underMaterial.json.errorName, 'InvalidCiphertextException');
    const underDerived = await dec(forge(derived));
    assert.equal(underDerived.status, 200, underDerived.text);
    assert.equal(Buffer.from(String(underDerived.json.plaintext), 'base64').toString(), 'forged under the material');
  });
});

function flip(b64: string): string {
  const b = Buffer.from(b64, 'base64');
  b[0]! ^= 1;
  return b.toString('base64');
}
