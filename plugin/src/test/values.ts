/** Template-variable values as the service returns them ({ text, value }), text = value. */
export const values = (...names: string[]) => names.map((n) => ({ text: n, value: n }));
