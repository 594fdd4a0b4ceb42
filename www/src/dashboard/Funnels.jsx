// Funnels: the site's saved funnels, one shown with its visitors and drop-off per step over the
// page's range and filters, and a form to define a new one (the admin token's).
import { useState } from "preact/hooks";
import { useApi } from "./hooks.js";
import { funnelQuery } from "./queries.js";
import { whole } from "./format.js";
import { Status } from "./Status.jsx";

/** "page /path" or "event name" lines as funnel steps. */
export function parseSteps(text) {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [kind, ...rest] = l.split(/\s+/);
      const value = rest.join(" ");
      return kind === "event" ? { event: value } : { page: kind === "page" ? value : l };
    });
}

function NewFunnel({ onSave, onCancel }) {
  const [name, setName] = useState("");
  const [steps, setSteps] = useState("page /\nevent cart_add\nevent purchase");
  const [error, setError] = useState("");
  return (
    <form
      class="new-funnel"
      onSubmit={async (e) => {
        e.preventDefault();
        setError("");
        try {
          await onSave({ name: name.trim(), steps: parseSteps(steps) });
        } catch (err) {
          setError(err.message);
        }
      }}
    >
      <label>
        Name <input value={name} required maxLength={120} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Steps, one a line: <code>page /path/*</code> or <code>event name</code>
        <textarea rows={4} value={steps} onInput={(e) => setSteps(e.currentTarget.value)} />
      </label>
      <button type="submit">Save funnel</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function Steps({ api, site, state, today, id, refresh, ready }) {
  const body = funnelQuery(site, state, today, Number(id));
  const answer = useApi(() => api.query(body), ready ? JSON.stringify(body) + refresh : null);
  const steps = answer.data?.meta?.funnel?.steps ?? [];
  const top = Math.max(1, steps[0]?.visitors ?? 0);
  return (
    <Status loading={!ready || answer.loading} error={answer.error} empty={answer.data && !steps.length}>
      {steps.length ? (
        <ol class="funnel-steps">
          {steps.map((s) => (
            <li key={s.step} data-step={s.step} data-visitors={s.visitors} data-dropoff={s.dropoff}>
              <span class="step-label">{s.label}</span>
              <span class="bar" style={`--share:${Math.round((s.visitors / top) * 100)}%`} aria-hidden="true" />
              <span class="num">
                {whole.format(s.visitors)} visitors · {s.conversion_rate}%
              </span>
              {s.step > 1 && (
                <span class="dropoff">
                  −{whole.format(s.dropoff)} dropped ({s.dropoff_percentage}%)
                </span>
              )}
            </li>
          ))}
        </ol>
      ) : null}
    </Status>
  );
}

export function Funnels({ api, site, state, today, navigate, funnels, canSave, onSaved, refresh, ready }) {
  const [adding, setAdding] = useState(false);
  return (
    <section class="panel funnels" id="panel-funnels" aria-labelledby="funnels-title">
      <div class="panel-head">
        <h2 id="funnels-title">Funnels</h2>
        <label>
          <span class="visually-hidden">Funnel</span>
          <select value={state.funnel} onChange={(e) => navigate({ funnel: e.currentTarget.value })}>
            <option value="">Choose a funnel…</option>
            {funnels.map((f) => (
              <option value={String(f.id)} key={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="add-funnel" disabled={!canSave} title={canSave ? "" : "Defining a funnel needs the admin token"} onClick={() => setAdding(true)}>
          New funnel
        </button>
      </div>
      {adding && (
        <NewFunnel
          onCancel={() => setAdding(false)}
          onSave={async (def) => {
            const saved = await api.post(`/api/sites/${encodeURIComponent(site)}/funnels`, def);
            setAdding(false);
            await onSaved();
            navigate({ funnel: String(saved.id) });
          }}
        />
      )}
      {state.funnel ? (
        <Steps api={api} site={site} state={state} today={today} id={state.funnel} refresh={refresh} ready={ready} />
      ) : (
        <p class="state empty">{funnels.length ? "Choose a funnel to see its steps." : "No funnels yet."}</p>
      )}
    </section>
  );
}
