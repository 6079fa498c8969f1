/**
 * A text[] parameter written as PostgreSQL's array literal, for the group statement's columns.
 * What pg does for a JS array, with the common case made cheap: an element without `"` or `\`
 * goes between quotes as it is (pg runs two regex replacements on every element), and a column
 * that is all NULL is sent as NULL (the multi-argument unnest pads it with NULLs).
 */
export function textArrayParam(values: readonly (string | null)[]): string | null {
  let literal = '{';
  let allNull = true;
  for (let index = 0; index < values.length; index++) {
    if (index > 0) literal += ',';
    const value = values[index] ?? null;
    if (value === null) {
      literal += 'NULL';
      continue;
    }
    allNull = false;
    // Quoted always: unquoted, `NULL` or an empty string would mean something else.
    literal += value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
  }
  return allNull ? null : `${literal}}`;
}
