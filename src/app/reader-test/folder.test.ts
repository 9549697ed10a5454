import { describe, expect, it } from 'vitest';
import { type FolderFile, readRealFolder } from './folder';

const files = (...paths: string[]): FolderFile[] => paths.map((path) => ({ path, file: new Blob([path]) }));
const summary = (r: ReturnType<typeof readRealFolder>) =>
  typeof r === 'string' ? r : { images: r.images.map((i) => [i.path, i.masks.map((m) => m.path)]), masked: r.masked, skipped: r.skipped };

describe('the reader test’s folder of real images', () => {
  it('pairs BUS-BRA’s Images/bus_* with Masks/mask_*, sorted by path', () => {
    const r = readRealFolder(
      files(
        'BUSBRA/Masks/mask_0002-r.png',
        'BUSBRA/Images/bus_0002-r.png',
        'BUSBRA/Images/bus_0001-l.png',
        'BUSBRA/bus_data.csv',
        'BUSBRA/Masks/mask_0001-l.png',
      ),
    );
    expect(summary(r)).toEqual({
      images: [
        ['BUSBRA/Images/bus_0001-l.png', ['BUSBRA/Masks/mask_0001-l.png']],
        ['BUSBRA/Images/bus_0002-r.png', ['BUSBRA/Masks/mask_0002-r.png']],
      ],
      masked: 2,
      skipped: 1,
    });
  });

  it('pairs nnU-Net’s imagesTr/<case>_0000 with labelsTr/<case>', () => {
    const r = readRealFolder(
      files('D/imagesTr/pig_0000000007_0000.png', 'D/labelsTr/pig_0000000007.png', 'D/imagesTr/pig_0000000008_0000.png', 'D/dataset.json'),
    );
    expect(summary(r)).toEqual({
      images: [
        ['D/imagesTr/pig_0000000007_0000.png', ['D/labelsTr/pig_0000000007.png']],
        ['D/imagesTr/pig_0000000008_0000.png', []],
      ],
      masked: 1,
      skipped: 1,
    });
  });

  it('pairs BUSI’s x.png with x_mask.png and x_mask_1.png (merged later); hidden files are skipped', () => {
    const r = readRealFolder(
      files('benign/benign (1).png', 'benign/benign (1)_mask.png', 'benign/benign (1)_mask_1.png', 'benign/.DS_Store', 'benign/._benign (1).png'),
    );
    expect(summary(r)).toEqual({ images: [['benign/benign (1).png', ['benign/benign (1)_mask.png', 'benign/benign (1)_mask_1.png']]], masked: 1, skipped: 2 });
  });

  it('a folder of images alone has no masks; a folder without images says so', () => {
    expect(summary(readRealFolder(files('r/a.jpg', 'r/b.JPEG')))).toEqual({
      images: [
        ['r/a.jpg', []],
        ['r/b.JPEG', []],
      ],
      masked: 0,
      skipped: 0,
    });
    expect(readRealFolder(files('r/notes.txt', 'r/scan.nii.gz'))).toBe(
      'The folder holds no image the browser can read (of 2 files): choose a folder of real images (PNG, JPEG, BMP, WebP, GIF or AVIF), with their masks beside them if you have them.',
    );
    expect(readRealFolder(files('r/masks/a.png'))).toMatch(/^The folder holds only masks \(1\)/);
  });
});
