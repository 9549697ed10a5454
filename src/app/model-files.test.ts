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

  it('nothing usable: says what was chosen', async () => {
    await expect(gatherModelFiles([file('photo.png', [1]), file('notes.txt', [2])])).rejects.toThrow(
      /^no manifest\.json or \.onnx file among the 2 chosen \(photo\.png, notes\.txt\)/,
    );
    await expect(gatherModelFiles([])).rejects.toThrow(/among the 0 chosen \(nothing\)/);
  });

  it('two files of one name (two folders): both paths named', async () => {
    await expect(gatherModelFiles([file('mask.onnx', [1], 'a/mask.onnx'), file('mask.onnx', [2], 'b/mask.onnx')])).rejects.toThrow(
      'two files are named mask.onnx (a/mask.onnx and b/mask.onnx): choose the files of one model',
    );
  });
});
