import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EC2_CODEC, EC2_MODEL, EC2_OPERATIONS } from '../../src/services/ec2/index.js';

/** What botocore's EC2 serializer sends for `params` of `operation`, as the form parameters. */
function botocoreWire(operation: string, params: unknown): Map<string, string> {
  const script = String.raw`
import json, sys, botocore.session
from botocore import serialize
m = botocore.session.get_session().get_service_model('ec2')
op = m.operation_model(sys.argv[1])
body = serialize.create_serializer('ec2').serialize_to_request(json.loads(sys.argv[2]), op)['body']
print(json.dumps(body))`;
  return new Map(Object.entries(JSON.parse(execFileSync('python3', ['-c', script, operation, JSON.stringify(params)], { encoding: 'utf8' })) as Record<string, string>));
}

describe('the EC2 model and codec agree with botocore', () => {
  it('the vendored model is what scripts/gen-ec2-model.py extracts from the installed botocore', () => {
    const fresh = execFileSync('python3', ['scripts/gen-ec2-model.py'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(fresh), JSON.parse(readFileSync('src/services/ec2/model.json', 'utf8')));
  });

  it('every operation in the table is an operation of the model, and every modelled one has an entry', () => {
    assert.deepEqual([...EC2_OPERATIONS.keys()].sort(), Object.keys(EC2_MODEL.operations).sort());
  });

  it("decodes what botocore's EC2 serializer sends: TagSpecification.N.Tag.N, Filter.N.Value.N, VolumeId.N, lower-case locationNames", () => {
    const create = {
      AvailabilityZone: 'us-east-1a', Size: 8, Encrypted: true, KmsKeyId: 'alias/k', VolumeType: 'gp3', DryRun: false,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }],
    };
    const wire = botocoreWire('CreateVolume', create);
    assert.equal(wire.get('TagSpecification.1.Tag.2.Key'), 'b');
    assert.deepEqual(EC2_CODEC.decodeInput('CreateVolume', wire), create);
    const describeIn = { VolumeIds: ['vol-0123456789abcdef0', 'vol-0123456789abcdef1'], Filters: [{ Name: 'tag:x', Values: ['1', '2'] }], NextToken: 't', MaxResults: 5 };
    assert.deepEqual(EC2_CODEC.decodeInput('DescribeVolumes', botocoreWire('DescribeVolumes', describeIn)), describeIn);
    const tags = { Resources: ['vol-0123456789abcdef0'], Tags: [{ Key: 'k' }] };
    assert.deepEqual(EC2_CODEC.decodeInput('DeleteTags', botocoreWire('DeleteTags', tags)), tags);
    const copy = { SourceRegion: 'eu-west-1', SourceSnapshotId: 'snap-0123456789abcdef0', Encrypted: true, KmsKeyId: 'k', Description: 'd' };
    assert.deepEqual(EC2_CODEC.decodeInput('CopySnapshot', botocoreWire('CopySnapshot', copy)), copy);
  });
});
