// Hands a file the app made (a history export, a shared head) to the browser's download, one way for every screen.

/** Saves `blob` as `name`; the object URL is released once the download has surely started. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
