// Calls in flight on something that can be lost for good: a worker that died, a GPU device that
// went away. A call on a lost one may never settle, so each is raced against the loss and the
// caller is told at once instead of waiting forever.

export class InFlight<E> {
  private readonly waiting = new Set<(error: E) => void>();

  /** Settles as `call` does, unless lose() comes first: then rejects with the loss's error. */
  race<T>(call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      const settled = () => this.waiting.delete(reject);
      let result: Promise<T>;
      try {
        result = call();
      } catch (e) {
        settled();
        reject(e);
        return;
      }
      result.then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }

  /** Rejects every call in flight with `error`; calls raced later are not affected. */
  lose(error: E): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const reject of waiting) reject(error);
  }
}
