// The batch CLI as a user runs it, for the tests of src/cli: a child process of
// `node --import tsx src/cli/generate.ts` (in this one process: the tsx binary would fork a child,
// which a SIGKILL of the parent would leave running), and a folder's files by SHA-256 to compare.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const tiny = join(root, 'public/models/tiny');
export const NODE_TSX = ['--import', 'tsx', 'src/cli/generate.ts'];
/** The tiny pair is in the checkout (the CLI tests skip without it). */
export const present = existsSync(join(tiny, 'manifest.json'));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...NODE_TSX, ...args], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Every file under dir: relative path → bytes (as hex of its SHA-256, to compare folders). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
