import { FileHandle, mkdir, open } from 'node:fs/promises';

/**
 * A rename or a new directory entry is durable only once its directory is fsynced (POSIX leaves it to the
 * file system; on ext4/xfs a crash can otherwise lose the entry while the data blocks survive).
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes dir (mode 0700) if missing; when it was new, fsyncs its parent so the directory itself survives a crash. */
export async function ensureDir(dir: string, parent: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await fsyncDir(parent);
}

/** Writes all of buf at the handle's current position (a write may be partial). */
export async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await handle.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/** Writes all of `bufs`, in order, at the handle's current position (writev may be partial: it carries on where it stopped). */
export async function writevAll(handle: FileHandle, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    let k = 0;
    while (k < rest.length && bytesWritten >= rest[k]!.length) bytesWritten -= rest[k++]!.length;
    rest = rest.slice(k);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}
