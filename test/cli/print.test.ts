// SPEC 8: diagnostics as `FILE:LINE:COL: error[CODE]: message`, the source line and a caret.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/compiler/diagnostics.js';
import { formatDiagnostic, formatDiagnostics } from '../../src/cli/print.js';

const source = 'policy "p" version 1;\nallow aesmd einit signer intle;\n\tdeny * einit *;\n';
const sources = new Map([['host.sgxpol', source]]);

function diag(over: Partial<Diagnostic>): Diagnostic {
  return { code: 'E101', severity: 'error', message: 'unknown signer `intle`; did you mean `intel`?', file: 'host.sgxpol', line: 2, column: 26, ...over };
}

describe('formatDiagnostic', () => {
  it('prints the header, the source line and a caret under the column', () => {
    expect(formatDiagnostic(diag({}), sources)).toBe(
      'host.sgxpol:2:26: error[E101]: unknown signer `intle`; did you mean `intel`?\n' +
        '    allow aesmd einit signer intle;\n' +
        '                             ^\n',
    );
  });

  it('prints warnings as warning[CODE]', () => {
    expect(formatDiagnostic(diag({ severity: 'warning', code: 'W003', message: 'permissive default', line: 1, column: 1 }), sources)).toMatch(
      /^host\.sgxpol:1:1: warning\[W003\]: permissive default\n {4}policy "p" version 1;\n {4}\^\n$/,
    );
  });

  it('keeps tabs in the caret padding so the caret stays aligned', () => {
    const text = formatDiagnostic(diag({ line: 3, column: 7 }), sources);
    expect(text.split('\n')[2]).toBe('    \t     ^');
  });

  it('prints related locations as notes', () => {
    const text = formatDiagnostic(diag({ code: 'E102', message: 'name `x` defined twice', related: [{ file: 'a.sgxpol', line: 4, column: 8, message: 'first defined here' }] }), sources);
    expect(text).toContain('\n  note: a.sgxpol:4:8: first defined here\n');
  });

  it('prints only the header when the source is unknown or the line is past the end', () => {
    expect(formatDiagnostic(diag({ file: 'other.sgxpol' }), sources)).toBe('other.sgxpol:2:26: error[E101]: unknown signer `intle`; did you mean `intel`?\n');
    expect(formatDiagnostic(diag({ line: 99 }), sources).split('\n')).toHaveLength(2);
  });

  it('shows a window of a very long line, with the caret still under the column', () => {
    const long = 'a'.repeat(5000) + 'X' + 'b'.repeat(5000);
    const text = formatDiagnostic(diag({ file: 'long.sgxpol', line: 1, column: 5001 }), new Map([['long.sgxpol', long]]));
    const [, shown, caret] = text.split('\n');
    expect(shown.length).toBeLessThan(200);
    expect(shown[caret.indexOf('^')]).toBe('X');
  });
});

describe('formatDiagnostics', () => {
  it('shows the right line for each of 100,000 diagnostics on a 100,000-line file, the empty line after the last newline, and nothing past it', () => {
    // Each line used to be found by scanning from the top: quadratic (130,000 warnings, 53 s).
    const lines = Array.from({ length: 100_000 }, (_, i) => `allow c${i} einit *;`);
    const text = lines.join('\n') + '\n';
    const many = new Map([['big.sgxpol', text]]);
    const diagnostics = lines.map((_, i) => diag({ file: 'big.sgxpol', line: i + 1, column: 1, severity: 'warning', code: 'W002', message: 'm' }));
    const shown = formatDiagnostics(diagnostics, many).split('\n');
    expect(shown.length).toBe(3 * 100_000 + 1);
    expect(shown[1]).toBe('    allow c0 einit *;');
    expect(shown[3 * 54_321 + 1]).toBe('    allow c54321 einit *;');
    expect(shown[3 * 99_999 + 1]).toBe('    allow c99999 einit *;');
    expect(formatDiagnostic(diag({ file: 'big.sgxpol', line: 100_001, column: 1 }), many).split('\n')[1]).toBe('    ');
    expect(formatDiagnostic(diag({ file: 'big.sgxpol', line: 100_002, column: 1 }), many).split('\n')).toHaveLength(2);
  });
});
