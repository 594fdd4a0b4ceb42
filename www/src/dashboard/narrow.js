// A range too long for what reads raw events. Props, revenue and web vitals are counted from raw
// events (exactly), and one answer reads at most 200 000 of them: a busy site's month holds more,
// and the API refuses it (400). Then the panel shows the last whole day instead, and says so.
// Once refused, the same question (whatever its page or order) is not asked again in this page:
// the refusal costs the collector a full read.
import { dateRange, tooManyRawEvents } from "./queries.js";

const refused = new Set();

/** The body's question over the last whole day. */
export function lastDay(body, today) {
  return { ...body, date_range: dateRange("yesterday", today) };
}

/**
 * Asks `body`; on the refusal of a range holding too many raw events, asks it over the last
 * whole day. Answers `{ answer, lastDay }`.
 */
export async function queryOrLastDay(api, body, today) {
  // The question without its page and order: what it reads.
  const key = JSON.stringify({ ...body, pagination: null, order_by: null });
  if (!refused.has(key)) {
    try {
      return { answer: await api.query(body), lastDay: false };
    } catch (e) {
      if (!tooManyRawEvents(e)) throw e;
      refused.add(key);
    }
  }
  return { answer: await api.query(lastDay(body, today)), lastDay: true };
}
