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

describe('schemas', () => {
  for (const name of ['table.schema.json']) {
    it(`${name} is valid against the meta-schema and compiles in strict mode`, () => {
      const schema = JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
      const ajv = new Ajv({ strict: true });
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
      expect(() => ajv.compile(schema)).not.toThrow();
    });
  }
});
