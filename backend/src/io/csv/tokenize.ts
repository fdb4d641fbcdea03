/**
 * Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, quotes as "" and
 * line breaks; CRLF or LF line ends). Calls `onRecord` with the fields and the 1-based line where
 * the record starts. Unquoted fields are sliced straight from the text, which keeps the common
 * all-numeric file fast.
 */
export function tokenizeCsv(text: string, onRecord: (fields: string[], line: number) => void): void {
  const QUOTE = 34;
  const COMMA = 44;
  const LF = 10;
  const CR = 13;
  const n = text.length;
  let i = 0;
  let line = 1;
  // A leading byte-order mark is not part of the first column's name.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        let parts = '';
        let from = ++i;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) {
            // An unterminated quote runs to the end of the file; keep what is there.
            parts += text.slice(from);
            i = n;
            break;
          }
          parts += text.slice(from, q);
          if (text.charCodeAt(q + 1) === QUOTE) {
            parts += '"';
            from = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        for (let k = 0; k < parts.length; k++) if (parts.charCodeAt(k) === LF) line++;
        value = parts;
        // Anything between the closing quote and the delimiter is kept, as spreadsheets do.
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          i++;
        }
        if (i > start) value += text.slice(start, i);
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR) i++;
      if (text.charCodeAt(i) === LF) i++;
      line++;
      break;
    }
    // Blank lines (a lone empty field) are skipped: editors leave them at the end of files.
    if (!(fields.length === 1 && fields[0] === '')) onRecord(fields, startLine);
  }
}
