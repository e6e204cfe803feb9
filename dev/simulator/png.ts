import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/** Side of the simulated code in modules; each module is {@link SCALE} pixels. */
const MODULES = 29;
const SCALE = 4;

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([head, typed, crc]);
}

/**
 * A real PNG (8-bit greyscale, 116×116) standing in for a mini program code: its modules drawn
 * from sha256 of `seed`, and `comment` kept in a `tEXt` chunk. Any decoder opens it; any text
 * re-encoding of the bytes breaks it.
 */
export function codePng(seed: string, comment: string): Uint8Array {
  const side = MODULES * SCALE;
  let bits = createHash('sha256').update(seed).digest();
  while (bits.length * 8 < MODULES * MODULES) {
    bits = Buffer.concat([bits, createHash('sha256').update(bits).digest()]);
  }
  const dark = (x: number, y: number) => {
    const i = y * MODULES + x;
    return (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) === 1;
  };
  const raw = Buffer.alloc((side + 1) * side);
  for (let py = 0; py < side; py += 1) {
    raw[py * (side + 1)] = 0; // filter: none
    for (let px = 0; px < side; px += 1) {
      raw[py * (side + 1) + 1 + px] = dark(Math.floor(px / SCALE), Math.floor(py / SCALE))
        ? 0
        : 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`Comment\0${comment}`, 'latin1')),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
