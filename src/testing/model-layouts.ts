// The bundled tiny pair in the layout before shared weights files (each graph holding its weights,
// manifests without `weights`), made on the fly from public/models/tiny by the kit's own inliner
// (pigkit.share_weights --inline, Debian's Python with onnx): the folders users exported before
// must keep opening. The inlined graphs are, byte for byte, what a self-contained export writes
// (training/tests/test_share_weights.py), so their SHA-256s are the old folder's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, pythonHas } from './python';

export const TINY_DIR = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const TRAINING = fileURLToPath(new URL('../../training/', import.meta.url));

/** Whether the self-contained copy can be made here (Debian's python3 with onnx). */
export const canInline = pythonHas('onnx');

let made: string | null = null;

/** A self-contained copy of the tiny folder (made once per test process, in a temporary folder). */
export function selfContainedTiny(): string {
  if (!made) {
    const dest = join(mkdtempSync(join(tmpdir(), 'pig-tiny-old-')), 'tiny');
    execFileSync(PYTHON, ['-m', 'pigkit.share_weights', '--model', TINY_DIR, '--inline', dest], { cwd: TRAINING, stdio: 'pipe' });
    made = dest;
  }
  return made;
}
