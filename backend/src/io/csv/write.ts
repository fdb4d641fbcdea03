import { open, rename, rm } from 'node:fs/promises';

/** Quotes a CSV field only when it needs it (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Writes a CSV atomically: rows go to a temporary file beside the target, which is renamed over
 * it at the end, so a failure half-way never leaves a half-written output. Rows are produced
 * lazily and written in large chunks.
 */
export async function writeCsvAtomic(
  file: string,
  header: readonly string[],
  rows: Iterable<readonly string[]>,
): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    let chunk = `${header.map(csvField).join(',')}\n`;
    for (const row of rows) {
      chunk += `${row.map(csvField).join(',')}\n`;
      if (chunk.length > 1 << 20) {
        await handle.write(chunk);
        chunk = '';
      }
    }
    await handle.write(chunk);
    await handle.close();
    await rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}
