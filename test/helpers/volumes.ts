import { randomUUID } from 'node:crypto';
import { rootArn } from '../../src/core/identity/principal.js';
import { BlockDevice } from '../../src/core/volumes/block-device.js';
import { CreateVolumeInput } from '../../src/core/volumes/volumes.js';
import { RequestContext } from '../../src/services/operation.js';
import { kmsForEc2 } from '../../src/services/ec2/kms-bridge.js';
import { VolumeRecord } from '../../src/store/metadata/volume-types.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer } from './server.js';

/** The test account's root as an EC2 request would carry it. */
export function rootRequest(region = TEST_REGION): RequestContext {
  return {
    requestId: randomUUID(),
    principal: { type: 'Root', accountId: TEST_ACCOUNT, arn: rootArn(TEST_ACCOUNT), principalId: TEST_ACCOUNT, accessKeyId: TEST_CREDENTIALS.accessKeyId },
    region,
    sourceIp: '127.0.0.1',
    userAgent: 'strongroom-tests',
    secureTransport: false,
  };
}

export const SCOPE = { accountId: TEST_ACCOUNT, region: TEST_REGION };

/** Creates a volume as the account's root (KMS called via EC2) and attaches it to an instance id. */
export async function attachedVolume(server: TestServer, input: Partial<CreateVolumeInput> = {}): Promise<VolumeRecord> {
  const app = server.app;
  const v = await app.volumes.createVolume(SCOPE, { availabilityZone: `${TEST_REGION}a`, sizeGiB: 1, ...input }, (region) => kmsForEc2(app.kmsClient, rootRequest(region), region));
  return app.volumes.attach(SCOPE, v.volumeId, 'i-0123456789abcdef0', '/dev/sdf');
}

export async function openDevice(server: TestServer, volumeId: string): Promise<BlockDevice> {
  const d = await server.app.volumeExports.open(volumeId);
  if (!d) throw new Error(`${volumeId} is not exported`);
  return d;
}

/** The bytes of [offset, offset+length) of a device as one buffer (BlockDevice.read hands out pieces). */
export async function readAll(device: BlockDevice, offset: number, length: number): Promise<Buffer> {
  const pieces = await device.read(offset, length);
  return Buffer.concat(pieces);
}
