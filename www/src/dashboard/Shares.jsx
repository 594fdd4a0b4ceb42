// Share links: read-only links that open this dashboard without a token, optionally locked to a
// saved segment, listed and revoked here. Creating and revoking take the admin token; the secret
// of a link is shown once, when it is made (the collector keeps only its hash).
import { useState } from "preact/hooks";
import { useApi, useDialog } from "./hooks.js";
import { Status } from "./Status.jsx";

export function Shares({ api, site, segments, canManage, onClose }) {
  const dialog = useDialog(onClose);
  const [version, setVersion] = useState(0);
  const [name, setName] = useState("");
  const [segment, setSegment] = useState("");
  const [made, setMade] = useState(null);
  const [error, setError] = useState("");
  const path = `/api/sites/${encodeURIComponent(site)}/shares`;
  const list = useApi(() => api.get(path), `${site}|${version}`);
  const shares = list.data?.shares ?? [];
  return (
    <dialog ref={dialog} class="shares-view" aria-labelledby="shares-title">
      <div class="details-head">
        <h2 id="shares-title">Share links</h2>
        <button type="button" class="close" aria-label="Close" onClick={() => dialog.current?.close()}>
          ✕
        </button>
      </div>
      <p class="muted">A share link opens this site's dashboard read-only, without a token, until it is revoked.</p>
      {canManage ? (
        <form
          class="new-share"
          onSubmit={async (e) => {
            e.preventDefault();
            setError("");
            try {
              const body = { name: name.trim(), ...(segment ? { segment: Number(segment) } : {}) };
              const share = await api.post(path, body);
              setMade({ ...share, url: new URL(share.link, location.origin).href });
              setName("");
              setVersion((v) => v + 1);
            } catch (err) {
              setError(err.message);
            }
          }}
        >
          <label>
            Name <input value={name} required maxLength={120} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Locked to{" "}
            <select value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
              <option value="">the whole site</option>
              {segments.map((s) => (
                <option value={String(s.id)} key={s.id}>
                  segment {s.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Create link</button>
        </form>
      ) : (
        <p class="muted">Creating and revoking links needs the admin token.</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {made && (
        <p class="made" role="status">
          New link (shown once): <input class="share-url" readOnly value={made.url} aria-label="New share link" onFocus={(e) => e.currentTarget.select()} />
        </p>
      )}
      <Status loading={list.loading} error={list.error} empty={list.data && !shares.length}>
        {shares.length ? (
          <ul class="share-list">
            {shares.map((s) => (
              <li key={s.id} data-share={s.id}>
                <span>
                  {s.name}
                  {s.segment ? ` (segment ${segments.find((x) => x.id === s.segment)?.name ?? `#${s.segment}`})` : ""}
                </span>
                {canManage && (
                  <button
                    type="button"
                    class="revoke"
                    aria-label={`Revoke ${s.name}`}
                    onClick={async () => {
                      setError("");
                      try {
                        await api.del(`${path}/${s.id}`);
                      } catch (err) {
                        setError(`Could not revoke ${s.name}: ${err.message}`);
                      }
                      setVersion((v) => v + 1);
                    }}
                  >
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
        ) : null}
      </Status>
    </dialog>
  );
}
