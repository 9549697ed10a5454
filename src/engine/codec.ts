// A latent model's autoencoder (docs/contracts.md §6a) as ONNX Runtime sessions: the encoder
// y [1, 1, H, W] → z = s·μ_E(y) [1, C, h, w] and the decoder z → D(z / s) [1, 1, H, W] (the scale is
// inside both graphs), as core's LatentCodec. Opened, checked against the manifest and run like
// the U-Nets (unet.ts), on the same run queue.

import type * as Ort from 'onnxruntime-web';
import { errorMessage } from '../core/errors';
import type { LatentCodec } from '../core/latent';
import type { CodecRole, ModelFileSpec } from '../core/manifest';
import { EngineError } from './errors';
import { listedShape, type ModelBytes, type OrtModule, openCheckedSession, ownedFloat32, type RunQueue, type SessionOptions } from './unet';

/** One graph of the autoencoder: one input, one output, static shapes. */
class CodecSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly role: CodecRole,
    readonly spec: ModelFileSpec,
    private readonly queue: RunQueue,
  ) {}

  static async create(
    ort: OrtModule,
    role: CodecRole,
    spec: ModelFileSpec,
    bytes: ModelBytes,
    options: SessionOptions,
    queue: RunQueue,
  ): Promise<CodecSession> {
    return new CodecSession(ort, await openCheckedSession(ort, role, spec, bytes, options), role, spec, queue);
  }

  private get io(): { input: string; output: string } {
    return this.role === 'encoder' ? { input: 'y', output: 'z' } : { input: 'z', output: 'y' };
  }

  run(values: Float32Array): Promise<Float32Array> {
    const { input, output } = this.io;
    const inShape = listedShape(this.spec, 'inputs', input);
    const outShape = listedShape(this.spec, 'outputs', output);
    if (values.length !== inShape.reduce((a, b) => a * b, 1))
      throw new EngineError('input', `${this.spec.file} (${this.role}): input has ${values.length} values, expected ${inShape.slice(1).join('×')}`);
    return this.queue.run(async () => {
      const x = new this.ort.Tensor('float32', values, inShape);
      let out: Ort.Tensor | undefined;
      try {
        const result = await this.session.run({ [input]: x });
        out = result[output];
        return await ownedFloat32(out, this.spec.file, outShape);
      } catch (e) {
        if (e instanceof EngineError) throw e;
        throw new EngineError('backend', `${this.spec.file} (${this.role} model) failed to run: ${errorMessage(e)}`, { cause: e });
      } finally {
        x.dispose();
        out?.dispose();
      }
    });
  }

  /** One run on zeros (shaders, arenas), as the U-Nets warm up. */
  async warmUp(): Promise<void> {
    await this.run(new Float32Array(listedShape(this.spec, 'inputs', this.io.input).reduce((a, b) => a * b, 1)));
  }

  async release(): Promise<void> {
    await this.queue.run(() => this.session.release());
  }
}

/** Both graphs of the autoencoder as core's LatentCodec. */
export class OrtLatentCodec implements LatentCodec {
  private constructor(
    private readonly encoder: CodecSession,
    private readonly decoder: CodecSession,
  ) {}

  /** Opens both graphs (a failure releases what opened and is thrown as createPair's are). */
  static async create(
    ort: OrtModule,
    specs: Record<CodecRole, ModelFileSpec>,
    bytes: Record<CodecRole, ModelBytes>,
    options: SessionOptions,
    queue: RunQueue,
  ): Promise<OrtLatentCodec> {
    const encoder = await CodecSession.create(ort, 'encoder', specs.encoder, bytes.encoder, options, queue);
    try {
      return new OrtLatentCodec(encoder, await CodecSession.create(ort, 'decoder', specs.decoder, bytes.decoder, options, queue));
    } catch (e) {
      await encoder.release().catch(() => undefined);
      throw e;
    }
  }

  encode(image: Float32Array): Promise<Float32Array> {
    return this.encoder.run(image);
  }

  decode(z: Float32Array): Promise<Float32Array> {
    return this.decoder.run(z);
  }

  /** The decoder runs on every generation; the encoder only in image → mask, so it warms up on its first run. */
  async warmUp(): Promise<void> {
    await this.decoder.warmUp();
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
