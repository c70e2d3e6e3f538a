import type { Image } from './ingest.ts';
import type { RowError } from './messages.ts';

/** Largest photo or signature the handheld may send, decoded. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

const DATA_URL = /^data:image\/(jpeg|jpg|png);base64,([A-Za-z0-9+/\s]*={0,2})$/;

/**
 * A photo or signature from the handheld: a base64 data URL of a JPEG or PNG image, at most
 * MAX_IMAGE_BYTES. The bytes must really be that kind of image (its magic number), not just say so.
 */
export function parseImage(
  value: string | null | undefined,
  what: 'photo' | 'signature',
): { image: Image | null } | { error: RowError } {
  if (value === null || value === undefined || value === '') return { image: null };
  const words = { what };
  const m = DATA_URL.exec(value);
  if (!m) return { error: { code: 'IMAGE_TYPE', data: words } };
  // base64 is 4 characters per 3 bytes: refuse before decoding something far too large.
  if ((m[2]!.length * 3) / 4 > MAX_IMAGE_BYTES + 4) {
    return { error: { code: 'IMAGE_TOO_LARGE', data: { ...words, maxKb: MAX_IMAGE_BYTES / 1024 } } };
  }
  const bytes = Buffer.from(m[2]!, 'base64');
  if (bytes.length > MAX_IMAGE_BYTES) {
    return { error: { code: 'IMAGE_TOO_LARGE', data: { ...words, maxKb: MAX_IMAGE_BYTES / 1024 } } };
  }
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const isPng =
    bytes.length > 8 &&
    bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const declaredPng = m[1] === 'png';
  if ((declaredPng && !isPng) || (!declaredPng && !isJpeg))
    return { error: { code: 'IMAGE_TYPE', data: words } };
  return { image: { bytes, ext: declaredPng ? 'png' : 'jpg' } };
}
