import { describe, expect, it } from 'vitest';
import { caseSettings } from '../../testing/dataset-case';
import type { DatasetAbout } from './about';
import { datasetCard } from './card';
import type { CaseRecord, DatasetModel } from './nnunet';

const model: DatasetModel = { name: 'm|x', resolution: [8, 8], modality: 'ultrasound', files: { mask: { file: 'mask.onnx', sha256: 'a'.repeat(64) } } };
const about: DatasetAbout = { licence: 'CC BY 4.0', reference: 'Someone et al. (2024)', description: 'Generated.' };
const record = (seed: number, area: number, extra: Partial<CaseRecord> = {}): CaseRecord => ({
  case: `pig_${String(seed).padStart(10, '0')}`,
  ...caseSettings(seed),
  maskAreaFraction: area,
  empty: area === 0,
  files: [],
  ...extra,
});

describe('dataset card (README.md)', () => {
  it('counts, empty masks and lesion-area quantiles (numpy linear) from the records; attributes and rejections where present', () => {
    const records = [record(4, 0.1), record(1, 0), record(2, 0.3), record(3, 0.2, { rejectedSeeds: [7, 11] }), record(9, 0.4)].map((r) =>
      r.seed === 9 ? { ...r, attributes: { pathology: 'malignant' }, guidance: 2 } : r,
    );
    const card = datasetCard(records, model, { format: 'png', about });
    expect(card).toContain('| cases | 5 |');
    expect(card).toContain('| empty masks (no lesion pixel) | 1 (20.00 %) |');
    // non-empty areas 0.1, 0.2, 0.3, 0.4: median 0.25, quartiles 0.175 and 0.325, mean 0.25
    expect(card).toContain('| lesion area, min / median / max | 10.00 % / 25.00 % / 40.00 % |');
    expect(card).toContain('| lesion area, 25th / 75th percentile | 17.50 % / 32.50 % |');
    expect(card).toContain('| lesion area, mean | 25.00 % |');
    expect(card).toContain('| seeds | 1 … 9 |');
    expect(card).toContain('| empty masks rejected (--reject-empty) | 2 tried and not kept, for 1 case made with it |');
    expect(card).toContain('| attribute pathology asked for | any (4), malignant (1) |');
    expect(card).toContain('| classifier-free guidance w | 1 (4), 2 (1) |');
    // a table cell's text cannot break the table
    expect(card).toContain(`| mask | mask.onnx | \`${'a'.repeat(64)}\` |`);
    expect(card).toContain('"m\\|x", 8 × 8');
    expect(card).toContain('CC BY 4.0');
    expect(card).toContain('Someone et al. (2024)');
    // the same cases in any order (shards, resumed runs): the same card
    expect(datasetCard([...records].reverse(), model, { format: 'png', about })).toBe(card);
  });
  it('no case: no statistics to make up', () => {
    const card = datasetCard([], model, { format: 'nifti', about });
    expect(card).toContain('| cases | 0 |');
    expect(card).toContain('| lesion area (non-empty masks) | no non-empty mask |');
    expect(card).toContain('NIfTI-1 .nii.gz');
  });
});
