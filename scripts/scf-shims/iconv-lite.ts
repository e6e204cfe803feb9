import { TextDecoder } from 'node:util';

/**
 * Stands in for `iconv-lite` in the SCF bundles (481 KiB of code tables, a third of a bundle's
 * cold start). mysql2 asks it only for charsets Node's `Buffer` does not know: `cesu8` for
 * MySQL's `utf8mb3` metadata (decoded here), and whatever legacy charset a column might have,
 * decoded by Node's `TextDecoder` when it knows it (gbk, gb18030, big5, …). wxhub writes with
 * `utf8mb4` only, so encoding is refused with a clear error instead of garbling text.
 */

interface Decoder {
  write(bytes: Uint8Array): string;
  end(): string | undefined;
}

const REPLACEMENT = '\ufffd';

/**
 * CESU-8: UTF-8 in which characters beyond the BMP are written as two 3-byte surrogates. A
 * sequence cut at the end of `bytes` is kept for the next call.
 */
function cesu8Decoder(): Decoder {
  let pending = Buffer.alloc(0);
  const decode = (input: Uint8Array, final: boolean): string => {
    const b = pending.length === 0 ? Buffer.from(input) : Buffer.concat([pending, input]);
    pending = Buffer.alloc(0);
    let out = '';
    let i = 0;
    while (i < b.length) {
      const c = b[i] ?? 0;
      const need = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
      if (need < 0) {
        out += REPLACEMENT;
        i += 1;
        continue;
      }
      if (i + need >= b.length && need > 0) {
        if (!final) {
          pending = b.subarray(i);
          break;
        }
        out += REPLACEMENT;
        break;
      }
      let code = need === 0 ? c : c & (0x3f >> need);
      let ok = true;
      for (let k = 1; k <= need; k++) {
        const t = b[i + k] ?? 0;
        if ((t & 0xc0) !== 0x80) ok = false;
        code = (code << 6) | (t & 0x3f);
      }
      if (!ok) {
        out += REPLACEMENT;
        i += 1;
        continue;
      }
      // Surrogate halves come out as UTF-16 code units, so a pair joins into one character.
      out += code > 0xffff ? String.fromCodePoint(code) : String.fromCharCode(code);
      i += need + 1;
    }
    return out;
  };
  return {
    write: (bytes) => decode(bytes, false),
    end: () => decode(new Uint8Array(0), true) || undefined,
  };
}

export function getDecoder(encoding: string): Decoder {
  if (encoding.toLowerCase() === 'cesu8') return cesu8Decoder();
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    throw new Error(
      `charset ${encoding} is not supported by this build (wxhub connects with utf8mb4)`,
    );
  }
  return {
    write: (bytes) => decoder.decode(bytes, { stream: true }),
    end: () => decoder.decode() || undefined,
  };
}

export function getEncoder(encoding: string): never {
  throw new Error(
    `writing text as ${encoding} is not supported by this build (wxhub connects with utf8mb4)`,
  );
}
