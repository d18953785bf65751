// The files a file input was given, the input emptied at once: choosing the same file again must fire `change`
// again (a retake, a second try after an error).
export function takeFiles(input: HTMLInputElement): File[] {
  const files = Array.from(input.files ?? []);
  input.value = '';
  return files;
}
