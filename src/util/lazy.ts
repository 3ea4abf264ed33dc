/**
 * Heavy client libraries (Sentry, nodemailer, Octokit) are loaded on first use, not when the
 * component registry is imported: a collector that does not configure them should neither pay
 * their start-up time nor carry them in memory.
 */
export function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  let loaded = false;
  return () => {
    if (!loaded) {
      value = load();
      loaded = true;
    }
    return value as T;
  };
}
