// The manifest's schema (schemas/manifest.schema.json) as the studio and the CLI run it: ajv's
// standalone code (manifest-validator.gen.js, written by scripts/build-manifest-validator.mjs) and
// its errors in the validators' words, one line each naming the field. training/pigkit/
// manifest_schema.py says the same words for the kit; the schema's $comment describes its x-message
// and x-why annotations.

import { fieldOrder, type SchemaError, validate } from './manifest-validator.gen.js';

/** What a JSON value is, for messages ("an array", "null", "string" …). */
function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** At most this many characters of a value's JSON in a message (the line stays one readable line). */
const MAX_SHOWN = 200;

function json(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** The field at the JSON Pointer "/models/mask/inputs/0" into `root`: "manifest.models.mask.inputs[0]", and its value. */
function locate(root: unknown, pointer: string): { path: string; value: unknown } {
  let path = 'manifest';
  let value = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += Array.isArray(value) ? `[${key}]` : `.${key}`;
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return { path, value };
}

const BOUND: Record<string, string> = { minimum: '≥', exclusiveMinimum: '>', maximum: '≤', exclusiveMaximum: '<' };

/** A failing keyword's message where its schema node has none. */
function plain(e: SchemaError, path: string): string {
  const v = e.data;
  const node = e.parentSchema;
  if (e.keyword === 'type') {
    const want = String(e.params.type);
    if (want !== 'integer' && want !== 'number') return `${path} must be ${want === 'object' ? 'an object' : `a ${want}`}, got ${typeName(v)}`;
    if (typeof v !== 'number') return `${path} must be a number, got ${typeName(v)}`;
    return Number.isFinite(v) ? `${path} must be an integer, got ${v}` : `${path} must be a finite number, got ${v}`;
  }
  if (e.keyword in BOUND) {
    const why = e.keyword.endsWith('aximum') && typeof node['x-why'] === 'string' ? ` (${node['x-why']})` : '';
    return `${path} must be ${BOUND[e.keyword]} ${e.schema}${why}, got ${v}`;
  }
  if (e.keyword === 'enum' || e.keyword === 'const') {
    const allowed = e.keyword === 'enum' ? (e.schema as unknown[]) : [e.schema];
    return `${path} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${json(v)}`;
  }
  return `${path} does not meet the manifest schema's "${e.keyword}" (schemas/manifest.schema.json)`;
}

/** The lines one error says: a missing field, each repeated item, or the node's message. */
function messages(e: SchemaError, root: unknown): string[] {
  const { path } = locate(root, e.instancePath);
  if (e.keyword === 'required') return [`${path}.${e.params.missingProperty} is missing`];
  if (e.keyword === 'uniqueItems') {
    const seen = new Set<string>();
    return (e.data as unknown[]).flatMap((v, j) => {
      const key = JSON.stringify(v);
      if (!seen.has(key)) return seen.add(key) && [];
      return [`${path}[${j}] ${key} is listed twice`];
    });
  }
  const template = e.parentSchema['x-message'];
  if (typeof template !== 'string') return [plain(e, path)];
  // an item's error said about its array (the generator gave the items the array's message)
  const ofArray = e.parentSchema['x-of-array'] !== undefined;
  const field = ofArray ? locate(root, e.instancePath.slice(0, e.instancePath.lastIndexOf('/'))) : { path, value: e.data };
  const v = field.value;
  const fill: Record<string, () => string> = {
    path: () => field.path,
    json: () => json(v),
    type: () => typeName(v),
    value: () => (typeof v === 'string' ? json([...v].slice(0, 80).join('')) : typeName(v)),
    entries: () => (Array.isArray(v) ? `${v.length} entries` : typeName(v)),
  };
  return [template.replace(/\{(\w+)\}/g, (all, name: string) => fill[name]?.() ?? all)];
}

/** What the schema says of a parsed manifest. */
export interface SchemaVerdict {
  /** Every problem, in the schema's order, each once (empty: the fields are what the schema says). */
  problems: string[];
  /** Whether the value at a JSON Pointer ("/schedule/T") and all inside it are what the schema says. */
  sound(pointer: string): boolean;
}

/** The schema's problems with a parsed manifest; the checks across fields are manifest.ts's. */
export function checkSchema(manifest: unknown): SchemaVerdict {
  if (validate(manifest)) return { problems: [], sound: () => true };
  const out = new Set<string>();
  const flawed: string[] = [];
  for (const e of validate.errors ?? []) {
    // `if` restates its branch's errors; a failed anyOf's branches are said by the anyOf's message
    if (e.keyword === 'if' || /\/anyOf\/\d+\//.test(e.schemaPath)) continue;
    for (const line of messages(e, manifest)) out.add(line);
    flawed.push(e.keyword === 'required' ? `${e.instancePath}/${e.params.missingProperty}` : e.instancePath);
  }
  const touches = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  return { problems: [...out], sound: (pointer) => !flawed.some((f) => touches(f, pointer)) };
}

/**
 * The problems in the order of the schema's top-level fields (by the field each names; "manifest
 * must be …" first, unknown fields last), as the kit orders them (manifest_schema.in_field_order).
 */
export function inFieldOrder(problems: string[]): string[] {
  const rank = (line: string) => {
    const field = /^manifest\.(\w+)/.exec(line)?.[1];
    return field === undefined ? -1 : fieldOrder.includes(field) ? fieldOrder.indexOf(field) : fieldOrder.length;
  };
  return [...problems].sort((a, b) => rank(a) - rank(b)); // a stable sort: the same field keeps its order
}
