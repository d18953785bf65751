// Class labels of a head: shipped class ids (`[a-z0-9_]+`, translated by the app) and classes taught on a
// phone, whose label is the name the farmer typed, in any language (docs/model-contract.md, "Taught classes").
import { CONTRACT } from './contract';

export type ClassNameProblem = 'empty' | 'too-long' | 'control-characters' | 'duplicate';

/** The name as stored: Unicode NFC, runs of white space made one space, trimmed. */
export function cleanClassName(raw: string): string {
  return raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

/** Case- and accent-insensitive key, so "Antracnosis", "antracnosis " and "ANTRACNOSIS" are one name. */
export function classNameKey(name: string): string {
  return cleanClassName(name).normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase('und');
}

/** Why `name` (already cleaned) cannot be a taught label next to `taken` (labels and the names people see
 * for them, e.g. the translated names of shipped classes), or null when it can. */
export function classNameProblem(name: string, taken: readonly string[]): ClassNameProblem | null {
  if (name.length === 0) return 'empty';
  if ([...name].length > CONTRACT.taught_label_max_length) return 'too-long';
  if (/\p{Cc}|\p{Cf}/u.test(name) || name !== cleanClassName(name)) return 'control-characters';
  const key = classNameKey(name);
  if (taken.some((t) => classNameKey(t) === key || classNameKey(t.replaceAll('_', ' ')) === key)) return 'duplicate';
  return null;
}

/** The labels of taught classes listed in a head's `taught.classes` (empty when it has none). */
export function taughtLabelsOf(json: Record<string, unknown>): string[] {
  const taught = json.taught;
  if (typeof taught !== 'object' || taught === null || !Array.isArray((taught as { classes?: unknown }).classes)) return [];
  return ((taught as { classes: unknown[] }).classes)
    .map((c) => (typeof c === 'object' && c !== null ? (c as { label?: unknown }).label : undefined))
    .filter((l): l is string => typeof l === 'string');
}

/** Checks a head's labels: 2 … max_classes of them, unique (taught ones also case-insensitively), each a shipped
 * id or a taught label listed in `taught.classes`. Returns the problem in words, or null. */
export function labelsProblem(labels: unknown, json: Record<string, unknown>): string | null {
  if (!Array.isArray(labels) || labels.length < 2) return 'labels must list at least 2 classes';
  const idPattern = new RegExp(CONTRACT.label_pattern);
  const taught = new Set(taughtLabelsOf(json));
  const seen: string[] = [];
  for (const label of labels) {
    if (typeof label !== 'string') return `label ${JSON.stringify(label)} is not a string`;
    if (taught.has(label)) {
      const problem = classNameProblem(label, seen);
      if (problem) return `taught label ${JSON.stringify(label)}: ${problem}`;
    } else if (!idPattern.test(label)) {
      return `label ${JSON.stringify(label)} does not match ${CONTRACT.label_pattern} and is not a taught class`;
    } else if (seen.includes(label)) {
      return 'labels are not unique';
    }
    seen.push(label);
  }
  return null;
}
