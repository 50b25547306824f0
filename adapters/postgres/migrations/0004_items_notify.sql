-- Hand-written (drizzle-kit generate --custom): every statement that writes items (npm run import, PUT/DELETE
-- /v1/items, SQL by hand) sends NOTIFY catalog_changed, so each running origin (LISTEN) reloads the rows whose
-- updated_at moved at once instead of at its next poll. Statement-level: one notification per bulk write.
CREATE OR REPLACE FUNCTION items_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('catalog_changed', '');
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE ON items
  FOR EACH STATEMENT EXECUTE FUNCTION items_notify();
