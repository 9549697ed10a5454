// A user's file → decoded pixels for core/condition.ts, with the browser's own decoders (any format
// it can show: PNG, JPEG, WebP, BMP, GIF, AVIF …). 16-bit PNGs arrive as 8 bits per sample.
// Before decoding, the header is read (core/image-header.ts): a file of more than MAX_UPLOAD_PIXELS
// is refused without being decoded, and what the user should know (an animation of which only the
// first frame is used, 16-bit samples read as 8) comes back as `note`.
import type { PixelImage } from '../../core/condition';
import { headerNote, readImageHeader, uploadSizeProblem } from '../../core/image-header';

/** Decoded pixels, and what was done to read them that the upload's note should say (or null). */
export type DecodedImage = PixelImage & { note?: string | null };

/** Bytes read for the header: JPEG's size marker can sit after a large EXIF block; GIF frames are counted in them. */
const HEADER_BYTES = 1 << 20;

/** Decodes an image file; rejects with an Error saying what is wrong (the caller names the file). */
export async function decodeImageFile(file: Blob): Promise<DecodedImage> {
  if (file.size === 0) throw new Error('the file is empty (0 bytes).');
  const header = readImageHeader(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
  const tooLarge = header && uploadSizeProblem(header.width, header.height);
  if (tooLarge) throw new Error(tooLarge);
  let bitmap: ImageBitmap;
  try {
    // no colour management or premultiplication: the gray values stay the file's own
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    const why = e instanceof Error && e.message ? ` (${e.message})` : '';
    throw new Error(`it is not an image this browser can decode${file.type ? ` (type ${file.type})` : ''}${why}.`);
  }
  try {
    const { width, height } = bitmap;
    if (width === 0 || height === 0) throw new Error(`it has no pixels (${width}×${height}).`);
    // a format whose header we do not read (AVIF …): checked before its pixels are copied out
    const decodedTooLarge = uploadSizeProblem(width, height);
    if (decodedTooLarge) throw new Error(decodedTooLarge);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('This browser offers no 2D canvas to read the image with.');
    ctx.drawImage(bitmap, 0, 0);
    return { width, height, channels: 4, bitDepth: 8, data: ctx.getImageData(0, 0, width, height).data, note: header ? headerNote(header) : null };
  } finally {
    bitmap.close();
  }
}
