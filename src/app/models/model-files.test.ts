import { describe, expect, it } from 'vitest';
import { type FileLike, gatherModelFiles } from './model-files';

const file = (name: string, bytes: number[], webkitRelativePath = ''): FileLike => ({
  name,
  webkitRelativePath,
  size: bytes.length,
  arrayBuffer: async () => Uint8Array.from(bytes).buffer,
});

describe('gatherModelFiles', () => {
  it('keeps the manifest and ONNX files by name, skipping others', async () => {
    const got = await gatherModelFiles([file('manifest.json', [1]), file('mask.onnx', [2, 3]), file('DATA-LICENSE.txt', [4]), file('Image.ONNX', [5])]);
    expect(Object.keys(got).sort()).toEqual(['Image.ONNX', 'manifest.json', 'mask.onnx']);
    expect([...new Uint8Array(got['mask.onnx'])]).toEqual([2, 3]);
  });

  it('keeps the weights files: .weights, and any other name the manifest gives a weights file', async () => {
    const manifest = {
      models: { mask: { file: 'mask.onnx', weights: { file: 'mask.weights' } }, image: { file: 'image.graph', weights: { file: 'image.bin' } } },
    };
    const got = await gatherModelFiles([
      file('manifest.json', [...new TextEncoder().encode(JSON.stringify(manifest))]),
      file('mask.onnx', [1]),
      file('mask.weights', [2]),
      file('image.graph', [3]),
      file('image.bin', [4]),
      file('other.bin', [5]),
      file('notes.md', [6]),
    ]);
    expect(Object.keys(got).sort()).toEqual(['image.bin', 'image.graph', 'manifest.json', 'mask.onnx', 'mask.weights']);
    // a manifest that is not JSON names nothing more (the worker says what is wrong with it)
    const plain = await gatherModelFiles([file('manifest.json', [0x7b]), file('mask.weights', [2]), file('image.bin', [4])]);
    expect(Object.keys(plain).sort()).toEqual(['manifest.json', 'mask.weights']);
  });

  it('keeps the folder’s model card and the data license its card names, as a bundled model’s (core/dataset/about.ts)', async () => {
    const manifest = (card: unknown) => file('manifest.json', [...new TextEncoder().encode(JSON.stringify({ models: { mask: { file: 'mask.onnx' } }, card }))]);
    const folder = [file('mask.onnx', [1]), file('README.md', [2]), file('DATA-LICENSE.txt', [3]), file('LICENSE-BUSI.txt', [4]), file('notes.txt', [5])];
    // no licenseFile: the conventional DATA-LICENSE.txt
    const plain = await gatherModelFiles([manifest({ license: 'CC BY 4.0' }), ...folder]);
    expect(Object.keys(plain).sort()).toEqual(['DATA-LICENSE.txt', 'README.md', 'manifest.json', 'mask.onnx']);
    expect([...new Uint8Array(plain['README.md'])]).toEqual([2]);
    // the card names its license file: that one, not DATA-LICENSE.txt
    const named = await gatherModelFiles([manifest({ licenseFile: 'LICENSE-BUSI.txt' }), ...folder]);
    expect(Object.keys(named).sort()).toEqual(['LICENSE-BUSI.txt', 'README.md', 'manifest.json', 'mask.onnx']);
    // a name with a folder part is not followed: the conventional name instead
    const escaping = await gatherModelFiles([manifest({ licenseFile: '../notes.txt' }), ...folder]);
    expect(Object.keys(escaping).sort()).toEqual(['DATA-LICENSE.txt', 'README.md', 'manifest.json', 'mask.onnx']);
    // documents alone are no model
    await expect(gatherModelFiles([file('README.md', [2]), file('DATA-LICENSE.txt', [3])])).rejects.toThrow(
      /^no manifest\.json, \.onnx or \.weights file among the 2 chosen/,
    );
  });

  it('a document over 1 MiB is refused by name before it is read', async () => {
    let read = false;
    const big: FileLike = {
      name: 'README.md',
      size: (1 << 20) + 1,
      arrayBuffer: async () => {
        read = true;
        return new ArrayBuffer(0);
      },
    };
    await expect(gatherModelFiles([file('manifest.json', [...new TextEncoder().encode('{}')]), file('mask.onnx', [1]), big])).rejects.toThrow(
      'README.md is 1048577 bytes, over the 1.00 MiB a model card or data license may hold: shorten it, or leave it out of the files you choose',
    );
    expect(read).toBe(false);
    // a model file of any size is the worker's to check against its manifest
    const onnx = await gatherModelFiles([file('manifest.json', [0x7b]), { ...big, name: 'mask.onnx' }]);
    expect(Object.keys(onnx).sort()).toEqual(['manifest.json', 'mask.onnx']);
  });

  it('nothing usable: says what was chosen', async () => {
    await expect(gatherModelFiles([file('photo.png', [1]), file('notes.txt', [2])])).rejects.toThrow(
      /^no manifest\.json, \.onnx or \.weights file among the 2 chosen \(photo\.png, notes\.txt\): choose the model's manifest\.json with its ONNX and weights files, or its folder$/,
    );
    await expect(gatherModelFiles([])).rejects.toThrow(/among the 0 chosen \(nothing\)/);
  });

  it('two files of one name (two folders): both paths named', async () => {
    await expect(gatherModelFiles([file('mask.onnx', [1], 'a/mask.onnx'), file('mask.onnx', [2], 'b/mask.onnx')])).rejects.toThrow(
      'two files are named mask.onnx (a/mask.onnx and b/mask.onnx): choose the files of one model',
    );
  });
});
