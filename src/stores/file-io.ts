/**
 * The file operations of a {@link FileStore}: whole writes, directory syncs, and the atomic replacement
 * of the journal by a compacted copy.
 * @module
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';

/** Writes all of `buffer` at the handle's position (the end, for a handle opened to append). */
export async function writeAll(handle: FileHandle, buffer: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
}

/** The file's bytes, or `undefined` if it does not exist. */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes a rename or a new file durable; a no-op where directories cannot be synced (Windows). */
export async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL where directories cannot be synced: the rename is still atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Replaces `path` with `content`, atomically: writes `tmpPath` (opened to append, so its handle can
 * carry on as the journal's), syncs it, renames it over `path`. Resolves with that handle; on a failure
 * `path` is left as it was and `tmpPath` is removed.
 */
export async function replaceFile(path: string, tmpPath: string, content: Uint8Array): Promise<FileHandle> {
  await rm(tmpPath, { force: true });
  const handle = await open(tmpPath, 'ax');
  try {
    await writeAll(handle, content);
    await handle.datasync();
    await rename(tmpPath, path);
    return handle;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(tmpPath, { force: true }).catch(() => {});
    throw error;
  }
}
