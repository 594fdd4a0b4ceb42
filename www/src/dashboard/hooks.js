// Hooks the components share. Loading data for a component: a call keyed by what it asks, its answer, its error, and whether
// it is loading. An answer is only ever shown for the key that asked it: while a new key loads,
// `data` is null (an old answer under new labels would read as wrong numbers), and an answer that
// comes back after the question changed is dropped.
import { useEffect, useRef, useState } from "preact/hooks";

export function useApi(call, key) {
  const [s, set] = useState({ key: null, data: null, error: null });
  useEffect(() => {
    if (key === null) return undefined;
    let live = true;
    call().then(
      (data) => live && set({ key, data, error: null }),
      (error) => live && set({ key, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  const current = s.key === key;
  return { loading: key !== null && !current, data: current ? s.data : null, error: current ? s.error : null };
}

/**
 * A modal `<dialog>`: shown when mounted, and `onClose` (the latest one given) run when it closes
 * (Escape, or its close button). Answers the ref for the element.
 */
export function useDialog(onClose) {
  const ref = useRef(null);
  const latest = useRef(onClose);
  latest.current = onClose;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const close = () => latest.current();
    d?.addEventListener("close", close);
    return () => d?.removeEventListener("close", close);
  }, []);
  return ref;
}
