// The types of manifest-validator.gen.js, which scripts/build-manifest-validator.mjs writes (ajv's
// standalone code with verbose errors, and the schema's top-level fields).
/** An ajv error (verbose): where it failed, the keyword, and the schema node that holds the keyword. */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  /** The keyword's value */
  schema: unknown;
  parentSchema: Record<string, unknown>;
  data: unknown;
}
/** ajv's standalone validator of schemas/manifest.schema.json: true, or false with `errors` set. */
export declare const validate: ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
/** The schema's top-level properties, in its order (the order problems are said in). */
export declare const fieldOrder: string[];
