import { createHash } from 'node:crypto';

/** Characters WeChat allows in a `scene` (docs: `[0-9A-Za-z!#$&'*+,/:;=?@-._~]`). */
const SCENE_PATTERN = /^[0-9A-Za-z!#$&'*+,/:;=?@\-._~]{1,32}$/;

/** Default `width` of getwxacodeunlimit. */
export const DEFAULT_QR_WIDTH = 430;

/** True when `scene` is 1–32 characters from WeChat's allowed set. */
export function isValidScene(scene: unknown): scene is string {
  return typeof scene === 'string' && SCENE_PATTERN.test(scene);
}

/**
 * Deterministic stand-in for a mini-program code image. Layout: JPEG SOI + JFIF APP0 header,
 * a COM segment `wxhub-sim scene=… page=… width=…` (page cut to 512 chars), sha256 of that comment (32 bytes), a
 * 256-byte ramp starting at the digest's first byte (so every byte value including 0x00 and
 * 0x80–0xFF appears), then EOI. Any text re-encoding of the body changes it detectably.
 */
export function wxacodeBytes(
  scene: string,
  page = '',
  width: number = DEFAULT_QR_WIDTH,
): Uint8Array {
  const text = `wxhub-sim scene=${scene} page=${page.slice(0, 512)} width=${width}`;
  const comment = Buffer.from(text, 'utf8');
  const digest = createHash('sha256').update(comment).digest();
  const start = digest[0] ?? 0;
  const ramp = Buffer.alloc(256);
  for (let i = 0; i < 256; i += 1) ramp[i] = (start + i) & 0xff;
  const comLength = Buffer.alloc(2);
  comLength.writeUInt16BE(comment.length + 2);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00]),
    Buffer.from([0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    Buffer.from([0xff, 0xfe]),
    comLength,
    comment,
    digest,
    ramp,
    Buffer.from([0xff, 0xd9]),
  ]);
}
