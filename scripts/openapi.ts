import { openApiDocument } from '../functions/openapi-document';

// `npm run openapi > openapi.json`: the OpenAPI 3.1 document of every `/v1/…` route, as
// `GET /openapi.json` serves it (servers: the hub itself, and WXHUB_PUBLIC_URL when set).
const publicUrl = process.env.WXHUB_PUBLIC_URL;
process.stdout.write(
  `${JSON.stringify(openApiDocument(publicUrl === '' ? undefined : publicUrl), null, 2)}\n`,
);
