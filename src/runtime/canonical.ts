// Canonical JSON for the table digest (SPEC 6): object keys sorted by UTF-16 code units at every
// level, no whitespace, strings and numbers as JSON.stringify writes them. Shared by the compiler
// (which writes the digest) and the loader (which checks it).
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    // Strings, finite numbers and booleans; anything else (undefined, NaN) cannot be in a
    // schema-valid table, and JSON.stringify's `null` keeps the function total.
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out);
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    if (record[key] === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(record[key], out);
  }
  out.push('}');
}

/** `sha256:` + hex of the canonical JSON of `table` without its `digest` field. */
export function tableDigest(table: Record<string, unknown>): string {
  const { digest: _ignored, ...content } = table;
  void _ignored;
  return 'sha256:' + createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}
