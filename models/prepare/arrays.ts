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

/** Reads arrays written by the Python trainer: <dir>/<indexFile> lists name → {dtype, shape, file}; `names`: only those. */
export async function readArrays(dir: string, indexFile: string, names?: readonly string[]): Promise<Record<string, Int32Array | Float32Array>> {
  const { readFile } = await import('node:fs/promises');
  const index = JSON.parse(await readFile(join(dir, indexFile), 'utf8')) as { arrays: Record<string, { dtype: string; file: string }> };
  const out: Record<string, Int32Array | Float32Array> = {};
  for (const [name, spec] of Object.entries(index.arrays)) {
    if (names && !names.includes(name)) continue;
    const bytes = await readFile(join(dir, spec.file));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    out[name] = spec.dtype === 'int32' ? new Int32Array(buffer) : new Float32Array(buffer);
  }
  return out;
}
