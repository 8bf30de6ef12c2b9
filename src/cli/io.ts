// What a command may touch: three streams and a working directory. Tests pass their own.
import { constants } from 'node:fs';
import { access, open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: AsyncIterable<string | Uint8Array>;
  /** Relative paths on the command line are resolved against this. */
  cwd: string;
}

/**
 * A mistake the user can make (a missing file, bad JSON, a refused table). `run` prints its
 * message as one line `sgxpol: …` and exits 1; no stack trace.
 */
export class UserError extends Error {}

/** Largest request, case file or SIGSTRUCT read whole: SPEC 10's source-file limit. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
/** Largest compiled table read whole: a policy at SPEC 10's rule limit compiles to more than 16 MiB. */
export const MAX_TABLE_BYTES = 256 * 1024 * 1024;

export function absolute(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}

/** Reads a file the user named, turning every failure into a UserError that names the file. */
export async function readUserFile(io: CliIo, path: string, what: string, limit = MAX_INPUT_BYTES): Promise<Buffer> {
  const full = absolute(io, path);
  try {
    const info = await stat(full);
    if (info.isDirectory()) throw new UserError(`${what} ${path} is a directory, not a file`);
    if (info.size > limit) throw new UserError(`${what} ${path} is too large (${info.size} bytes; the limit is ${limit})`);
    if (info.isFile()) return await readFile(full);
    // A pipe or a device (`<(…)`, /dev/stdin, /dev/zero) has no size to check beforehand: it is
    // read up to the limit, and refused past it.
    return await readAtMost(full, limit, `${what} ${path} is too large (over ${limit} bytes)`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${what} ${path}: ${systemReason(e)}`);
  }
}

/** The bytes of `path`, read until its end or until more than `limit` have come (a UserError). */
async function readAtMost(path: string, limit: number, tooLarge: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    // One scratch buffer, and a copy of each read's bytes: a pipe gives 64 KiB a read, and
    // keeping slices of fresh 1 MiB buffers would hold 16 times the input.
    const scratch = Buffer.allocUnsafe(1 << 20);
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(scratch, 0, Math.min(scratch.length, limit + 1 - size), null);
      if (bytesRead === 0) return Buffer.concat(chunks, size);
      size += bytesRead;
      if (size > limit) throw new UserError(tooLarge);
      chunks.push(Buffer.from(scratch.subarray(0, bytesRead)));
    }
  } finally {
    await handle.close();
  }
}

/**
 * Checks that a file the user named can be opened for reading, without reading it (the
 * compiler reads policy sources itself and reports their size limit as a diagnostic).
 */
export async function assertReadableFile(io: CliIo, path: string, what: string): Promise<void> {
  const full = absolute(io, path);
  try {
    const info = await stat(full);
    if (info.isDirectory()) throw new UserError(`${what} ${path} is a directory, not a file`);
    await access(full, constants.R_OK);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${what} ${path}: ${systemReason(e)}`);
  }
}

export async function readStdin(io: CliIo): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) throw new UserError(`standard input is too large (over ${MAX_INPUT_BYTES} bytes)`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** Parses JSON the user supplied; `where` names it in the error ("request file r.json"). */
export function parseUserJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new UserError(`${where} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** "no such file or directory" rather than "ENOENT: no such file or directory, open '/abs/…'". */
export function systemReason(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    switch ((e as { code: unknown }).code) {
      case 'ENOENT':
        return 'no such file or directory';
      case 'EACCES':
      case 'EPERM':
        return 'permission denied';
      case 'EISDIR':
        return 'is a directory';
      case 'ENOTDIR':
        return 'a component of the path is not a directory';
    }
  }
  return e instanceof Error ? e.message : String(e);
}
