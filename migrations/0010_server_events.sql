-- 0010: server-side events (POST /api/sites/{site}/events, the site's write token).
--
-- `sender` is 'server' for an event a server sent (a payment webhook re-asserting a conversion),
-- NULL for a browser's beacon. The consumer counts a webhook's order and the buyer's beacon once,
-- whichever came first (core's dedupe stage says when two reports are one), and this partial
-- index holds one server report per order in D1 (only server-sent orders pay for its entries).

ALTER TABLE events ADD COLUMN sender TEXT;
CREATE UNIQUE INDEX events_server_order ON events (site_id, name, order_id)
  WHERE order_id IS NOT NULL AND sender = 'server';
