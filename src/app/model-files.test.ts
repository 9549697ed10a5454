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
      file('README.md', [6]),
    ]);
    expect(Object.keys(got).sort()).toEqual(['image.bin', 'image.graph', 'manifest.json', 'mask.onnx', 'mask.weights']);
    // a manifest that is not JSON names nothing more (the worker says what is wrong with it)
    const plain = await gatherModelFiles([file('manifest.json', [0x7b]), file('mask.weights', [2]), file('image.bin', [4])]);
    expect(Object.keys(plain).sort()).toEqual(['manifest.json', 'mask.weights']);
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
