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

/**
 * The table without its digest, serialized with the top-level keys sorted and everything below
 * them as JSON.stringify writes it (keys in their own order). When every nested object already
 * has its keys in sorted order — as the compiler builds them — this *is* the canonical JSON, and
 * it costs one native JSON.stringify per field instead of a sort per object.
 */
function fastSerialization(table: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(table).sort()) {
    if (key === 'digest' || table[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(table[key])}`);
  }
  return `{${parts.join(',')}}`;
}

const sha256 = (text: string) => 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex');

/** `sha256:` + hex of the canonical JSON of `table` without its `digest` field. */
export function tableDigest(table: Record<string, unknown>): string {
  const { digest: _ignored, ...content } = table;
  void _ignored;
  return sha256(canonicalJson(content));
}

/**
 * The digest of a table whose nested objects all have sorted keys (the compiler's own tables).
 * Equal to `tableDigest` for such tables; a test holds the compiler to that.
 */
export function sortedTableDigest(table: Record<string, unknown>): string {
  return sha256(fastSerialization(table));
}

/**
 * Whether `table.digest` is the digest of its content. Tries the fast serialization first: if
 * its hash matches, that text is the canonical JSON of the content (two JSON texts with the same
 * SHA-256 are the same text, and a JSON text determines its value), so the content is exactly
 * what was digested. Otherwise (a table re-serialized with other key orders) it canonicalizes
 * fully.
 */
export function digestMatches(table: Record<string, unknown>): boolean {
  const digest = table.digest;
  return sortedTableDigest(table) === digest || tableDigest(table) === digest;
}
