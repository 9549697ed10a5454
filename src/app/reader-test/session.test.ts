import { describe, expect, it } from 'vitest';
import { answersCsv, exportBaseName, maxPairsFor, mixedCases, modelSha256, type ReaderCase } from './session';

const kase = (truth: ReaderCase['truth'], source: string): ReaderCase => ({ truth, gray: new Uint8Array(1), mask: null, source });

describe('reader test session', () => {
  it('mixes the cases in an order set by the seed alone', () => {
    const synthetic = [0, 1, 2, 3].map((i) => kase('synthetic', `seed ${i}`));
    const real = [0, 1, 2, 3].map((i) => kase('real', `r${i}.png`));
    const order = (seed: number) => mixedCases(synthetic, real, seed).map((c) => c.source);
    expect(order(5)).toEqual(order(5));
    expect(order(5).slice().sort()).toEqual([...synthetic, ...real].map((c) => c.source).sort());
    expect(order(5)).not.toEqual(order(6));
  });

  it('bounds N so that the pixels of 2N cases stay under 256 MiB', () => {
    expect(maxPairsFor(64 * 64)).toBe(200);
    expect(maxPairsFor(1024 * 1024)).toBe(64); // 256 MiB / (4 bytes × 1 Mi pixels)
    expect(maxPairsFor(4096 * 4096)).toBe(4);
  });

  it('writes the CSV with quoting, and a file name that a spreadsheet would run as a formula as text', () => {
    const cases = [kase('real', '=HYPERLINK("x"),1.png'), kase('synthetic', 'seed 3')];
    const csv = answersCsv({
      cases,
      answers: [
        { answer: 'synthetic', confidence: 2, timeMs: 10 },
        { answer: 'synthetic', confidence: null, timeMs: 5 },
      ],
    });
    expect(csv).toBe(
      'case,truth,answer,confidence,score,time_ms,source\r\n1,real,synthetic,2,7,10,"\'=HYPERLINK(""x""),1.png"\r\n2,synthetic,synthetic,,8,5,seed 3\r\n',
    );
  });

  it('hashes the model files in role order; names the downloads by model and time', async () => {
    const files = { mask: { file: 'mask.onnx', sha256: 'a'.repeat(64) }, image: { file: 'image.onnx', sha256: 'b'.repeat(64) } };
    // sha256 of "image image.onnx bbb…\nmask mask.onnx aaa…\n" (printf … | sha256sum)
    expect(await modelSha256(files)).toBe(await modelSha256({ image: files.image, mask: files.mask }));
    expect(await modelSha256(files)).toBe(GOLDEN_MODEL_SHA256);
    expect(exportBaseName({ model: { name: 'busbra 64' } as never, createdAt: '2025-03-04T05:06:07.890Z' })).toBe('reader-test_busbra-64_20250304-050607');
  });
});

const GOLDEN_MODEL_SHA256 = 'c0170f97210ad187cfdd1cab5d0412d3b179c4234201082497afab7945d088fb';
