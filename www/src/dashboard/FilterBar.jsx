// The filters in force, as chips one can remove; an editor for a new one (is, is not, contains,
// does not contain); the site's saved segments, applied as a filter, and saving the filters as one.
import { useState } from "preact/hooks";
import { DIMENSIONS, OPERATORS, describe } from "./filters.js";

function Editor({ onAdd, onCancel }) {
  const [dimension, setDimension] = useState("event:page");
  const [op, setOp] = useState("is");
  const [value, setValue] = useState("");
  return (
    <form
      class="filter-editor"
      aria-label="New filter"
      onSubmit={(e) => {
        e.preventDefault();
        const values = value.split("|").map((v) => v.trim()).filter(Boolean);
        if (values.length) onAdd([op, dimension, values]);
      }}
    >
      <label>
        Dimension{" "}
        <select value={dimension} onChange={(e) => setDimension(e.currentTarget.value)}>
          {Object.entries(DIMENSIONS).map(([d, label]) => (
            <option value={d} key={d}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Operator{" "}
        <select value={op} onChange={(e) => setOp(e.currentTarget.value)}>
          {Object.entries(OPERATORS).map(([o, label]) => (
            <option value={o} key={o}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Value <input value={value} required placeholder="a | b" onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <button type="submit">Apply</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

export function FilterBar({ state, navigate, segments, canSave, onSaveSegment }) {
  const [editing, setEditing] = useState(false);
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const plain = state.filters.filter((f) => !(f[0] === "is" && f[1] === "segment"));
  return (
    <div class="filter-bar">
      <ul class="chips" aria-label="Filters">
        {state.filters.map((f, i) => (
          <li class="chip" key={JSON.stringify(f)} data-filter={JSON.stringify(f)}>
            <span>{describe(f, segments)}</span>
            <button type="button" aria-label={`Remove filter ${describe(f, segments)}`} onClick={() => navigate({ filters: state.filters.filter((_, j) => j !== i) })}>
              ✕
            </button>
          </li>
        ))}
      </ul>
      {editing ? (
        <Editor
          onAdd={(f) => {
            setEditing(false);
            navigate({ filters: [...state.filters, f] });
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <button type="button" class="add-filter" onClick={() => setEditing(true)}>
          + Filter
        </button>
      )}
      {segments.length ? (
        <label class="segments">
          Segment{" "}
          <select
            value=""
            onChange={(e) => {
              const id = Number(e.currentTarget.value);
              if (id) navigate({ filters: [...state.filters.filter((f) => f[1] !== "segment"), ["is", "segment", [id]]] });
            }}
          >
            <option value="">Apply a segment…</option>
            {segments.map((s) => (
              <option value={s.id} key={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {plain.length && plain.length === state.filters.length ? (
        saving ? (
          <form
            class="save-segment"
            onSubmit={async (e) => {
              e.preventDefault();
              setError("");
              try {
                await onSaveSegment(name.trim(), plain);
                setSaving(false);
                setName("");
              } catch (err) {
                setError(err.message);
              }
            }}
          >
            <label>
              Segment name <input value={name} required maxLength={120} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button type="submit">Save</button>
            <button type="button" onClick={() => setSaving(false)}>
              Cancel
            </button>
            {error && (
              <span class="error" role="alert">
                {error}
              </span>
            )}
          </form>
        ) : (
          <button type="button" class="save-as-segment" disabled={!canSave} title={canSave ? "" : "Saving a segment needs the admin token"} onClick={() => setSaving(true)}>
            Save as segment
          </button>
        )
      ) : null}
    </div>
  );
}
