// What an image file says about itself before anything decodes it: its format (by magic bytes)
// and the width and height in its header. Read so that a 20000×20000 header is refused before
// stb_image allocates its pixels, and so that bytes in a format Hearth does not take never reach a
// decoder. Pure byte reading; shared by the API (early 400) and the runner (its own check).

export type ImageFormat = "png" | "jpeg" | "gif" | "bmp";

/** Largest width or height Hearth takes (llama-server has no limit; stb_image's is 2^24). */
export const MAX_IMAGE_SIDE = 8192;

export interface ImageHeader {
  format: ImageFormat;
  /** 0 when the header is cut short before the size (the decoder then decides). */
  width: number;
  height: number;
}

const startsWith = (b: Uint8Array, sig: number[]) => b.length >= sig.length && sig.every((v, i) => b[i] === v);
const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const i32le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

/** The format and size an image's bytes declare, or null when they are none of PNG, JPEG, GIF, BMP. */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    // IHDR is the first chunk: length(4) "IHDR"(4) width(4) height(4).
    return b.length >= 24 ? { format: "png", width: u32be(b, 16), height: u32be(b, 20) } : { format: "png", width: 0, height: 0 };
  }
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { format: "jpeg", ...jpegSize(b) };
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38])) {
    return b.length >= 10 ? { format: "gif", width: u16le(b, 6), height: u16le(b, 8) } : { format: "gif", width: 0, height: 0 };
  }
  if (startsWith(b, [0x42, 0x4d])) {
    // BITMAPINFOHEADER: width at 18, height at 22 (negative: top-down).
    return b.length >= 26 ? { format: "bmp", width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) } : { format: "bmp", width: 0, height: 0 };
  }
  return null;
}

/** The size in the first start-of-frame marker (SOF0..SOF15 but DHT, JPG and DAC). */
function jpegSize(b: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return { width: 0, height: 0 };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, i + 5), width: u16be(b, i + 7) };
    }
    i += 2 + u16be(b, i + 2);
  }
  return { width: 0, height: 0 };
}

/** Why these bytes are not an image Hearth takes, or null when the header is fine. */
export function imageHeaderProblem(b: Uint8Array): string | null {
  const header = readImageHeader(b);
  if (!header) return "is not a PNG, JPEG, GIF or BMP image";
  if (header.width > MAX_IMAGE_SIDE || header.height > MAX_IMAGE_SIDE) {
    return `is ${header.width}×${header.height} pixels; the largest side Hearth takes is ${MAX_IMAGE_SIDE}`;
  }
  return null;
}
