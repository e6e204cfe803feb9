/**
 * Parses `WXHUB_SECRET_KEY`: one base64 key of exactly 32 bytes, or several separated by commas
 * for rotation (the first encrypts, all decrypt). Returns an error message that never contains
 * key material.
 */
export function parseSecretKeys(value: string): { keys: Buffer[] } | { error: string } {
  const parts = value.split(',').map((p) => p.trim());
  const keys: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    const label = parts.length > 1 ? `key #${i + 1}` : 'the key';
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(part)) {
      return { error: `${label} is not base64` };
    }
    const bytes = Buffer.from(part, 'base64');
    if (bytes.length !== 32) {
      return { error: `${label} must decode to exactly 32 bytes (got ${bytes.length})` };
    }
    keys.push(bytes);
  }
  return { keys };
}
