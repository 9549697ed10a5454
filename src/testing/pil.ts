// Test helper: reads a PNG / APNG with Debian's Python PIL (a real reader, not our own code) in a
// child process and returns what PIL sees.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON } from './python';

export interface PilReading {
  format: string;
  mode: string;
  size: [number, number];
  n_frames: number;
  is_animated: boolean;
  loop: number | null;
  /** Per frame: its duration (ms) and its pixel values, row-major, channels interleaved. */
  frames: { duration: number | null; pixels: number[] }[];
}

const READ_WITH_PIL = `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
out = {"format": im.format, "mode": im.mode, "size": list(im.size), "n_frames": getattr(im, "n_frames", 1),
       "is_animated": getattr(im, "is_animated", False), "loop": im.info.get("loop"), "frames": []}
for i in range(out["n_frames"]):
    im.seek(i)
    out["frames"].append({"duration": im.info.get("duration"), "pixels": [v for px in im.getdata() for v in (px if isinstance(px, tuple) else (px,))]})
print(json.dumps(out))
`;

export function readWithPil(bytes: Uint8Array): PilReading {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: these tests read PNGs with PIL (apt-get install -y python3-pil)`);
  const dir = mkdtempSync(join(tmpdir(), 'pil-read-'));
  try {
    const file = join(dir, 'file.png');
    writeFileSync(file, bytes);
    const json = execFileSync(PYTHON, ['-c', READ_WITH_PIL, file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return JSON.parse(json) as PilReading;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
