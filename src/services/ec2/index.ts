import { createRequire } from 'node:module';
import { Ec2Codec } from '../../protocols/query/ec2-codec.js';
import { QueryServiceModel } from '../../protocols/query/query-model.js';
import { Ec2Operation } from './call.js';
import {
  CopySnapshot, CreateSnapshot, DeleteSnapshot, DescribeSnapshotAttribute, DescribeSnapshots, ModifySnapshotAttribute, ResetSnapshotAttribute,
} from './snapshot-operations.js';
import {
  DisableEbsEncryptionByDefault, EnableEbsEncryptionByDefault, GetEbsDefaultKmsKeyId, GetEbsEncryptionByDefault, ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId,
} from './settings-operations.js';
import { DescribeVolumesModifications, ModifyVolume } from './modification-operations.js';
import { CreateTags, DeleteTags } from './tag-operations.js';
import { AttachVolume, CreateVolume, DeleteVolume, DescribeVolumes, DetachVolume } from './volume-operations.js';

/** The vendored subset of botocore's EC2 model (scripts/gen-ec2-model.py). */
const model = createRequire(import.meta.url)('./model.json') as QueryServiceModel;

/** The EC2 operation table (the EBS volume subset): wire name → operation. Every entry must exist in the model. */
export const EC2_OPERATIONS: ReadonlyMap<string, Ec2Operation> = new Map(
  [
    CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume, DetachVolume, CreateSnapshot, DescribeSnapshots, DeleteSnapshot, CopySnapshot,
    EnableEbsEncryptionByDefault, DisableEbsEncryptionByDefault, GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId, ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId,
    CreateTags, DeleteTags, ModifySnapshotAttribute, DescribeSnapshotAttribute, ResetSnapshotAttribute, ModifyVolume, DescribeVolumesModifications,
  ].map((op) => [op.name, op]),
);

export const EC2_MODEL = model;
export const EC2_CODEC = new Ec2Codec(model);
export const EC2_SIGNING_NAME = model.metadata.signingName;
