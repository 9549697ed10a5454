// Where an unfinished reader test waits for a reload: IndexedDB on the page's origin (the pixels of
// 2N cases are megabytes, over what localStorage holds). The cases are written once when the test
// starts, the answers after each one (a few hundred bytes), so an answer costs no pixel copy.
import type { ReaderAnswer, ReaderSession } from './session';

/** The one stored session (a new test replaces it); a fake in unit tests. */
export interface ReaderTestStorage {
  save(session: ReaderSession): Promise<void>;
  saveAnswers(createdAt: string, answers: ReaderAnswer[]): Promise<void>;
  load(): Promise<ReaderSession | null>;
  clear(): Promise<void>;
}

const DB = 'pig-studio-reader-test';
const STORE = 'session';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error ?? new Error('IndexedDB request failed'));
  });
}

function open(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

async function inStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(work(tx.objectStore(STORE)));
    await new Promise<void>((ok, fail) => {
      tx.oncomplete = () => ok();
      tx.onerror = () => fail(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => fail(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

/** The browser's IndexedDB, or null where the page has none (then a test does not survive a reload). */
export function browserReaderTestStorage(): ReaderTestStorage | null {
  if (typeof indexedDB === 'undefined') return null;
  return {
    async save(session) {
      const { answers, ...cases } = session;
      await inStore('readwrite', (s) => s.put(cases, 'cases'));
      await inStore('readwrite', (s) => s.put({ createdAt: session.createdAt, answers }, 'answers'));
    },
    async saveAnswers(createdAt, answers) {
      await inStore('readwrite', (s) => s.put({ createdAt, answers }, 'answers'));
    },
    async load() {
      const cases = (await inStore('readonly', (s) => s.get('cases'))) as Omit<ReaderSession, 'answers'> | undefined;
      if (cases?.format !== 1) return null;
      const saved = (await inStore('readonly', (s) => s.get('answers'))) as { createdAt: string; answers: ReaderAnswer[] } | undefined;
      // answers of another session (a write that did not happen) are not this one's
      return { ...cases, answers: saved?.createdAt === cases.createdAt ? saved.answers : [] };
    },
    async clear() {
      await inStore('readwrite', (s) => s.clear());
    },
  };
}
