import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { BlockDevice, VolumeExports, VolumeIoError } from '../../core/volumes/block-device.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolViolation } from './protocol-violation.js';
import { TlsUpgrader } from './tls-upgrade.js';
import {
  BASE_ALLOCATION,
  Flag,
  IHAVEOPT,
  Info,
  MAX_STRING,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_MAGIC,
  OPTION_REPLY_MAGIC,
  Opt,
  Rep,
} from './constants.js';

/** What option haggling settles: the export and how the transmission phase talks. */
export interface Negotiated {
  readonly name: string;
  readonly device: BlockDevice;
  readonly structuredReplies: boolean;
  /**
   * The id of `base:allocation` when the client selected it for this export (NBD_OPT_SET_META_CONTEXT, the last
   * one sent, naming the export it then chose, and no NBD_OPT_STARTTLS since), or undefined: NBD_CMD_BLOCK_STATUS
   * is then EINVAL.
   */
  readonly allocationContext: number | undefined;
  /** The stream the transmission phase uses (the TLS socket after NBD_OPT_STARTTLS). */
  readonly stream: Duplex;
  readonly reader: ByteReader;
}

export interface HandshakeLimits {
  /** Largest payload of one NBD_CMD_READ/WRITE (NBD_INFO_BLOCK_SIZE's maximum). */
  readonly maxPayload: number;
  /** The block size advertised as preferred (NBD_INFO_BLOCK_SIZE). */
  readonly preferredBlockSize: number;
}

/** FORCEDTLS mode (proto.md "TLS support"): every option but STARTTLS and ABORT is refused until TLS is up. */
export interface TlsRequirement {
  readonly upgrader: TlsUpgrader;
}

export { ProtocolViolation };

/** Option payloads larger than this are not buffered (the largest valid one, NBD_OPT_GO, is under 4.2 KiB). */
const MAX_OPTION_LENGTH = 16 * 1024;
/** Option haggling that goes on longer than this many options is a client looping, not negotiating. */
const MAX_OPTIONS = 128;

/** The id this server gives `base:allocation` (ids are the server's choice, opaque to the client). */
export const ALLOCATION_CONTEXT_ID = 1;

export const TRANSMISSION_FLAGS =
  Flag.HAS_FLAGS | Flag.SEND_FLUSH | Flag.SEND_FUA | Flag.SEND_TRIM | Flag.SEND_WRITE_ZEROES;

/**
 * Fixed newstyle negotiation (proto.md "Newstyle negotiation"), server side. Resolves with the export the client
 * chose (NBD_OPT_GO or NBD_OPT_EXPORT_NAME), or undefined when the client aborted; throws ProtocolViolation or
 * ConnectionEnded when the connection must simply be closed.
 */
