/**
 * The config validator is compiled ahead of time (ajv standalone) into a committed module, so a
 * start neither loads ajv nor compiles the schema. `npm run gen:types` runs this file with
 * --update, which rewrites the module; without it, this test fails when the module no longer
 * matches schemas/bots.schema.json.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';

// ajv's standalone entry is CommonJS whose default export TypeScript and vitest see differently.
const standalone = (
  createRequire(import.meta.url)('ajv/dist/standalone/index.js') as {
    default: (ajv: Ajv, validate: ValidateFunction) => string;
  }
).default;

const GENERATED = '../../src/config/validate-config.generated.ts';
const BANNER = `// @ts-nocheck: ajv's standalone output, plain JavaScript.
/**
 * Generated from schemas/bots.schema.json by \`npm run gen:types\` (ajv standalone). Do not edit
 * by hand: change the schema and regenerate; test/config/generated-validator.test.ts fails on drift.
 */
`;

/** ajv's standalone ESM output still \`require\`s its small runtime helpers (ucs2length for
 * maxLength): give the module a \`require\` of its own. */
function asEsm(code: string): string {
  const body = code.replace(/^"use strict";/, '');
  const header = body.includes('require(')
    ? "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n"
    : '';
  return `${BANNER}${header}${body}\n`;
}

describe('generated config validator', () => {
  it('matches schemas/bots.schema.json', async () => {
    const schema = JSON.parse(await readFile(new URL('../../schemas/bots.schema.json', import.meta.url), 'utf8'));
    // The options botfleet validates with: every error, strict schema, full error objects.
    const ajv = new Ajv({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      verbose: true,
      code: { source: true, esm: true },
    });
    // Editors (VS Code, yaml-language-server) show `patternErrorMessage`; so does botfleet.
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    const source = asEsm(standalone(ajv, ajv.compile(schema)));
    await expect(source).toMatchFileSnapshot(GENERATED);
  });
});
