// A model's attributes in the studio (contracts.md §6b): their labels, what of a request (the URL's,
// or the previous model's) a model can take, and the request a run sends. No DOM.
import { GUIDANCE_RANGE } from '../../core/limits';
import { ANY_VALUE } from '../../core/manifest';
import type { AttributeInfo, ModelInfo } from '../../worker/api';
import { parseGuidance } from '../config';

export { ANY_VALUE };

/** How the controls name the attributes the kit knows; any other is shown by its own name. */
const LABELS: Record<string, string> = { pathology: 'Pathology', birads: 'BI-RADS', scanner: 'Scanner' };

export function attributeLabel(name: string): string {
  return LABELS[name] ?? name;
}

/** The values of a request the model has; and, in words, those it does not ("pathology=cystic"). */
export function keptAttributes(
  attributes: readonly AttributeInfo[],
  asked: Readonly<Record<string, string>>,
): { kept: Record<string, string>; dropped: string[] } {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(asked)) {
    if (value === ANY_VALUE) continue;
    if (attributes.some((a) => a.name === name && a.values.includes(value))) kept[name] = value;
    else dropped.push(`${name}=${value}`);
  }
  return { kept, dropped };
}

/** What a run asks of a model with attributes: the values chosen and w; nothing for a model without; or what is wrong. */
export function runConditioning(model: Pick<ModelInfo, 'attributes'>, attributes: Readonly<Record<string, string>>, guidanceText: string) {
  if (model.attributes.length === 0) return {};
  const guidance = parseGuidance(guidanceText);
  if (guidance === null) return `Guidance w must be ${GUIDANCE_RANGE}.`;
  return { attributes: keptAttributes(model.attributes, attributes).kept, guidance };
}
