import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes (and on reload()), dropping answers that arrive after a
 * newer request: the page shows the latest data, its error, or that it is loading.
 */
export const useLoaded = <T>(load: () => Promise<T>, key: string): Loaded<T> => {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  // Reloads when `key` changes: it names what `load` reads.
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    load()
      .then((value) => {
        if (mine === generation.current) setData(value);
      })
      .catch((failure: unknown) => {
        if (mine === generation.current) setError(failure instanceof Error ? failure.message : String(failure));
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
  }, [key]);
  useEffect(reload, [reload]);
  return { data, error, loading, reload };
};

/** An operator's action in flight: whether it runs, and its error, said plainly. */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  /** Forgets the last error (the operator moved on). */
  const reset = () => setError(undefined);
  return { busy, error, run, reset };
};
