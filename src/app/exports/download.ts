// "Download pair": the final image as an 8-bit gray PNG and the mask as a binary (0/255) PNG,
// one base name with the model, seed and steps in it.
import { encodeImagePng, encodeMaskPng } from '../../core/png';
import type { GenerateResult } from '../../worker/api';
import { pairBaseName } from '../format';

/** Saves bytes as a download named `filename` (through a temporary blob: URL). */
export function saveFile(bytes: Uint8Array, filename: string, type = 'image/png'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser has taken the blob by the time the click returns; free it a little later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Encodes both PNGs, then saves them as `<base>_image.png` and `<base>_mask.png`. */
export async function downloadPair(model: string, result: GenerateResult): Promise<string> {
  const base = pairBaseName(model, result.seed, result.steps, result.mode);
  const [image, mask] = await Promise.all([encodeImagePng(result.image, result.width, result.height), encodeMaskPng(result.mask, result.width, result.height)]);
  saveFile(image, `${base}_image.png`);
  saveFile(mask, `${base}_mask.png`);
  return base;
}
