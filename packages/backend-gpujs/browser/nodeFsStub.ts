/**
 * Stands in for `node:fs/promises` in the page bundle: @batchnorm/conformance's main entry
 * imports `readFile` for `loadVectorFile`, which the page never calls (it imports the vectors
 * as JSON and uses `parseVectorFile`).
 */
export function readFile(path: string): Promise<never> {
  return Promise.reject(new Error(`readFile(${path}): no file system in the browser; import the JSON and use parseVectorFile`));
}
