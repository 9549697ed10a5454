// A user's file → decoded pixels for core/condition.ts, with the browser's own decoders (any format
// it can show: PNG, JPEG, WebP, BMP, GIF, AVIF …). 16-bit PNGs arrive as 8 bits per sample.
import type { PixelImage } from '../core/condition';

/** Decodes an image file; rejects with an Error saying what is wrong (the caller names the file). */
export async function decodeImageFile(file: Blob): Promise<PixelImage> {
  if (file.size === 0) throw new Error('the file is empty (0 bytes).');
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
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('This browser offers no 2D canvas to read the image with.');
    ctx.drawImage(bitmap, 0, 0);
    return { width, height, channels: 4, bitDepth: 8, data: ctx.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
}
