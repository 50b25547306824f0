/**
 * Line reading for the data-set converters: a file streamed line by line (never read whole), in the file's
 * encoding (MovieLens-1M is Latin-1), with a clear error naming the path when it is missing; and the row
 * helpers both MovieLens converters share (age bands, release decade, a movie as an import item).
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ItemRow } from '../../../shared/contracts/import.ts';

export class DatasetMissingError extends Error {
  readonly path: string;
  constructor(path: string, what: string) {
    super(`${what} not found at ${path} (point --path at the folder that holds it)`);
    this.name = 'DatasetMissingError';
    this.path = path;
  }
}

/** Fails with DatasetMissingError when `path` cannot be read. */
export async function requireFile(path: string, what: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new DatasetMissingError(path, what);
  }
}

/** Non-empty lines of a file, streamed; `encoding` 'latin1' for the MovieLens .dat files. */
export async function* readLines(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path, { encoding }), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') yield line;
}

/** MovieLens' age groups (users.dat codes; ml-100k ages fall into the same bands): the segment names both converters use. */
export function ageBand(age: number): string {
  if (!Number.isFinite(age)) return 'unknown';
  if (age < 18) return 'under18';
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 50) return '45-49';
  if (age < 56) return '50-55';
  return '56plus';
}

/** "Toy Story (1995)" → "1990s" (the brand slot carries the decade, as in the MovieLens-1M loader). */
export function decadeOf(title: string): string | undefined {
  const year = /\((\d{4})\)\s*$/.exec(title)?.[1];
  return year ? `${year.slice(0, 3)}0s` : undefined;
}

/**
 * One MovieLens movie as an import item (both data sets number movies alike): the first genre is the category,
 * all genres the tags, the release decade the brand; a blank title becomes `Movie <id>`.
 */
export function movieItem(id: string, rawTitle: string, genres: readonly string[], createdAt: number | undefined): ItemRow {
  const title = rawTitle.trim() || `Movie ${id}`;
  const brand = decadeOf(title);
  return {
    id: `m${id}`,
    title,
    ...(genres[0] ? { category: genres[0] } : {}),
    ...(brand ? { brand } : {}),
    image: `/img/m${id}.svg`,
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(genres.length > 0 ? { tags: [...genres] } : {}),
  };
}
