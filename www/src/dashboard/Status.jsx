// The three states a panel can be in besides showing data: loading, empty, failed.

export function Status({ loading, error, empty, children }) {
  if (error) {
    return (
      <p class="state error" role="alert">
        Could not load: {error.message}
      </p>
    );
  }
  if (loading && !children) return <p class="state loading" aria-busy="true">Loading…</p>;
  if (empty) return <p class="state empty">No data for this range and these filters.</p>;
  return <div aria-busy={loading ? "true" : "false"}>{children}</div>;
}
