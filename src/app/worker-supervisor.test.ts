import { describe, expect, it } from 'vitest';
import { type SupervisedWorker, WorkerGoneError, WorkerSupervisor } from './worker-supervisor';

/** A stand-in worker: calls hang until answered; it can die with a reason. */
function fakeWorkers() {
  const workers: { id: number; die: (reason: string) => void; terminated: boolean; answer: (value: string) => void }[] = [];
  const start = (): SupervisedWorker<{ run(x: string): Promise<string> }> => {
    let die: (reason: string) => void = () => undefined;
    const gone = new Promise<string>((r) => (die = r));
    const pending: ((v: string) => void)[] = [];
    const w = { id: workers.length + 1, die, terminated: false, answer: (v: string) => pending.shift()?.(v) };
    workers.push(w);
    return {
      api: { run: (x) => new Promise<string>((r) => pending.push((v) => r(`${x}:${v}@${w.id}`))) },
      gone,
      terminate: () => void (w.terminated = true),
    };
  };
  return { workers, start };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('WorkerSupervisor', () => {
  it('starts the worker on first use and passes answers through', async () => {
    const { workers, start } = fakeWorkers();
    const sup = new WorkerSupervisor(start);
    expect(workers).toHaveLength(0);
    const p = sup.call((api) => api.run('a'));
    workers[0].answer('ok');
    expect(await p).toBe('a:ok@1');
    expect(sup.started).toBe(1);
  });

  it('a worker that dies mid-call: the call rejects with the reason (never hangs), a new worker starts, onRestart is told', async () => {
    const { workers, start } = fakeWorkers();
    const restarts: string[] = [];
    const sup = new WorkerSupervisor(start, { onRestart: (r) => restarts.push(r) });
    const running = sup.call((api) => api.run('long'));
    const other = sup.call((api) => api.run('other'));
    workers[0].die('it was ended: closed, crashed or out of memory');
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerGoneError);
    expect((error as Error).message).toBe('The studio worker stopped (it was ended: closed, crashed or out of memory); a new one was started.');
    await expect(other).rejects.toBeInstanceOf(WorkerGoneError);
    expect(workers[0].terminated).toBe(true);
    expect(workers).toHaveLength(2); // started at once, ready for the app to reopen its model
    expect(restarts).toEqual(['it was ended: closed, crashed or out of memory']);
    const next = sup.call((api) => api.run('again'));
    workers[1].answer('ok');
    expect(await next).toBe('again:ok@2');
  });

  it('a call that settled before the death is not affected; a death of an ended worker is ignored', async () => {
    const { workers, start } = fakeWorkers();
    const restarts: string[] = [];
    const sup = new WorkerSupervisor(start, { onRestart: (r) => restarts.push(r) });
    const done = sup.call((api) => api.run('x'));
    workers[0].answer('1');
    expect(await done).toBe('x:1@1');
    sup.terminate();
    workers[0].die('terminated by us');
    await settle();
    expect(restarts).toEqual([]);
  });

  it('gives up after maxRestarts deaths within the window: calls then reject saying to reload', async () => {
    const { workers, start } = fakeWorkers();
    let t = 0;
    const sup = new WorkerSupervisor(start, { maxRestarts: 2, windowMs: 1000, now: () => t });
    const deaths: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const p = sup.call((api) => api.run('x')).catch((e: unknown) => e);
      workers[workers.length - 1].die(`crash ${i + 1}`);
      deaths.push(await p);
      t += 10;
    }
    expect(deaths.map((e) => (e as WorkerGoneError).restarted)).toEqual([true, true, false]);
    expect(workers).toHaveLength(3);
    await expect(sup.call((api) => api.run('y'))).rejects.toThrow('The studio worker stopped (crash 3) again and again; reload the page to start afresh.');
    // outside the window the count starts again
    const { workers: w2, start: s2 } = fakeWorkers();
    let t2 = 0;
    const sup2 = new WorkerSupervisor(s2, { maxRestarts: 1, windowMs: 1000, now: () => t2 });
    for (let i = 0; i < 3; i++) {
      const p = sup2.call((api) => api.run('x')).catch((e: unknown) => e);
      w2[w2.length - 1].die('crash');
      expect(((await p) as WorkerGoneError).restarted).toBe(true);
      t2 += 2000;
    }
  });
});
