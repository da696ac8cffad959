// Request documents mean one thing only: every S3 body parsed as XML (DeleteObjects, CompleteMultipartUpload,
// PutBucketEncryption, PutBucketVersioning, CreateBucketConfiguration) refuses a DOCTYPE / internal DTD (whose
// entities the parser would expand), entity references XML does not define, and invalid UTF-8 (which would be
// replaced by U+FFFD) with 400 MalformedXML; the JSON bucket policy and the encryption-context header refuse
// invalid UTF-8 too. Nothing is done on a refused document.
import {
  CreateBucketCommand, CreateMultipartUploadCommand, GetBucketPolicyCommand, GetBucketVersioningCommand, HeadObjectCommand,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RawResponse, s3XmlError, sendRaw, signedS3Request } from '../../helpers/raw-request.js';
import { TestServer, rejection, startServer } from '../../helpers/server.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const MALFORMED_XML = /^The XML you provided was not well-formed or did not validate against our published schema$/;

function expectMalformedXml(res: RawResponse): void {
  assert.equal(res.status, 400, res.text);
  const err = s3XmlError(res);
  assert.equal(err.code, 'MalformedXML', res.text);
  assert.match(err.message, MALFORMED_XML);
}

describe('S3 request documents: no DTD, no undefined entities, no invalid UTF-8', { concurrency: 1 }, () => {
  let server: TestServer;
  let s3: S3Client;
  const raw = async (method: string, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    sendRaw(server.url, await signedS3Request(server.url, { method, path, body, headers }));
  const deleteObjects = (bucket: string, body: Buffer | string) => raw('POST', `/${bucket}?delete`, body, { 'content-md5': md5(body) });
  const exists = async (bucket: string, key: string): Promise<boolean> => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  };

  before(async () => {
    server = await startServer();
    s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
  });
  after(async () => server.destroy());

  it('DeleteObjects whose key is an entity of an internal DTD: MalformedXML, the entity is not expanded and nothing is deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'secret.txt', Body: 'keep me' }));
    const body = '<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY k "secret.txt">]><Delete><Object><Key>&k;</Key></Object></Delete>';
    expectMalformedXml(await deleteObjects('docs', body));
    assert.equal(await exists('docs', 'secret.txt'), true);
    // A DOCTYPE with no entity at all, or an external one, is refused the same way.
    expectMalformedXml(await deleteObjects('docs', '<!DOCTYPE Delete SYSTEM "file:///etc/passwd"><Delete><Object><Key>secret.txt</Key></Object></Delete>'));
    expectMalformedXml(await deleteObjects('docs', '<!DOCTYPE Delete><Delete><Object><Key>secret.txt</Key></Object></Delete>'));
    assert.equal(await exists('docs', 'secret.txt'), true);
  });

  it('DeleteObjects with an invalid UTF-8 byte in a key: MalformedXML, and the key it would have become (U+FFFD) is not deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'report\uFFFD.txt', Body: 'replacement-character key' }));
    const body = Buffer.concat([Buffer.from('<Delete><Object><Key>report'), Buffer.from([0xff]), Buffer.from('.txt</Key></Object></Delete>')]);
    expectMalformedXml(await deleteObjects('docs', body));
    assert.equal(await exists('docs', 'report\uFFFD.txt'), true);
    // An overlong encoding of '/' and a lone surrogate are invalid UTF-8 too.
    expectMalformedXml(await deleteObjects('docs', Buffer.concat([Buffer.from('<Delete><Object><Key>a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b</Key></Object></Delete>')])));
    expectMalformedXml(await deleteObjects('docs', Buffer.concat([Buffer.from('<Delete><Object><Key>a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('</Key></Object></Delete>')])));
  });

  it('DeleteObjects: an HTML named entity is not XML (MalformedXML); the predefined entities and character references still decode', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a\u00a0b', Body: 'x' }));
    expectMalformedXml(await deleteObjects('docs', '<Delete><Object><Key>a&nbsp;b</Key></Object></Delete>'));
    expectMalformedXml(await deleteObjects('docs', '<Delete><Object><Key>a&#0;b</Key></Object></Delete>'));
    assert.equal(await exists('docs', 'a\u00a0b'), true);
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'x&"y"<A>', Body: 'x' }));
    const ok = await deleteObjects('docs', '<Delete><Object><Key>x&amp;&#34;y&#x22;&lt;&#65;&gt;</Key></Object><Object><Key>a&#xA0;b</Key></Object></Delete>');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(await exists('docs', 'x&"y"<A>'), false);
    assert.equal(await exists('docs', 'a\u00a0b'), false);
    // '<!DOCTYPE' inside a CDATA section or a comment is text, not a declaration.
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: '<!DOCTYPE>', Body: 'x' }));
    const cdata = await deleteObjects('docs', '<!-- <!DOCTYPE x> --><Delete><Object><Key><![CDATA[<!DOCTYPE>]]></Key></Object></Delete>');
    assert.equal(cdata.status, 200, cdata.text);
    assert.equal(await exists('docs', '<!DOCTYPE>'), false);
  });

  it('CompleteMultipartUpload with an internal DTD: MalformedXML, and the upload is still in progress', async () => {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'docs', Key: 'big' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: 'docs', Key: 'big', UploadId: up.UploadId!, PartNumber: 1, Body: 'part one' }));
    const body = `<!DOCTYPE CompleteMultipartUpload [<!ENTITY e ${JSON.stringify(part.ETag!)}>]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>`;
    expectMalformedXml(await raw('POST', `/docs/big?uploadId=${encodeURIComponent(up.UploadId!)}`, body));
    assert.equal(await exists('docs', 'big'), false);
    const good = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag!.replace(/"/g, '&quot;')}</ETag></Part></CompleteMultipartUpload>`;
    const done = await raw('POST', `/docs/big?uploadId=${encodeURIComponent(up.UploadId!)}`, good);
    assert.equal(done.status, 200, done.text);
    assert.equal(await exists('docs', 'big'), true);
  });

  it('PutBucketVersioning, PutBucketEncryption and CreateBucket configurations: a DTD or invalid UTF-8 is MalformedXML and changes nothing', async () => {
    const versioning = '<!DOCTYPE V [<!ENTITY s "Enabled">]><VersioningConfiguration><Status>&s;</Status></VersioningConfiguration>';
    expectMalformedXml(await raw('PUT', '/docs?versioning', versioning, { 'content-md5': md5(versioning) }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'docs' }))).Status, undefined);
    const encryption = Buffer.concat([
      Buffer.from('<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/k'),
      Buffer.from([0xfe]),
      Buffer.from('</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>'),
    ]);
    expectMalformedXml(await raw('PUT', '/docs?encryption', encryption, { 'content-md5': md5(encryption) }));
    const create = '<!DOCTYPE C [<!ENTITY r "">]><CreateBucketConfiguration><LocationConstraint>&r;</LocationConstraint></CreateBucketConfiguration>';
    expectMalformedXml(await raw('PUT', '/dtd-bucket', create));
    assert.equal((await rejection(s3.send(new GetBucketVersioningCommand({ Bucket: 'dtd-bucket' })))).name, 'NoSuchBucket');
  });

  it('an SSE-KMS encryption context header whose JSON is not valid UTF-8: InvalidArgument, nothing written', async () => {
    const context = Buffer.concat([Buffer.from('{"project":"a'), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64');
    const res = await raw('PUT', '/docs/ctx.txt', 'x', { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-context': context });
    assert.equal(res.status, 400, res.text);
    assert.equal(s3XmlError(res).code, 'InvalidArgument');
    assert.equal(await exists('docs', 'ctx.txt'), false);
  });

  it('PutBucketPolicy with invalid UTF-8: MalformedPolicy, no policy stored', async () => {
    const policy = Buffer.concat([
      Buffer.from('{"Version":"2012-10-17","Statement":[{"Sid":"'),
      Buffer.from([0xff]),
      Buffer.from('","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/*"}]}'),
    ]);
    const res = await raw('PUT', '/docs?policy', policy, { 'content-md5': md5(policy) });
    assert.equal(res.status, 400, res.text);
    assert.equal(s3XmlError(res).code, 'MalformedPolicy');
    assert.equal((await rejection(s3.send(new GetBucketPolicyCommand({ Bucket: 'docs' })))).name, 'NoSuchBucketPolicy');
  });
});