export async function negotiate(
  socket: Socket,
  exports: VolumeExports,
  limits: HandshakeLimits,
  tls: TlsRequirement | undefined,
): Promise<Negotiated | undefined> {
  let stream: Duplex = socket;
  let reader = new ByteReader(socket, 64 * 1024);
  let secured = false;
  let structuredReplies = false;
  /** The export `base:allocation` is selected for (NBD_OPT_SET_META_CONTEXT), or undefined. */
  let allocationFor: string | undefined;
  const contextFor = (name: string) => (allocationFor === name ? ALLOCATION_CONTEXT_ID : undefined);

  const greeting = Buffer.alloc(18);
  greeting.writeBigUInt64BE(NBD_MAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
  stream.write(greeting);

  const clientFlags = (await reader.read(4)).readUInt32BE(0);
  // "the server MUST drop the TCP connection if the client sets an unknown flag".
  if ((clientFlags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0) throw new ProtocolViolation('unknown client flags');
  // TLS needs fixed newstyle ("The server MUST operate in NOTLS mode unless … NBD_FLAG_C_FIXED_NEWSTYLE").
  if (tls && (clientFlags & NBD_FLAG_C_FIXED_NEWSTYLE) === 0) throw new ProtocolViolation('TLS is required and the client does not speak fixed newstyle');
  const noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0;

  const reply = (option: number, type: number, data: Buffer = Buffer.alloc(0)) => {
    const head = Buffer.alloc(20);
    head.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
    head.writeUInt32BE(option, 8);
    head.writeUInt32BE(type, 12);
    head.writeUInt32BE(data.length, 16);
    stream.write(data.length > 0 ? Buffer.concat([head, data]) : head);
  };
  const error = (option: number, type: number, message: string) => reply(option, type, Buffer.from(message, 'utf8'));

  for (let count = 0; count < MAX_OPTIONS; count++) {
    const head = await reader.read(16);
    if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new ProtocolViolation('bad option magic');
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (length > MAX_OPTION_LENGTH) throw new ProtocolViolation(`option ${option} data of ${length} bytes`);
    const data = Buffer.from(await reader.read(length));

    if (tls && !secured && option !== Opt.STARTTLS && option !== Opt.ABORT) {
      // NBD_OPT_EXPORT_NAME cannot be answered with an error: the session ends.
      if (option === Opt.EXPORT_NAME) throw new ProtocolViolation('NBD_OPT_EXPORT_NAME before TLS');
      error(option, Rep.ERR_TLS_REQD, 'TLS is required: send NBD_OPT_STARTTLS first');
      continue;
    }

    switch (option) {
      case Opt.ABORT:
        reply(option, Rep.ACK);
        return undefined;

      case Opt.STARTTLS: {
        if (length !== 0) {
          error(option, Rep.ERR_INVALID, 'NBD_OPT_STARTTLS takes no data');
          break;
        }
        if (!tls) {
          error(option, Rep.ERR_POLICY, 'this server does not offer TLS on this address');
          break;
        }
        if (secured) {
          error(option, Rep.ERR_INVALID, 'TLS is already in use');
          break;
        }
        // Nothing may follow STARTTLS in the clear: the next bytes are the TLS handshake.
        if (reader.pending > 0) throw new ProtocolViolation('data after NBD_OPT_STARTTLS');
        reply(option, Rep.ACK);
        reader.detach();
        stream = await tls.upgrader.upgrade(socket);
        reader = new ByteReader(stream, 64 * 1024);
        secured = true;
        // Nothing chosen in the clear carries over into TLS.
        allocationFor = undefined;
        break;
      }

      case Opt.STRUCTURED_REPLY:
        if (length !== 0) {
          error(option, Rep.ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY takes no data');
          break;
        }
        structuredReplies = true;
        reply(option, Rep.ACK);
        break;

      case Opt.LIST: {
        if (length !== 0) {
          error(option, Rep.ERR_INVALID, 'NBD_OPT_LIST takes no data');
          break;
        }
        for (const name of await exports.list()) {
          const n = Buffer.from(name, 'utf8');
          const body = Buffer.alloc(4 + n.length);
          body.writeUInt32BE(n.length, 0);
          n.copy(body, 4);
          reply(option, Rep.SERVER, body);
        }
        reply(option, Rep.ACK);
        break;
      }

      case Opt.EXPORT_NAME: {
        const name = data.toString('utf8');
        const device = name.length > 0 && validName(data) ? await openQuietly(exports, name) : undefined;
        // "If the chosen export does not exist … the server MUST terminate the session."
        if (!device) throw new ProtocolViolation('NBD_OPT_EXPORT_NAME names no attached volume');
        const tail = Buffer.alloc(noZeroes ? 10 : 134);
        tail.writeBigUInt64BE(BigInt(device.size), 0);
        tail.writeUInt16BE(TRANSMISSION_FLAGS | (structuredReplies ? Flag.SEND_DF : 0), 8);
        stream.write(tail);
        return { name, device, structuredReplies, allocationContext: contextFor(name), stream, reader };
      }

      case Opt.INFO:
      case Opt.GO: {
        const request = parseInfoRequest(data);
        if (!request) {
          error(option, Rep.ERR_INVALID, 'malformed NBD_OPT_INFO/NBD_OPT_GO data');
          break;
        }
        // The empty name is the "default export"; volumes have ids, there is none.
        if (request.name.length === 0) {
          error(option, Rep.ERR_UNKNOWN, 'there is no default export: name a volume id');
          break;
        }
        let device: BlockDevice | undefined;
        try {
          device = await exports.open(request.name);
        } catch (err) {
          // VolumeIoError: in use by another client, CMK unusable… its message is the operator's explanation.
          error(option, Rep.ERR_POLICY, err instanceof VolumeIoError ? err.message : 'the volume cannot be opened');
          if (!(err instanceof VolumeIoError)) throw err;
          break;
        }
        if (!device) {
          error(option, Rep.ERR_UNKNOWN, `no attached volume ${request.name}`);
          break;
        }
        const flags = TRANSMISSION_FLAGS | (structuredReplies ? Flag.SEND_DF : 0);
        const exportInfo = Buffer.alloc(12);
        exportInfo.writeUInt16BE(Info.EXPORT, 0);
        exportInfo.writeBigUInt64BE(BigInt(device.size), 2);
        exportInfo.writeUInt16BE(flags, 10);
        reply(option, Rep.INFO, exportInfo);
        if (request.wanted.has(Info.NAME)) {
          const n = Buffer.from(request.name, 'utf8');
          const body = Buffer.alloc(2 + n.length);
          body.writeUInt16BE(Info.NAME, 0);
          n.copy(body, 2);
          reply(option, Rep.INFO, body);
        }
        // Sent whether asked or not (a server MAY): any size and alignment is served, so the minimum is 1.
        const sizes = Buffer.alloc(14);
        sizes.writeUInt16BE(Info.BLOCK_SIZE, 0);
        sizes.writeUInt32BE(1, 2);
        sizes.writeUInt32BE(limits.preferredBlockSize, 6);
        sizes.writeUInt32BE(limits.maxPayload, 10);
        reply(option, Rep.INFO, sizes);
        // NBD_OPT_INFO leaves the export free again before the client hears back.
        if (option === Opt.INFO) await device.close().catch(() => undefined);
        reply(option, Rep.ACK);
        if (option === Opt.GO) return { name: request.name, device, structuredReplies, allocationContext: contextFor(request.name), stream, reader };
        break;
      }

      case Opt.LIST_META_CONTEXT:
      case Opt.SET_META_CONTEXT: {
        const list = option === Opt.LIST_META_CONTEXT;
        // SET "replaces all previously-set metadata contexts (including when this command fails)".
        if (!list) allocationFor = undefined;
        // "This option MUST NOT be requested unless structured replies … have been negotiated first" (the
        // block status reply is a structured reply).
        if (!structuredReplies) {
          error(option, Rep.ERR_INVALID, 'metadata contexts need structured replies: send NBD_OPT_STRUCTURED_REPLY first');
          break;
        }
        const request = parseMetaContextRequest(data);
        if (!request) {
          error(option, Rep.ERR_INVALID, 'malformed NBD_OPT_LIST_META_CONTEXT/NBD_OPT_SET_META_CONTEXT data');
          break;
        }
        if (request.name.length === 0 || !(await exports.list()).includes(request.name)) {
          error(option, Rep.ERR_UNKNOWN, `no attached volume ${request.name}`);
          break;
        }
        // The one context this server has. LIST: no query lists every context, and a namespace alone
        // ("base:") lists the namespace's; SET selects only a context named in full. Other queries (unknown
        // namespaces or leaves) select nothing — not an error.
        const { queries } = request;
        const chosen = list ? queries.length === 0 || queries.some((q) => q === 'base:' || q === BASE_ALLOCATION) : queries.includes(BASE_ALLOCATION);
        if (chosen) {
          const name = Buffer.from(BASE_ALLOCATION, 'utf8');
          const body = Buffer.alloc(4 + name.length);
          // LIST: "the metadata context ID in these replies is reserved and SHOULD be set to zero".
          body.writeUInt32BE(list ? 0 : ALLOCATION_CONTEXT_ID, 0);
          name.copy(body, 4);
          reply(option, Rep.META_CONTEXT, body);
          if (!list) allocationFor = request.name;
        }
        reply(option, Rep.ACK);
        break;
      }

      default:
        // Known-but-unoffered (NBD_OPT_EXTENDED_HEADERS…)
        // and unknown options alike: the client falls back to what it had.
        error(option, Rep.ERR_UNSUP, `option ${option} is not supported`);
    }
  }
  throw new ProtocolViolation('too many options');
}

/** NBD_OPT_INFO/GO data: u32 name length, name, u16 number of requests, that many u16 info types. */
function parseInfoRequest(data: Buffer): { name: string; wanted: Set<number> } | undefined {
  if (data.length < 6) return undefined;
  const nameLength = data.readUInt32BE(0);
  if (nameLength > MAX_STRING || 4 + nameLength + 2 > data.length) return undefined;
  const nameBytes = data.subarray(4, 4 + nameLength);
  if (!validName(nameBytes)) return undefined;
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 4 + nameLength + 2 + 2 * count) return undefined;
  const wanted = new Set<number>();
  for (let i = 0; i < count; i++) wanted.add(data.readUInt16BE(4 + nameLength + 2 + 2 * i));
  return { name: nameBytes.toString('utf8'), wanted };
}

/**
 * NBD_OPT_LIST_META_CONTEXT/NBD_OPT_SET_META_CONTEXT data: u32 export name length, name, u32 number of queries,
 * that many (u32 length, query); nothing after. Names and queries are strings (validName).
 */
function parseMetaContextRequest(data: Buffer): { name: string; queries: string[] } | undefined {
  const string = (at: number): [Buffer, number] | undefined => {
    if (at + 4 > data.length) return undefined;
    const length = data.readUInt32BE(at);
    if (length > MAX_STRING || at + 4 + length > data.length) return undefined;
    const bytes = data.subarray(at + 4, at + 4 + length);
    return validName(bytes) ? [bytes, at + 4 + length] : undefined;
  };
  const name = string(0);
  if (!name || name[1] + 4 > data.length) return undefined;
  const count = data.readUInt32BE(name[1]);
  const queries: string[] = [];
  let at = name[1] + 4;
  for (let i = 0; i < count; i++) {
    const query = string(at);
    if (!query) return undefined;
    queries.push(query[0].toString('utf8'));
    at = query[1];
  }
  if (at !== data.length) return undefined;
  return { name: name[0].toString('utf8'), queries };
}

/** A string is UTF-8 without NUL, at most 4096 bytes (proto.md "Conventions"). */
function validName(bytes: Buffer): boolean {
  if (bytes.length > MAX_STRING || bytes.includes(0)) return false;
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** For NBD_OPT_EXPORT_NAME, which cannot answer with an error: any failure is "no such export". */
async function openQuietly(exports: VolumeExports, name: string): Promise<BlockDevice | undefined> {
  try {
    return await exports.open(name);
  } catch {
    return undefined;
  }
}
