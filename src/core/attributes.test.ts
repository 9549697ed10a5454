import { describe, expect, it } from 'vitest';
import { AttributeRequestError, attributeCode, conditioning, fullRequest, guide } from './attributes';

const ATTRS = [
  { name: 'pathology', values: ['benign', 'malignant'] },
  { name: 'birads', values: ['2', '3', '4', '5'] },
];

describe('the one-hot code a (contracts.md §6b)', () => {
  it('has one block of n + 1 per attribute, entry 0 for any', () => {
    expect(Array.from(attributeCode(ATTRS, { pathology: 'malignant', birads: '4' }))).toEqual([0, 0, 1, 0, 0, 0, 1, 0]);
    expect(Array.from(attributeCode(ATTRS, { birads: '2' }))).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(attributeCode(ATTRS, { pathology: 'any' }))).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(attributeCode(ATTRS))).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
  });
  it('names an unknown attribute or value with what the model has', () => {
    expect(() => attributeCode(ATTRS, { scanner: 'x' })).toThrow('unknown attribute "scanner": this model has pathology, birads');
    expect(() => attributeCode(ATTRS, { birads: '6' })).toThrow("birads=6 is not a value of this model's birads: one of 2, 3, 4, 5 (or any)");
    expect(() => attributeCode([], { birads: '6' })).toThrow(AttributeRequestError);
    expect(() => attributeCode([], { birads: '6' })).toThrow('this model takes no attributes');
  });
  it('a full request lists every attribute in the model order', () => {
    expect(fullRequest(ATTRS, { birads: '3' })).toEqual({ pathology: 'any', birads: '3' });
  });
});

describe('classifier-free guidance', () => {
  it('runs the unconditioned model only when w ≠ 1 and the request names a value', () => {
    expect(conditioning(ATTRS, { pathology: 'benign' }, 1).unconditional).toBeNull();
    expect(conditioning(ATTRS, { pathology: 'any' }, 4).unconditional).toBeNull();
    expect(conditioning(ATTRS, {}, 4).unconditional).toBeNull();
    expect(Array.from(conditioning(ATTRS, { pathology: 'benign' }, 4).unconditional!)).toEqual(Array.from(attributeCode(ATTRS)));
    expect(() => conditioning(ATTRS, {}, 21)).toThrow('guidance must be 0 … 20, got 21');
  });
  it('is e0 + w*(e1 − e0) in float64, stored as float32 (golden from numpy, not float32 arithmetic)', () => {
    // numpy: (e0.astype(float64) + 7.3 * (e1 − e0)).astype(float32); float32 arithmetic differs in three
    const e0 = Float32Array.of(0.1, -1.3, 0.7072, 3.3333, -0.002);
    const e1 = Float32Array.of(0.3, 2.9, -0.5, 3.3334, 0.001);
    const numpy = [1.5600000619888306, 29.360000610351562, -8.10536003112793, 3.33402943611145, 0.01990000158548355];
    expect(Array.from(guide(e0, e1, 7.3))).toEqual(numpy);
    const f32 = Float32Array.from(e0, (v, i) => v + Math.fround(Math.fround(7.3) * Math.fround(e1[i] - v)));
    expect(Array.from(f32)).not.toEqual(numpy);
  });
});
