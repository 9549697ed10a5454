import { describe, expect, it } from 'vitest';
import { binarize } from './binarize';
import { clampImage, finalLatentMask, latentPreview, maskToGrid, upsampleBilinear } from './latent';

describe('upsampleBilinear (half-pixel centres, edges clamped: contracts.md §6a)', () => {
  it('is the hand computation on a 2×2 map taken to 4×4', () => {
    // along an axis of 2 → 4 the sample points are −¼ (→ 0), ¼, ¾ and 1¼ (past the edge: the edge)
    // so [a, b] → [a, ¾a + ¼b, ¼a + ¾b, b]; rows first, then columns
    const got = upsampleBilinear(Float32Array.of(0, 1, 2, 3), 2, 2, 4, 4);
    expect(Array.from(got)).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });
  it("equals PyTorch's F.interpolate(mode='bilinear', align_corners=False) on 3×2 → 6×4", () => {
    // torch.manual_seed(0); src = torch.randn(1, 1, 3, 2); F.interpolate(src, size=(6, 4), …) (PyTorch 1.13)
    const src = Float32Array.of(1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991, -1.0845223665237427, -1.3985954523086548);
    const torch = [
      1.5409960746765137, 1.0823898315429688, 0.1651773452758789, -0.293428897857666, 0.6110497117042542, 0.4387963116168976, 0.09428953379392624,
      -0.07796385884284973, -1.2488429546356201, -0.8483906984329224, -0.047486089169979095, 0.35296621918678284, -1.9052226543426514, -1.4097483158111572,
      -0.4187997281551361, 0.07667458057403564, -1.3580890893936157, -1.2452765703201294, -1.0196514129638672, -0.9068387746810913, -1.0845223665237427,
      -1.1630406379699707, -1.3200771808624268, -1.3985954523086548,
    ];
    const got = upsampleBilinear(src, 3, 2, 6, 4);
    for (let i = 0; i < torch.length; i++) expect(Math.abs(got[i] - torch[i])).toBeLessThan(1e-6);
  });
  it('keeps a constant map and the identity size', () => {
    expect(Array.from(upsampleBilinear(new Float32Array(4).fill(0.3), 2, 2, 8, 8))).toEqual(new Array(64).fill(Math.fround(0.3)));
    const src = Float32Array.of(1, -2, 3, 0.5, 7, -1);
    expect(upsampleBilinear(src, 2, 3, 2, 3)).toEqual(src);
  });
});

describe('maskToGrid (a cell is lesion where ≥ ½ of it is)', () => {
  it('counts the lesion pixels of each f×f cell', () => {
    // 4×4, f = 2: cells with 0, 1, 2 and 4 lesion pixels
    const m = Float32Array.from(
      [
        [-1, -1, 1, -1],
        [-1, -1, -1, -1],
        [1, 1, 1, 1],
        [-1, -1, 1, 1],
      ].flat(),
    );
    expect(Array.from(maskToGrid(m, 4, 4, 2))).toEqual([-1, -1, 1, 1]);
  });
  it('refuses a size the factor does not divide', () => {
    expect(() => maskToGrid(new Float32Array(12), 3, 4, 2)).toThrow('3×4 is not a multiple of 2');
  });
});

describe('the final pair and the previews', () => {
  it('the mask is B(·) of the upsampled x̂₀ at [H, W]', () => {
    const x0 = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
    expect(finalLatentMask(x0, [4, 4], [16, 16])).toEqual(binarize(upsampleBilinear(x0, 4, 4, 16, 16), 16, 16));
  });
  it('the image is clamped to [−1, 1]', () => {
    expect(Array.from(clampImage(Float32Array.of(-3, -0.5, 0, 2)))).toEqual([-1, -0.5, 0, 1]);
  });
  it('the preview is Σ_c w_c·ẑ₀[c] + bias per grid cell, clamped', () => {
    // C = 2 channels of n = 3 cells, row-major [C, n]
    const z0 = Float32Array.of(1, 2, -4, 0.5, 0, 1);
    const got = latentPreview(z0, { weights: [0.25, -0.5], bias: 0.1 }, 3);
    expect(Array.from(got)).toEqual([Math.fround(0.25 - 0.25 + 0.1), Math.fround(0.5 + 0.1), -1]);
    expect(() => latentPreview(z0, { weights: [1, 1, 1], bias: 0 }, 3)).toThrow('6 values for 3×3');
  });
});
