// The table schema shipped with the package is valid JSON Schema (the runtime compiles it
// without checking it against the meta-schema, to load tables faster).
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';

const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (options: object) => {
  validateSchema(schema: object): boolean;
  compile(schema: object): unknown;
  errors?: unknown;
};

describe('the precompiled table validator', () => {
  it('counts string lengths in code points, as JSON Schema does (a reason of 4,096 emoji is allowed, 4,097 is not)', async () => {
    const { compileSource } = await import('../../src/compiler/compile.js');
    const { tableDigest } = await import('../../src/runtime/canonical.js');
    const { Evaluator } = await import('../../src/runtime/evaluator.js');
    const base = compileSource('deny * einit *;', { filename: 'a.sgxpol' }).table!;
    const withReason = (reason: string) => {
      const table = structuredClone(base) as unknown as Record<string, unknown> & { rules: unknown[][] };
      table.rules[0][5] = reason;
      table.digest = tableDigest(table);
      return table;
    };
    expect(() => Evaluator.fromTable(withReason('\u{1F600}'.repeat(4096)))).not.toThrow();
    expect(() => Evaluator.fromTable(withReason('\u{1F600}'.repeat(4097)))).toThrow(/schema at \/rules\/0\/5/);
    expect(() => Evaluator.fromTable(withReason('x'.repeat(4097)))).toThrow(/schema/);
  });
});

describe('schemas', () => {
  it('the runtime\'s precompiled table validator is up to date with the schema (else: npm run generate)', async () => {
    // @ts-expect-error a plain .mjs script without types
    const { tableValidatorSource } = await import('../../scripts/table-validator.mjs');
    const committed = readFileSync(new URL('../../src/runtime/table-validator.generated.ts', import.meta.url), 'utf8');
    expect(committed === tableValidatorSource()).toBe(true);
  });

  for (const name of ['table.schema.json']) {
    it(`${name} is valid against the meta-schema and compiles in strict mode`, () => {
      const schema = JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
      const ajv = new Ajv({ strict: true });
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
      expect(() => ajv.compile(schema)).not.toThrow();
    });
  }
});
