import { createHash } from 'node:crypto';
import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { ebsError } from '../../core/errors/ebs.js';
import { EBS_BLOCK_BYTES } from '../../core/volumes/chunks.js';
import { SnapshotRecord } from '../../store/metadata/volume-types.js';
import { EbsCall, ebsOperation, snapshotArn } from './call.js';

type Tags = { Key?: string; Value?: string }[];

/** ListSnapshotBlocks/ListChangedBlocks: MaxResults 100–10,000 (the model), 10,000 when absent. */
const DEFAULT_MAX_RESULTS = 10_000;

/** A page token is the next block index, base64 (opaque to clients; a bad one is INVALID_PAGE_TOKEN). */
function pageStart(token: string | undefined, starting: number | undefined): number {
  if (token === undefined) return starting ?? 0;
  const text = Buffer.from(token, 'base64').toString('utf8');
  const m = /^ebs-page:(\d{1,12})$/.exec(text);
  if (!m) throw ebsError('ValidationException', 'The pagination token is not valid.', 'INVALID_PAGE_TOKEN');
  return Number(m[1]);
}
const pageToken = (next: number | undefined) => (next === undefined ? {} : { NextToken: Buffer.from(`ebs-page:${next}`).toString('base64') });

function tagsOf(tags: Tags | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) {
    if (t.Key === undefined) throw ebsError('ValidationException', 'A tag must have a Key.', 'INVALID_TAG');
    out[t.Key] = t.Value ?? '';
  }
  return out;
}

