-- 0015: a tenant's own token (SHA-256 hex, like the sites' tokens; none until the admin makes one
-- with POST /api/admin/tenants/{id}/token). It opens the personal-data requests of the tenant's
-- sites (export, erasure of one person), and nothing else, without the global ADMIN_TOKEN.
ALTER TABLE tenants ADD COLUMN token_hash TEXT;
