// The reader test's part of the studio store (slice.ts makes it; store-state.ts adds it to StudioState).
// Types only, importing nothing of the store, so that store-state.ts can import it without a cycle.
import type { FolderFile, RealImage } from './folder';
import type { ReaderAnswer, ReaderSession } from './session';

export interface ReaderTestState {
  /** The folder of real images chosen (its name, its images and masks); null before one is. */
  folder: { name: string; images: RealImage[]; masked: number; skipped: number } | null;
  /** N as typed: real images, and as many generated pairs. */
  pairsText: string;
  /** The seed as typed: the generated seeds are seed … seed + N − 1; it also draws the real images and the order. */
  seedText: string;
  /** setup: choosing; preparing: reading the real images, then generating; test: answering, or done. */
  stage: 'setup' | 'preparing' | 'test';
  /** While preparing: what is being done, and how far. */
  progress: { text: string; done: number; total: number } | null;
  /** The test being answered (or finished); null in setup. */
  session: ReaderSession | null;
  /** An unfinished (or finished, not yet discarded) test kept from an earlier visit, offered to resume. */
  stored: { answered: number; total: number; model: string; createdAt: string } | null;
  /** Show each case's mask (only where every case has one). */
  showMasks: boolean;
  /** How the last preparation ended, or a storage problem ("this test will not survive a reload: …"). */
  note: string | null;
}

export interface ReaderTestSlice {
  readerTest: ReaderTestState;
  /** The folder the user chose (picker or drop); a folder without images → an error naming why. */
  chooseRealFolder(name: string, files: readonly FolderFile[]): void;
  setReaderTest(patch: Partial<Pick<ReaderTestState, 'pairsText' | 'seedText' | 'showMasks'>>): void;
  /** Reads N real images, generates N pairs of the current model, mixes them and starts the test. */
  startReaderTest(): Promise<void>;
  /** Stops the preparation (the generation within a step); nothing is kept. */
  cancelReaderTest(): void;
  /** Records the shown case's answer and moves on; the answers are saved after each. */
  answerReaderCase(answer: ReaderAnswer): Promise<void>;
  /** Looks for a test kept from an earlier visit (readerTest.stored). */
  checkStoredReaderTest(): Promise<void>;
  /** Reopens the kept test where it stopped. */
  resumeReaderTest(): Promise<void>;
  /** Leaves the test (kept for later when unfinished): back to setup. */
  closeReaderTest(): void;
  /** Forgets the kept or current test. */
  discardReaderTest(): Promise<void>;
}
