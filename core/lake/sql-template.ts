/**
 * Fills `{{name}}` placeholders of a DDL template. Only for identifiers and locations chosen by the
 * stack itself, never for values that come from users or data: DDL cannot take query parameters, and
 * query values always go through `?` execution parameters instead.
 */
export function renderSqlTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const rendered = template.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return value;
  });
  if (missing.size > 0) throw new Error(`SQL template needs values for: ${[...missing].join(', ')}`);
  return rendered;
}

/** Removes `--` comment lines and surrounding blank space (Athena runs one statement per call). */
export function stripSqlComments(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .trim();
}
