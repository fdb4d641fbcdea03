/**
 * Input quoted in an error message, cut to a short excerpt: a 200 MB CSV cell or a megabyte-long
 * tag value must not come back whole in a message, a log line or an HTTP answer. Line breaks are
 * shown as \n so the message stays one line.
 */
export function excerpt(text: string, max = 80): string {
  const flat = text.replace(/\r?\n|\r/g, '\\n');
  if (flat.length <= max) return flat;
  return `${flat.slice(0, max)}… (${(text.length - max).toLocaleString('en-US')} more characters)`;
}

/** `excerpt` in double quotes, JSON style, for names that may hold spaces or quotes. */
export function quoted(text: string, max = 80): string {
  const json = JSON.stringify(text);
  if (json.length <= max + 2) return json;
  return `${JSON.stringify(text.slice(0, max))}… (${(text.length - max).toLocaleString('en-US')} more characters)`;
}

/**
 * A whole message made safe to show: one line, at most `max` characters. The last guard for
 * messages that quote input without `excerpt` (ours and other libraries').
 */
export function oneLineMessage(message: string, max = 500): string {
  return excerpt(message.trim(), max);
}
