/**
 * The seam between EBS-style volumes (src/core/volumes: encrypted blocks, snapshots, the EC2 and EBS direct
 * APIs) and the protocols that expose an attached volume as a disk (src/protocols/nbd). The NBD server knows
 * nothing of keys or blocks at rest; the volume store knows nothing of NBD.
 *
 * Offsets and lengths are bytes and may have any alignment; the device splits them into its own blocks.
 * Errors: a device that can no longer be used (CMK disabled or deleted, volume detached, store unreachable)
 * rejects with a VolumeIoError, which the NBD server answers as EIO/ESHUTDOWN without closing other exports.
 */
export interface BlockDevice {
  /** Size in bytes (the volume's Size in GiB × 2^30). */
  readonly size: number;
  /**
   * The bytes of [offset, offset+length) as pieces in order (their lengths add up to `length`): a device hands
   * out what it has — e.g. one decrypted chunk per piece — instead of copying it into one buffer. The caller
   * only reads them (sends them), never changes them. Bytes never written read as zeroes.
   */
  read(offset: number, length: number): Promise<Buffer[]>;
  /**
   * Writes `data` — one buffer, or the pieces of one (in order; the NBD server passes a payload as the socket
   * reads it came in) — at `offset`. With `fua` (NBD_CMD_FLAG_FUA) the promise resolves only once the write is
   * durable; without it, once later reads see it (durable at the next flush at the latest). The device copies
   * what it keeps; the caller must not change `data` before the promise resolves.
   */
  write(offset: number, data: Buffer | readonly Buffer[], fua: boolean): Promise<void>;
  /** Makes the range read as zeroes (NBD_CMD_WRITE_ZEROES and NBD_CMD_TRIM); frees what it can. */
  zero(offset: number, length: number, fua: boolean): Promise<void>;
  /**
   * Which parts of [offset, offset+length) are allocated (written) and which are holes — never written, or
   * zeroed since — that read as zeroes (NBD_CMD_BLOCK_STATUS, `base:allocation`): consecutive extents from
   * `offset`, at least one and at most `maxExtents`, none empty. They may stop short of the range's end (a
   * device bounds the work of one call); the caller asks again from where they stop. Reporting a hole as
   * allocated is always safe; the reverse never happens.
   */
  extents(offset: number, length: number, maxExtents: number): Promise<Extent[]>;
  /** Every write acknowledged before the call is durable when it resolves (NBD_CMD_FLUSH; survives kill -9). */
  flush(): Promise<void>;
  /** Ends this client's use (flushes); the device refuses I/O afterwards. */
  close(): Promise<void>;
}

/** A run of bytes of one allocation state (BlockDevice.extents). */
export interface Extent {
  readonly length: number;
  /** Never written (or zeroed since): not stored, reads as zeroes. */
  readonly hole: boolean;
}

export class VolumeIoError extends Error {
  constructor(
    message: string,
    /** 'shutdown': the export is gone (detached, CMK unusable) — the client should disconnect. */
    readonly kind: 'io' | 'shutdown' = 'io',
  ) {
    super(message);
    this.name = 'VolumeIoError';
  }
}

/**
 * What the NBD server asks the volume side for: the export a client names (the volume id, e.g. `vol-0abc…`).
 * Resolves undefined when no such volume is attached to an instance of this deployment (NBD_REP_ERR_UNKNOWN);
 * rejects with VolumeIoError 'shutdown' when another client has the export open (one writer at a time, across
 * every node sharing the database).
 */
export interface VolumeExports {
  open(exportName: string): Promise<BlockDevice | undefined>;
  /** The exports a client may list (NBD_OPT_LIST): attached volumes. */
  list(): Promise<string[]>;
}
