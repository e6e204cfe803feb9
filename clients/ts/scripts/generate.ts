import { writeFile } from 'node:fs/promises';
import { currentDocument, generateSchema, SCHEMA_FILE } from './schema';

// `npm run generate -w @wxhub/client`: src/schema.d.ts from the hub's current OpenAPI document.
await writeFile(SCHEMA_FILE, await generateSchema(currentDocument()));
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
