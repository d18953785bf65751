// Replaces the text between `<!-- NAME -->` and `<!-- /NAME -->` in a Markdown file (appending the section, with
// its markers, when the file has none yet): how the tools write their tables into docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeMarkedSection(file: string, name: string, content: string, heading: string): void {
  const begin = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const doc = readFileSync(file, 'utf8');
  const block = `${begin}\n<!-- written by a tool from its JSON output; do not edit -->\n${content.trim()}\n${end}`;
  const start = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  const next = start >= 0 && stop > start
    ? doc.slice(0, start) + block + doc.slice(stop + end.length)
    : `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(file, next);
}
