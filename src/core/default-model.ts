// The bundled model that the studio opens when the URL names none and that the CLI uses without
// --model: one name for both (src/app/config.ts, src/cli/generate.ts), a folder under public/models/.
export const DEFAULT_MODEL = 'busbra64';