const tagList = (s: SnapshotRecord) => Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value }));

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_StartSnapshot.html */
export const StartSnapshot = ebsOperation<{
  VolumeSize: number; ParentSnapshotId?: string; Tags?: Tags; Description?: string; ClientToken?: string; Encrypted?: boolean; KmsKeyArn?: string; Timeout?: number;
}>({
  name: 'StartSnapshot',
  readOnly: false,
  resources: (input, call) => [snapshotArn(call, '*'), ...(input.ParentSnapshotId !== undefined ? [snapshotArn(call, input.ParentSnapshotId)] : [])],
  handle: async (input, call) => {
    const s = await call.snapshots.start(
      call.scope,
      {
        volumeSizeGiB: input.VolumeSize,
        tags: tagsOf(input.Tags),
        ...(input.ParentSnapshotId !== undefined ? { parentSnapshotId: input.ParentSnapshotId } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
        ...(input.Encrypted !== undefined ? { encrypted: input.Encrypted } : {}),
        ...(input.KmsKeyArn !== undefined ? { kmsKeyArn: input.KmsKeyArn } : {}),
        ...(input.Timeout !== undefined ? { timeoutMinutes: input.Timeout } : {}),
      },
      call.kms,
    );
    return {
      Description: s.description || undefined,
      SnapshotId: s.snapshotId,
      OwnerId: s.accountId,
      Status: s.state,
      StartTime: new Date(s.startTime),
      VolumeSize: s.volumeSizeGiB,
      BlockSize: EBS_BLOCK_BYTES,
      Tags: tagList(s),
      ParentSnapshotId: s.direct?.parentSnapshotId,
      KmsKeyArn: s.dataKey.kind === 'kms' ? s.dataKey.keyArn : undefined,
      SseType: s.dataKey.kind === 'kms' ? 'sse-kms' : 'none',
    };
  },
});

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_PutSnapshotBlock.html */
export const PutSnapshotBlock = ebsOperation<{
  SnapshotId: string; BlockIndex: number; BlockData: SecretBytes; DataLength: number; Progress?: number; Checksum: string; ChecksumAlgorithm: string;
}>({
  name: 'PutSnapshotBlock',
  readOnly: false,
  resources: (input, call) => [snapshotArn(call, input.SnapshotId)],
  handle: async (input, call) => {
    try {
      await call.snapshots.putBlock(call.scope, input.SnapshotId, input.BlockIndex, input.BlockData.reveal(), input.DataLength, input.Checksum, call.kms);
    } finally {
      input.BlockData.wipe();
    }
    return { Checksum: input.Checksum, ChecksumAlgorithm: input.ChecksumAlgorithm };
  },
});

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_CompleteSnapshot.html */
export const CompleteSnapshot = ebsOperation<{
  SnapshotId: string; ChangedBlocksCount: number; Checksum?: string; ChecksumAlgorithm?: string; ChecksumAggregationMethod?: string;
}>({
  name: 'CompleteSnapshot',
  readOnly: false,
  resources: (input, call) => [snapshotArn(call, input.SnapshotId)],
  handle: async (input, call) => {
    if (input.Checksum !== undefined && (input.ChecksumAlgorithm === undefined || input.ChecksumAggregationMethod === undefined)) {
      throw ebsError('ValidationException', 'A Checksum needs ChecksumAlgorithm (SHA256) and ChecksumAggregationMethod (LINEAR).', 'INVALID_PARAMETER_VALUE');
    }
    const s = await call.snapshots.complete(call.scope, input.SnapshotId, input.ChangedBlocksCount, input.Checksum, call.kms);
    return { Status: s.state };
  },
});

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_ListSnapshotBlocks.html */
export const ListSnapshotBlocks = ebsOperation<{ SnapshotId: string; NextToken?: string; MaxResults?: number; StartingBlockIndex?: number }>({
  name: 'ListSnapshotBlocks',
  readOnly: true,
  resources: (input, call) => [snapshotArn(call, input.SnapshotId)],
  handle: async (input, call) => {
    const r = await call.snapshots.listBlocks(call.scope, input.SnapshotId, pageStart(input.NextToken, input.StartingBlockIndex), input.MaxResults ?? DEFAULT_MAX_RESULTS);
    return {
      Blocks: r.blocks.map((b) => ({ BlockIndex: b.index, BlockToken: b.token })),
      VolumeSize: r.snapshot.volumeSizeGiB,
      BlockSize: EBS_BLOCK_BYTES,
      ...pageToken(r.next),
    };
  },
});

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_ListChangedBlocks.html */
export const ListChangedBlocks = ebsOperation<{ FirstSnapshotId?: string; SecondSnapshotId: string; NextToken?: string; MaxResults?: number; StartingBlockIndex?: number }>({
  name: 'ListChangedBlocks',
  readOnly: true,
  resources: (input, call) => [...(input.FirstSnapshotId !== undefined ? [snapshotArn(call, input.FirstSnapshotId)] : []), snapshotArn(call, input.SecondSnapshotId)],
  handle: async (input, call) => {
    const r = await call.snapshots.listChanged(call.scope, input.FirstSnapshotId, input.SecondSnapshotId, pageStart(input.NextToken, input.StartingBlockIndex), input.MaxResults ?? DEFAULT_MAX_RESULTS);
    return {
      ChangedBlocks: r.blocks.map((b) => ({ BlockIndex: b.index, FirstBlockToken: b.firstToken, SecondBlockToken: b.secondToken })),
      VolumeSize: r.snapshot.volumeSizeGiB,
      BlockSize: EBS_BLOCK_BYTES,
      ...pageToken(r.next),
    };
  },
});

/** https://docs.aws.amazon.com/ebs/latest/APIReference/API_GetSnapshotBlock.html — the block and its SHA-256. */
export const GetSnapshotBlock = ebsOperation<{ SnapshotId: string; BlockIndex: number; BlockToken: string }>({
  name: 'GetSnapshotBlock',
  readOnly: true,
  resources: (input, call) => [snapshotArn(call, input.SnapshotId)],
  handle: async (input, call: EbsCall) => {
    const data = await call.snapshots.getBlock(call.scope, input.SnapshotId, input.BlockIndex, input.BlockToken, call.kms);
    return { DataLength: data.length, BlockData: data, Checksum: createHash('sha256').update(data).digest('base64'), ChecksumAlgorithm: 'SHA256' };
  },
});
