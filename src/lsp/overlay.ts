// Open documents override the files on disk while the compiler runs.
//
// The compiler's resolver reads imports itself (resolve.ts, through `node:fs`), and has no
// hook for another source of text. So for the length of one synchronous compile, `statSync`
// and `readFileSync` answer from the editor's unsaved text for the open documents' paths, and
// from the disk for everything else; they are put back before anything else can run. A
// `readSource` hook in resolve.ts would be the clean way; until then this stays here, in the
// language server only.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

/** Runs `compile` (which must be synchronous) with `documents` (absolute path → text) in front of the disk. */
export function withDocuments<T>(documents: ReadonlyMap<string, string>, compile: () => T): T {
  if (documents.size === 0) return compile();
  const realRead = fs.readFileSync;
  const realStat = fs.statSync;
  const textOf = (path: unknown): string | undefined => (typeof path === 'string' ? documents.get(resolve(path)) : undefined);
  const patchedRead = function (this: unknown, path: unknown, ...rest: unknown[]) {
    const text = textOf(path);
    if (text === undefined) return (realRead as (...args: unknown[]) => unknown).call(this, path, ...rest);
    const bytes = Buffer.from(text, 'utf8');
    const options = rest[0];
    const encoding = (typeof options === 'string' ? options : (options as { encoding?: string } | undefined)?.encoding) as BufferEncoding | undefined;
    return encoding ? bytes.toString(encoding) : bytes;
  };
  const patchedStat = function (this: unknown, path: unknown, ...rest: unknown[]) {
    const text = textOf(path);
    if (text === undefined) return (realStat as (...args: unknown[]) => unknown).call(this, path, ...rest);
    const size = Buffer.byteLength(text, 'utf8');
    return { isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false, size };
  };
  // `statSync` is typed read-only (an overloaded function), but it is a plain property of the module object.
  const writable = fs as { readFileSync: unknown; statSync: unknown };
  writable.readFileSync = patchedRead;
  writable.statSync = patchedStat;
  syncBuiltinESMExports();
  try {
    return compile();
  } finally {
    writable.readFileSync = realRead;
    writable.statSync = realStat;
    syncBuiltinESMExports();
  }
}
