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
  const units = text.length;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    if ((c & 0xf800) !== 0xd800) continue;
    if ((c & 0xfc00) === 0xd800 && i + 1 < units && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    else return true;
  }
  return false;
}
