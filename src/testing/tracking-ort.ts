// Tests that check ORT tensors are disposed: an ORT module (onnxruntime-node underneath) that
// records every tensor made with `new Tensor` or returned by a session run.
import * as ortNode from 'onnxruntime-node';
import type { OrtModule } from '../engine/unet';

/** An ORT module that records every tensor made with `new Tensor` or returned by a session run. */
export function trackingOrt(options: { nanFromRun?: number } = {}) {
  const made: ortNode.Tensor[] = [];
  let runs = 0;
  // the engine calls `new ort.Tensor(…)`: a function (an arrow cannot be `new`ed) that returns the real, recorded tensor
  // biome-ignore lint/complexity/useArrowFunction: called with `new`
  const tensor = function (...args: unknown[]) {
    const t = new ortNode.Tensor(...(args as [never]));
    made.push(t);
    return t;
  };
  const ort = {
    Tensor: tensor,
    InferenceSession: {
      create: async (...args: unknown[]) => {
        const s = await ortNode.InferenceSession.create(...(args as [Uint8Array]));
        const run = s.run.bind(s);
        (s as { run: unknown }).run = async (...a: unknown[]) => {
          const out = await run(...(a as [never]));
          runs++;
          if (options.nanFromRun !== undefined && runs >= options.nanFromRun) for (const v of Object.values(out)) (v.data as Float32Array).fill(NaN);
          made.push(...Object.values(out));
          return out;
        };
        return s;
      },
    },
  } as unknown as OrtModule;
  const live = () => made.filter((t) => t.location !== 'none').length;
  return { ort, made, live };
}
