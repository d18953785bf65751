// A field's name (the plot a check is filed under): used on the first screen, so it lives apart from the import and
// export code, which load only when History asks for them.
export const FIELD_MAX_LENGTH = 80;

/** Trimmed, inner whitespace collapsed, at most FIELD_MAX_LENGTH characters; '' when nothing is left. */
export function normaliseFieldName(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value.trim().replace(/\s+/g, ' ').slice(0, FIELD_MAX_LENGTH);
}
