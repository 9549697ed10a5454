import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSource } from './files';

describe('fileSource: a model folder is untrusted', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function folder() {
    dir = mkdtempSync(join(tmpdir(), 'pig-files-'));
    mkdirSync(join(dir, 'model'));
    writeFileSync(join(dir, 'secret.txt'), 'a private key');
    writeFileSync(join(dir, 'model', 'mask.onnx'), 'graph bytes');
    return join(dir, 'model');
  }

  it('refuses a link out of the folder, for the manifest and for a graph, without reading it', async () => {
    const model = folder();
    symlinkSync(join(dir, 'secret.txt'), join(model, 'manifest.json'));
    symlinkSync('../secret.txt', join(model, 'image.onnx'));
    const source = fileSource(model);
    await expect(source.readText('manifest.json')).rejects.toThrow(/manifest\.json is a link to a file outside the model folder/);
    await expect(source.readBytes('image.onnx')).rejects.toThrow(/image\.onnx is a link to a file outside the model folder/);
  });

  it('reads plain files and links that stay inside the folder', async () => {
    const model = folder();
    symlinkSync('mask.onnx', join(model, 'alias.onnx'));
    const source = fileSource(model);
    expect(new TextDecoder().decode(await source.readBytes('mask.onnx'))).toBe('graph bytes');
    expect(await source.readText('alias.onnx')).toBe('graph bytes');
    await expect(source.readBytes('missing.onnx')).rejects.toThrow(/cannot read .*missing\.onnx/);
  });
});
