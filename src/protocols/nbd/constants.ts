/**
 * The NBD protocol's numbers (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md, "Values").
 * Magics and fields are big-endian on the wire.
 */

/** Handshake: "NBDMAGIC" then "IHAVEOPT" (newstyle negotiation). */
export const NBD_MAGIC = 0x4e42444d41474943n;
export const IHAVEOPT = 0x49484156454f5054n;
/** Every option reply starts with this. */
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;

/** Handshake flags (server, 16 bits). */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;
/** Client flags (32 bits): any other bit makes the server drop the connection. */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

export const Opt = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
} as const;

export const Rep = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: 0x80000001,
  ERR_POLICY: 0x80000002,
  ERR_INVALID: 0x80000003,
  ERR_TLS_REQD: 0x80000005,
  ERR_UNKNOWN: 0x80000006,
  ERR_SHUTDOWN: 0x80000007,
} as const;

export const Info = {
  EXPORT: 0,
  NAME: 1,
  DESCRIPTION: 2,
  BLOCK_SIZE: 3,
} as const;

/** Transmission flags (16 bits). */
export const Flag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
} as const;

export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

export const Cmd = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

/** Command flags. */
export const CmdFlag = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  /** NBD_CMD_BLOCK_STATUS: one extent per context is wanted. */
  REQ_ONE: 1 << 3,
} as const;

export const ReplyFlag = { DONE: 1 } as const;
export const ReplyType = {
  NONE: 0,
  OFFSET_DATA: 1,
  BLOCK_STATUS: 5,
  ERROR: 0x8001,
} as const;

/** The one metadata context served ("Metadata querying"), and its status flags ("Metadata contexts"). */
export const BASE_ALLOCATION = 'base:allocation';
export const State = {
  /** Not allocated in the backend storage. */
  HOLE: 1 << 0,
  /** Reads as all zeroes. */
  ZERO: 1 << 1,
} as const;

/** The error values a reply may carry ("Error values"; errno numbers as on Linux). */
export const Errno = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;

/** Strings (export names, messages) MUST be no longer than 4096 bytes. */
export const MAX_STRING = 4096;
