/** Resolves in a later task (a macrotask, not a microtask), so the browser can paint and handle input in between:
 * long start-up or copy work yields with it so that no single main-thread task holds a slow phone for long. */
export function nextTask(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}
