// Tests read what we write with real readers: Debian's Python (zipfile, numpy, PIL), as a user would.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** True when /usr/bin/python3 imports every module named. */
export function pythonHas(...modules: string[]): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `script` with argv[1:] = args and returns what it printed to stdout, parsed as JSON. */
export function runPythonJson<T = unknown>(script: string, ...args: string[]): T {
  const out = execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  return JSON.parse(out) as T;
}
