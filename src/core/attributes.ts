// Attribute conditioning (docs/contracts.md §6b): a request ({pathology: "malignant"}, the rest
// "any") → the U-Nets' one-hot input `a` [1, K], and classifier-free guidance's combination of the
// two ε. The kit's twin: training/pigkit/data/attributes.py (AttributeSpec.encode: index 0 = none).

import { GUIDANCE_MAX, GUIDANCE_MIN } from './limits';
import { ANY_VALUE, type AttributeSpec, attributeCodeLength } from './manifest';

/** name → value, or "any"; an attribute the request leaves out is "any". */
export type AttributeRequest = Readonly<Record<string, string>>;

/** A request that names an attribute or a value the model does not have; the message lists what it has. */
export class AttributeRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttributeRequestError';
  }
}

/** Every attribute of the model with the request's value or "any", in the model's order (what a dataset records). */
export function fullRequest(attributes: readonly AttributeSpec[], request: AttributeRequest): Record<string, string> {
  checkRequest(attributes, request);
  return Object.fromEntries(attributes.map((a) => [a.name, request[a.name] ?? ANY_VALUE]));
}

/** Whether the request asks for no value at all (then guidance has nothing to push towards). */
function isAllAny(request: AttributeRequest): boolean {
  return Object.values(request).every((v) => v === ANY_VALUE);
}

function checkRequest(attributes: readonly AttributeSpec[], request: AttributeRequest): void {
  for (const [name, value] of Object.entries(request)) {
    const spec = attributes.find((a) => a.name === name);
    if (!spec) {
      const has = attributes.length ? `this model has ${attributes.map((a) => a.name).join(', ')}` : 'this model takes no attributes';
      throw new AttributeRequestError(`unknown attribute "${name}": ${has}`);
    }
    if (value !== ANY_VALUE && !spec.values.includes(value))
      throw new AttributeRequestError(`${name}=${value} is not a value of this model's ${name}: one of ${spec.values.join(', ')} (or ${ANY_VALUE})`);
  }
}

/**
 * The one-hot code `a` (K = Σ (nᵢ + 1) values): one block per attribute in the model's order, entry 0
 * "none" (any), entry j ≥ 1 `values[j − 1]`. An empty request is the all-"none" code a∅.
 */
export function attributeCode(attributes: readonly AttributeSpec[], request: AttributeRequest = {}): Float32Array {
  checkRequest(attributes, request);
  const a = new Float32Array(attributeCodeLength(attributes));
  let offset = 0;
  for (const spec of attributes) {
    const v = request[spec.name];
    a[offset + (v === undefined || v === ANY_VALUE ? 0 : spec.values.indexOf(v) + 1)] = 1;
    offset += spec.values.length + 1;
  }
  return a;
}

/** What a run's U-Nets are conditioned on: `a`, and a∅ where classifier-free guidance needs a second run. */
export interface Conditioning {
  /** The request's code, fed to every U-Net run. */
  a: Float32Array;
  /** a∅ when each U-Net also runs unconditioned (w ≠ 1 and a request that is not all "any"); else null. */
  unconditional: Float32Array | null;
  /** w */
  guidance: number;
}

/** Whether w is within the bounds of contracts.md §6b. */
export function guidanceInRange(w: unknown): w is number {
  return typeof w === 'number' && w >= GUIDANCE_MIN && w <= GUIDANCE_MAX;
}

/** The conditioning of a run: two U-Net runs per step only when w ≠ 1 and the request names a value. */
export function conditioning(attributes: readonly AttributeSpec[], request: AttributeRequest, guidance: number): Conditioning {
  if (!guidanceInRange(guidance)) throw new RangeError(`guidance must be ${GUIDANCE_MIN} … ${GUIDANCE_MAX}, got ${guidance}`);
  const a = attributeCode(attributes, request);
  return { a, unconditional: guidance !== 1 && !isAllAny(request) ? attributeCode(attributes) : null, guidance };
}

/**
 * Classifier-free guidance: ε = ε(a∅) + w·(ε(a) − ε(a∅)), per element `e0 + w*(e1 - e0)` computed in
 * float64 from the float32 outputs and stored as float32, as every value of the loop (contracts.md
 * §6b; the kit's pipeline: sampler.conditioned with stored_as_float32).
 */
export function guide(e0: Float32Array, e1: Float32Array, w: number, out = new Float32Array(e0.length)): Float32Array {
  if (e0.length !== e1.length) throw new Error(`guide: ε lengths differ: ${e0.length} vs ${e1.length}`);
  for (let i = 0; i < e0.length; i++) out[i] = e0[i] + w * (e1[i] - e0[i]);
  return out;
}
