import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { currentDocument, generateSchema, SCHEMA_FILE } from '../scripts/schema';

describe('src/schema.d.ts', () => {
  it('is what openapi-typescript generates from the hub’s current OpenAPI document', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    const generated = await generateSchema(currentDocument());
    expect(committed, 'stale: run `npm run generate -w @wxhub/client` and commit it').toBe(
      generated,
    );
  });
});
