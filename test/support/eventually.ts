/** Polls `probe` until it stops throwing (or returns), or rethrows its last error after `timeoutMs`. */
export const eventually = async <T>(probe: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 100): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
};
