// What a "character" is (SPEC 3.4 globs, SPEC 10 limits): one Unicode code point, as a JS
// string's iterator yields them. A surrogate pair is one character; a lone surrogate (possible
// in a JS string or a JSON `\ud800` escape, never in UTF-8 policy text) is one character too.
// Globs, the request validator and the compiler's length limits all count this way, as JSON
// Schema's `maxLength` does in the table schema.

/** The number of characters (code points) in `text`. */
export function codePointLength(text: string): number {
  const units = text.length;
  let n = units;
  for (let i = 0; i < units - 1; i++) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}

/** Whether `text` is longer than `max` characters (code points), without counting them when its UTF-16 length settles it. */
export function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  return codePointLength(text) > max;
}

/** Whether `text` contains a surrogate that is not part of a pair. */
export function hasLoneSurrogate(text: string): boolean {
  return loneSurrogateAt(text) >= 0;
}

/** The offset of the first surrogate in `text` that is not part of a pair, or -1. */
export function loneSurrogateAt(text: string): number {
  const units = text.length;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    if ((c & 0xf800) !== 0xd800) continue;
    if ((c & 0xfc00) === 0xd800 && i + 1 < units && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    else return i;
  }
  return -1;
}

/** Strings longer than this many UTF-16 units are not counted for a message (`characterCount`). */
const COUNTED_UNITS = 65536;

/**
 * How many characters `text` has, for a message: exact for strings of up to 65,536 UTF-16
 * units; a longer one (a hostile request, say) is "more than 32768" without being read through.
 */
export function characterCount(text: string): string {
  return text.length > COUNTED_UNITS ? `more than ${COUNTED_UNITS / 2}` : String(codePointLength(text));
}

/** The first `max` characters of `text` (never half of a surrogate pair), or all of it. */
export function clipCharacters(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 && (text.charCodeAt(max) & 0xfc00) === 0xdc00 ? max - 1 : max;
  return text.slice(0, end);
}
