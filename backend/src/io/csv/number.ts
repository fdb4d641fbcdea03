/** 10^0 … 10^22: every one is a double exactly. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * A plain decimal cell ([+-] digits [. digits] [e[+-]digits], at most 15 significant digits, a
 * power of ten within ±22) parsed without Number()'s general path; undefined for anything else,
 * which the caller parses the general way. Equal to Number(s) bit for bit, −0 included: with the
 * digits m an exact integer (< 2^53) and 10^k exact, m × 10^k or m / 10^k is one correctly
 * rounded operation (Clinger's fast path), as Number() rounds the decimal once.
 */
export function plainDecimal(s: string): number | undefined {
  const n = s.length;
  let i = 0;
  let negative = false;
  const first = s.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = 1;
  }
  let mantissa = 0;
  let digits = 0;
  let significant = 0;
  let fraction = 0;
  let c = s.charCodeAt(i);
  for (; i < n && c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    if (mantissa !== 0) significant++;
  }
  if (c === 46 /* . */) {
    for (c = s.charCodeAt(++i); i < n && c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      fraction++;
      if (mantissa !== 0) significant++;
    }
  }
  if (digits === 0 || significant > 15) return undefined;
  let exponent = 0;
  if (i < n && (c === 101 || c === 69) /* e E */) {
    let expNegative = false;
    c = s.charCodeAt(++i);
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      c = s.charCodeAt(++i);
    }
    let expDigits = 0;
    for (; i < n && c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
      exponent = exponent * 10 + (c - 48);
      if (++expDigits > 3) return undefined;
    }
    if (expDigits === 0) return undefined;
    if (expNegative) exponent = -exponent;
  }
  if (i !== n) return undefined;
  const power = exponent - fraction;
  let v: number;
  if (power === 0) v = mantissa;
  else if (power > 0 && power <= 22) v = mantissa * POW10[power]!;
  else if (power < 0 && power >= -22) v = mantissa / POW10[-power]!;
  else return undefined;
  return negative ? -v : v;
}
