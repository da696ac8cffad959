// Clients pointed at Strongroom for a service it does not serve get an AWS-shaped error, in their own protocol,
// that names the service: the aws CLI (v2 from Debian at /usr/bin/aws and v1 on PATH; a missing CLI skips unless
// CI is set), @aws-sdk/client-dynamodb (JSON 1.0) and raw signed requests for each wire form.
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { Sha256, awsJsonError, sendRaw, signedJsonRequest } from '../../helpers/raw-request.js';
import { TEST_CREDENTIALS, TEST_REGION, TestServer, rejection, startServer } from '../../helpers/server.js';

// As app.ts derives it from the services it wires (EC2 and the EBS direct APIs are served since issue 12).
const SERVED = 'served: kms, s3, iam, sts, ec2, cloudtrail, ebs';
const notServed = (service: string) => `Strongroom does not serve the '${service}' service; ${SERVED}`;

/** A form-encoded Query POST signed for `service`. */
async function signedForm(baseUrl: string, service: string, form: string) {
  const url = new URL(baseUrl);
  const signed = await new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service, sha256: Sha256 }).sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form,
    }),
  );
  return { method: 'POST', path: '/', headers: { ...signed.headers }, body: form };
}

describe('a request for a service Strongroom does not serve', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.destroy());

  it('AWS JSON (X-Amz-Target), e.g. Cost Explorer: 400 UnknownOperationException naming the service, in JSON', async () => {
    const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'AWSInsightsIndexService.GetCostAndUsage', '{}', { service: 'ce' }));
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(awsJsonError(res), { __type: 'UnknownOperationException', message: notServed('ce') });
  });

  it('@aws-sdk/client-dynamodb (JSON 1.0) shows the message', async () => {
    const ddb = new DynamoDBClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const err = await rejection(ddb.send(new ListTablesCommand({})));
    ddb.destroy();
    assert.equal(err.name, 'UnknownOperationException');
    assert.equal(err.message, notServed('dynamodb'));
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });

  it('Query (form POST), e.g. SNS: <ErrorResponse> InvalidAction; EC2 (served since issue 12) is answered by EC2', async () => {
    const sns = await sendRaw(server.url, await signedForm(server.url, 'sns', 'Action=ListTopics&Version=2010-03-31'));
    assert.equal(sns.status, 400);
    assert.match(sns.text, new RegExp(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Strongroom does not serve the 'sns' service; ${SERVED}</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>`));
    const ec2 = await sendRaw(server.url, await signedForm(server.url, 'ec2', 'Action=DescribeVolumes&Version=2016-11-15'));
    assert.equal(ec2.status, 200);
    assert.match(ec2.text, /<DescribeVolumesResponse/);
  });

  it('REST (no target, no form): REST-JSON services get x-amzn-ErrorType and a JSON message, presigned URLs (X-Amz-Credential) included', async () => {
    const url = new URL(server.url);
    const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 'lambda', sha256: Sha256 });
    const req = new HttpRequest({ method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/2015-03-31/functions/', headers: { host: url.host } });
    const signed = await signer.sign(req);
    const res = await sendRaw(server.url, { method: 'GET', path: signed.path, headers: { ...signed.headers } });
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-amzn-errortype'], 'UnknownOperationException');
    assert.equal(JSON.parse(res.text).message, notServed('lambda'));
    const presigned = await signer.presign(req);
    const query = Object.entries(presigned.query ?? {}).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
    const viaQuery = await sendRaw(server.url, { method: 'GET', path: `${presigned.path}?${query}`, headers: { host: url.host } });
    assert.equal(viaQuery.status, 400);
    assert.equal(JSON.parse(viaQuery.text).message, notServed('lambda'));
  });

  it('a request for a served service signed with a wrong scope (KMS, kmss with a TrentService target) stays that service\'s signature error', async () => {
    for (const service of ['KMS', 'kmss']) {
      const res = await sendRaw(server.url, await signedJsonRequest(server.url, 'TrentService.ListKeys', '{}', { service }));
      assert.equal(res.status, 400, service);
      assert.equal(awsJsonError(res).__type, 'InvalidSignatureException', service);
    }
  });

  it('the served services are not affected (KMS, and S3 on the same port)', async () => {
    const kms = server.kms();
    assert.ok(Array.isArray((await kms.send(new ListKeysCommand({}))).Keys));
    kms.destroy();
    const s3 = server.s3();
    assert.equal((await s3.send(new ListBucketsCommand({}))).$metadata.httpStatusCode, 200);
    s3.destroy();
  });
});

interface CliSpec {
  readonly label: string;
  readonly bin: string;
  readonly major: 1 | 2;
  readonly serviceErrorExit: number;
}
const CLIS: readonly CliSpec[] = [
  { label: 'aws CLI v2 (/usr/bin/aws)', bin: '/usr/bin/aws', major: 2, serviceErrorExit: 254 },
  { label: 'aws CLI v1 (aws on PATH)', bin: 'aws', major: 1, serviceErrorExit: 255 },
];

function unavailable(cli: CliSpec): string | undefined {
  const res = spawnSync(cli.bin, ['--version'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${cli.bin} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  const m = /^aws-cli\/(\d+)\./.exec(`${res.stdout}${res.stderr}`.trim());
  if (res.status !== 0 || !m || Number(m[1]) !== cli.major) return `${cli.bin} is not aws CLI v${cli.major}`;
  return undefined;
}

describe('the aws CLI names the service Strongroom does not serve', { concurrency: true }, () => {
  for (const cli of CLIS) {
    const problem = unavailable(cli);
    describe(cli.label, () => {
      if (problem !== undefined) {
        if (process.env.CI) it('is installed (CI is set, so a missing CLI is a failure)', () => assert.fail(problem));
        else it('prints the not-served error', { skip: `${problem}; skipped because CI is not set` }, () => {});
        return;
      }
      let server: TestServer;
      before(async () => {
        server = await startServer();
      });
      after(() => server.destroy());
      const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        new Promise((resolve, reject) => {
          execFile(cli.bin, [...args, '--endpoint-url', server.url], { env: awsClientEnv(), timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
            if (err && typeof err.code !== 'number') return reject(err);
            resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
          });
        });
      // One of each protocol: Query (or RPC v2 CBOR), AWS JSON, REST-JSON, REST-XML (EC2's Query is served since issue 12).
      const cases: [string[], string, string][] = [
        [['cloudwatch', 'list-metrics'], 'monitoring', 'ListMetrics'],
        [['sqs', 'list-queues'], 'sqs', 'ListQueues'],
        [['ce', 'get-cost-and-usage', '--time-period', 'Start=2026-01-01,End=2026-02-01', '--granularity', 'MONTHLY', '--metrics', 'BlendedCost'], 'ce', 'GetCostAndUsage'],
        [['lambda', 'list-functions'], 'lambda', 'ListFunctions'],
        [['route53', 'list-hosted-zones'], 'route53', 'ListHostedZones'],
      ];
      for (const [args, service, operation] of cases) {
        it(`aws ${args.slice(0, 2).join(' ')} prints "${notServed(service)}"`, async () => {
          const res = await run(...args);
          assert.equal(res.code, cli.serviceErrorExit, `exit ${res.code}: ${res.stderr}`);
          assert.match(res.stderr, new RegExp(`An error occurred \\((InvalidAction|UnknownOperationException|InvalidRequest)\\) when calling the ${operation} operation: ${notServed(service).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        });
      }
    });
  }
});
