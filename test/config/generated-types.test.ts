import { readFile } from 'node:fs/promises';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { describe, expect, it } from 'vitest';

const GENERATED = '../../src/config/bots-config.generated.ts';
const BANNER = `/**
 * Generated from schemas/bots.schema.json by \`npm run gen:types\`. Do not edit by hand:
 * change the schema and regenerate; test/config/generated-types.test.ts fails on drift.
 */`;

describe('generated config types', () => {
  // `npm run gen:types` runs this file with --update, which rewrites the committed file.
  it('match schemas/bots.schema.json', async () => {
    const schema = JSON.parse(
      await readFile(new URL('../../schemas/bots.schema.json', import.meta.url), 'utf8'),
    ) as JSONSchema;
    const source = await compile(schema, 'BotfleetConfigFile', {
      bannerComment: BANNER,
      additionalProperties: false,
      unreachableDefinitions: false,
      strictIndexSignatures: true,
      style: { singleQuote: true, printWidth: 110 },
    });
    await expect(source).toMatchFileSnapshot(GENERATED);
  });
});
