// The batch CLI (onnxruntime-node, CPU) and the studio (onnxruntime-web, WASM) give the same pair
// for the same seed and steps: the CLI's nnU-Net case against the studio's "Download pair".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from '../lib/fixtures.mjs';
import { decodePng, distinctValues } from '../lib/png.mjs';
import { downloadPair, generate, MODEL, openStudio, ROOT, SEED, STEPS, statusText } from '../lib/studio.mjs';

async function runCli(out) {
  const args = [
    '--import',
    'tsx',
    'src/cli/generate.ts',
    '--model',
    `public/models/${MODEL}`,
    '--seed',
    String(SEED),
    '--steps',
    String(STEPS),
    '--count',
    '1',
    '--threads',
    '1',
    '--out',
    out,
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT });
  return stdout;
}

/** The studio's pair for the same seed and steps on WASM: { image, mask } decoded PNGs. */
async function studioPair(env) {
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${STEPS}`);
  assert.match(await statusText(page), /Backend: WASM/);
  await generate(page);
  const files = await downloadPair(page);
  await page.close();
  assert.deepEqual(errors, []);
  return { image: files.image.png, mask: files.mask.png };
}

test('CLI: onnxruntime-node gives the studio’s WASM pair for the same seed and steps', async ({ env }) => {
  // the same model files in the build as in the repo (the CLI reads the repo's)
  const served = await (await fetch(`${env.baseUrl}/models/${MODEL}/manifest.json`)).text();
  assert.equal(
    served,
    await readFile(join(ROOT, 'public/models', MODEL, 'manifest.json'), 'utf8'),
    'the build serves another tiny model than public/models/tiny',
  );
  const out = await mkdtemp(join(tmpdir(), 'pig-e2e-cli-'));
  try {
    await runCli(out);
    const name = `pig_${String(SEED).padStart(10, '0')}`;
    const cliImage = decodePng(await readFile(join(out, 'imagesTr', `${name}_0000.png`)));
    const cliLabel = decodePng(await readFile(join(out, 'labelsTr', `${name}.png`)));
    assert.ok(
      distinctValues(cliLabel.gray).every((v) => v === 0 || v === 1),
      'CLI label is not 0/1',
    );
    const studio = await studioPair(env);
    assert.equal(cliImage.width, studio.image.width);
    assert.equal(cliImage.height, studio.image.height);
    let maxDiff = 0;
    let sumDiff = 0;
    let maskFlips = 0;
    for (let i = 0; i < cliImage.gray.length; i++) {
      const d = Math.abs(cliImage.gray[i] - studio.image.gray[i]);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
      if ((cliLabel.gray[i] === 1) !== (studio.mask.gray[i] === 255)) maskFlips++;
    }
    console.log(
      `       · CLI (ORT-node CPU) vs studio (ORT-web WASM), seed ${SEED}, ${STEPS} steps: image max |Δ| ${maxDiff} / 255, mean ${(sumDiff / cliImage.gray.length).toFixed(4)}; mask pixels differing ${maskFlips}`,
    );
    // Tolerance. Both run the same core loop (the CPU executor: core's DDIM and B(·) in JS) over
    // the same plain U-Nets; only the U-Net kernels differ (native MLAS vs the WASM build: other
    // SIMD widths and summation orders), so ε differs by float32 rounding. Measured in floats by
    // src/cli/parity.test.ts (ORT-web's WASM backend in Node vs ORT-node, tiny pair, seeds
    // 0/7/123): max |Δŷ₀| 1.3e-5 … 1.9e-5 at 4 steps, ≤ 5.5e-5 at 50 steps; max |Δx̂₀| ≤ 4.5e-5;
    // no mask pixel flips. One 8-bit level is 1/127.5 = 7.8e-3 in model units, ~150× more, so the
    // PNGs can differ only where a value sits within ~2e-5 of a rounding boundary: at most one
    // level in a few pixels. Measured here (seed 7, 4 steps, Chromium): max |Δ| 0, identical
    // pixels. A mask flip would need B(·)'s pooled map to cross θ, i.e. a real divergence (a
    // wrong channel, timestep or schedule moves values by > 0.1), so none is allowed.
    assert.ok(maxDiff <= 1, `image differs by ${maxDiff} levels`);
    assert.equal(maskFlips, 0, `${maskFlips} mask pixels differ`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
