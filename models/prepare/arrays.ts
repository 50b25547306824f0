/** Writes typed arrays as raw little-endian files plus an index.json the Python trainer reads with numpy. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ArrayEntry = { data: Int32Array | Float32Array; shape: number[] };

export async function writeArrays(dir: string, arrays: Record<string, ArrayEntry>, meta: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const index: Record<string, { dtype: string; shape: number[]; file: string }> = {};
  for (const [name, { data, shape }] of Object.entries(arrays)) {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (expected !== data.length) throw new Error(`${name}: shape ${shape.join('x')} does not match ${data.length} values`);
    const file = `${name}.bin`;
    await writeFile(join(dir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    index[name] = { dtype: data instanceof Int32Array ? 'int32' : 'float32', shape, file };
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify({ arrays: index, meta }, null, 1));
}
