-- 0010: server-side events (POST /api/sites/{site}/events, the site's write token).
--
-- `sender` is 'server' for an event a server sent (a payment webhook re-asserting a conversion),
-- NULL for a browser's beacon. A server's order id is trusted for the whole site: the consumer
-- counts an order once whichever side reported it first (core's dedupe stage), and this partial
-- index enforces it for servers in D1 (only server-sent orders pay for its entries).

ALTER TABLE events ADD COLUMN sender TEXT;
CREATE UNIQUE INDEX events_server_order ON events (site_id, name, order_id)
  WHERE order_id IS NOT NULL AND sender = 'server';
