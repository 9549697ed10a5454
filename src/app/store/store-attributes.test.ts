import { describe, expect, it } from 'vitest';
import { selectShownImage } from './store-run';
import { latentInfo, setup } from './store-test-kit';

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('studio store: attributes, guidance and a latent model’s steps', () => {
  it('a model with attributes: the URL’s values it has are asked for, the others said; guidance from the URL, else the model’s', async () => {
    const { store, step, calls } = setup('?seed=5&attr.pathology=malignant&attr.colour=red&guidance=2', undefined, latentInfo);
    await store.getState().load();
    const s = store.getState();
    expect(s.attributes).toEqual({ pathology: 'malignant' });
    expect(s.guidanceText).toBe('2');
    expect(s.notice).toBe('The address asks for colour=red, which model fake-latent does not have (pathology, birads): any is used.');
    s.setAttribute('birads', '4');
    store.getState().setAttribute('pathology', 'any');
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]).toEqual({ seed: 5, steps: 3, clip: 'none', previews: true, attributes: { birads: '4' }, guidance: 2 });
    expect(store.getState().result?.attributes).toEqual({ birads: '4' });

    const fresh = setup('?seed=5', undefined, latentInfo);
    await fresh.store.getState().load();
    expect(fresh.store.getState().guidanceText).toBe('1.5');
  });

  it('guidance out of 0 … 20 stops Generate with one line; a batch sends the same attributes and w', async () => {
    const { store, step, calls, batchCalls } = setup('?seed=5', undefined, latentInfo);
    await store.getState().load();
    store.getState().setGuidanceText('25');
    await store.getState().generate();
    expect(store.getState().error).toBe('Guidance w must be a number from 0 to 20 (1: the conditional model alone, no guidance).');
    expect(calls).toHaveLength(0);
    store.getState().setGuidanceText('3');
    store.getState().setAttribute('pathology', 'benign');
    store.getState().setBatch({ startText: '10', sizeText: '1' });
    const batch = store.getState().generateBatch();
    for (let i = 0; i < 4; i++) await step();
    await batch;
    expect(batchCalls[0]).toMatchObject({ attributes: { pathology: 'benign' }, guidance: 3 });
    expect(store.getState().batch.pairs[0]).toMatchObject({ attributes: { pathology: 'benign' }, guidance: 3 });
    // a gallery pair runs again with its own attributes and w, whatever the controls say now
    store.getState().setAttribute('pathology', 'malignant');
    store.getState().setGuidanceText('1');
    const open = store.getState().openBatchPair(0);
    for (let i = 0; i < 4; i++) await step();
    await open;
    expect(calls.at(-1)).toMatchObject({ seed: 10, attributes: { pathology: 'benign' }, guidance: 3 });
    expect([store.getState().attributes, store.getState().guidanceText]).toEqual([{ pathology: 'benign' }, '3']);
  });

  it('a model without attributes sends none (the URL’s are said and dropped)', async () => {
    const { store, step, calls } = setup('?seed=5&attr.pathology=malignant&guidance=2');
    await store.getState().load();
    expect(store.getState().attributes).toEqual({});
    expect(store.getState().notice).toBe('The address asks for pathology=malignant, which model fake does not have (it takes no attributes): any is used.');
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]).toEqual({ seed: 5, steps: 3, clip: 'none', previews: true });
  });

  it('scrubbing to a step of a latent model decodes it once (cached); the last step shows the final image; streaming shows the preview', async () => {
    const { store, step, decodeCalls } = setup('?seed=5', undefined, latentInfo);
    await store.getState().load();
    const run = store.getState().generate();
    await step();
    expect(selectShownImage(store.getState())?.kind).toBe('preview');
    for (let i = 0; i < 3; i++) await step();
    await run;
    expect(selectShownImage(store.getState())?.kind).toBe('final');
    expect(decodeCalls).toEqual([]);
    store.getState().setCursor(1);
    expect(store.getState().decoding).toBe(1);
    await settle();
    expect(store.getState().decoding).toBeNull();
    const shown = selectShownImage(store.getState());
    expect(shown?.kind).toBe('decoded');
    expect(shown?.image[0]).toBe(1.5);
    store.getState().setCursor(0);
    await settle();
    store.getState().setCursor(1);
    store.getState().setCursor(2); // the final step: no decode
    await settle();
    expect(decodeCalls).toEqual([1, 0]);
    // a new run starts with an empty cache
    const again = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await again;
    expect(store.getState().decoded).toEqual({});
  });

  it('a pixel-space model never decodes', async () => {
    const { store, step, decodeCalls } = setup();
    await store.getState().load();
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    store.getState().setCursor(0);
    await settle();
    expect(decodeCalls).toEqual([]);
    expect(selectShownImage(store.getState())?.kind).toBe('estimate');
  });
});
