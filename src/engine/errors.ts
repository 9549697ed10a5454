// Errors the engine raises, by cause. The worker turns them into StudioError values.

export type EngineErrorKind = 'model' | 'backend' | 'input';

export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.kind = kind;
  }
}
