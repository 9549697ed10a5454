// `npm test` runs this first: it checks in about a second what the suite needs besides node_modules
// (Debian's Python packages for the kit's tests, Chromium and unzip for the end-to-end tests) and,
// when something is missing, prints the one command that installs it and exits 1 before anything
// long has run. The list is .ci/run's: CI installs exactly these.
//   node scripts/check-test-prerequisites.mjs          check
//   node scripts/check-test-prerequisites.mjs --list   print the Debian packages, one line
// Env: PIGKIT_PYTHON (default /usr/bin/python3, as test:py), CHROMIUM (default /usr/bin/chromium, as the e2e fixtures).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Python module → the Debian package that provides it for /usr/bin/python3. */
export const PYTHON_MODULES = {
  torch: 'python3-torch',
  onnx: 'python3-onnx',
  numpy: 'python3-numpy',
  PIL: 'python3-pil',
  pytest: 'python3-pytest',
  nibabel: 'python3-nibabel',
  // the manifest's schema (schemas/manifest.schema.json) in the kit: pigkit/manifest_schema.py
  jsonschema: 'python3-jsonschema',
};
/** The Debian packages of everything the suite needs besides Python's. */
export const TOOLS = { chromium: 'chromium', unzip: 'unzip' };
export const DEBIAN_PACKAGES = [...Object.values(PYTHON_MODULES), ...Object.values(TOOLS)];

const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;

/**
 * What is missing: Debian packages to install, and problems no package fixes (a custom interpreter,
 * node_modules). `defaults`: the interpreter and browser used where the environment names none.
 */
export function missingPrerequisites(
  env = process.env,
  root = fileURLToPath(new URL('..', import.meta.url)),
  defaults = { python: '/usr/bin/python3', chromium: '/usr/bin/chromium' },
) {
  const packages = [];
  const other = [];
  const python = env.PIGKIT_PYTHON || defaults.python;
  const custom = Boolean(env.PIGKIT_PYTHON);
  // find_spec looks a module up without importing it (torch's import alone takes seconds)
  const probe = spawnSync(
    python,
    ['-c', 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))', ...Object.keys(PYTHON_MODULES)],
    { encoding: 'utf8' },
  );
  if (probe.error || probe.status !== 0) {
    if (custom) other.push(`PIGKIT_PYTHON=${python} does not run (${probe.error?.message ?? probe.stderr.trim()})`);
    else packages.push(...Object.values(PYTHON_MODULES));
  } else {
    const absent = probe.stdout.trim().split(/\s+/).filter(Boolean);
    if (custom && absent.length) other.push(`PIGKIT_PYTHON=${python} lacks the modules ${absent.join(', ')}: install them into that interpreter`);
    else packages.push(...absent.map((m) => PYTHON_MODULES[m]));
  }
  const chromium = env.CHROMIUM || defaults.chromium;
  if (!existsSync(chromium)) {
    if (env.CHROMIUM) other.push(`CHROMIUM=${chromium} does not exist`);
    else packages.push(TOOLS.chromium);
  }
  if (!onPath('unzip')) packages.push(TOOLS.unzip);
  if (!existsSync(`${root}/node_modules/vitest`)) other.push('node_modules is not installed: run `npm ci` first');
  return { packages, other };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--list')) {
    console.log(DEBIAN_PACKAGES.join(' '));
  } else {
    const { packages, other } = missingPrerequisites();
    if (packages.length || other.length) {
      console.error('npm test: missing prerequisites, nothing was run.');
      for (const line of other) console.error(`  ${line}`);
      if (packages.length) console.error(`Install the missing Debian packages (${packages.join(', ')}) with:\n\n  apt-get install -y ${packages.join(' ')}\n`);
      process.exit(1);
    }
    console.log(`npm test: prerequisites present (${DEBIAN_PACKAGES.join(', ')})`);
  }
}
