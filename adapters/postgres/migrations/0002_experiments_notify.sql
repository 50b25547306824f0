-- Hand-written (drizzle-kit generate --custom): every write to experiments, through the API or by hand in SQL,
-- sends NOTIFY experiments_changed with the experiment id, so each running origin (LISTEN, see
-- adapters/postgres/listen.ts) reloads its definitions at once instead of at the next EXPERIMENTS_REFRESH_MS poll.
CREATE OR REPLACE FUNCTION experiments_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('experiments_changed', COALESCE(NEW.id, OLD.id));
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER experiments_changed AFTER INSERT OR UPDATE OR DELETE ON experiments
  FOR EACH ROW EXECUTE FUNCTION experiments_notify();
