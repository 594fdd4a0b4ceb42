// Loading data for a component: a call keyed by what it asks, its latest answer, its error, and
// whether it is loading. An answer that comes back after the question changed is dropped.
import { useEffect, useState } from "preact/hooks";

export function useApi(call, key) {
  const [s, set] = useState({ loading: true, data: null, error: null });
  useEffect(() => {
    if (key === null) return undefined;
    let live = true;
    set((prev) => ({ ...prev, loading: true, error: null }));
    call().then(
      (data) => live && set({ loading: false, data, error: null }),
      (error) => live && set({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  return s;
}
